"""Input checks shared by the channel modules: fail early, naming the frame and the column."""

from collections.abc import Iterable

import polars as pl


def require_columns(frame: pl.DataFrame, columns: Iterable[str], frame_name: str) -> None:
    """Raise ``ValueError`` listing every column of ``columns`` missing from ``frame``.

    Args:
        frame: The frame to check.
        columns: Column names the caller needs.
        frame_name: Name used in the error message (e.g. ``"touchpoints"``).
    """
    missing = [name for name in columns if name not in frame.columns]
    if missing:
        raise ValueError(f"{frame_name} is missing required column(s): {', '.join(missing)}")

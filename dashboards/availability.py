"""Decide whether a mart can feed a section, and say why not in the reader's language."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from dashboards.labels import label


def unavailable_reason(
    marts: Mapping[str, pl.DataFrame | None],
    mart: str,
    required_columns: Sequence[str],
    language: str,
) -> str | None:
    """Return why ``mart`` cannot be used (missing, empty, lacking columns), or None when it can."""
    frame = marts.get(mart)
    if frame is None:
        return label("reason_missing_mart", language, mart=mart)
    missing = [column for column in required_columns if column not in frame.columns]
    if missing:
        return label("reason_missing_columns", language, mart=mart, columns=", ".join(missing))
    if frame.height == 0:
        return label("reason_empty_mart", language, mart=mart)
    return None

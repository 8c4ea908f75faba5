"""Minimum group size: no dashboard shows a group of fewer people than configured."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from dashboards.labels import label
from dashboards.page_settings import DashboardSettings


@dataclass(frozen=True)
class Suppressed:
    """Rows of the groups that may be shown, and how many groups were hidden."""

    kept: pl.DataFrame
    hidden_groups: int


def suppress_small_groups(
    frame: pl.DataFrame,
    group_columns: list[str],
    size_column: str,
    min_group_size: int,
) -> Suppressed:
    """Drop every group whose size is below ``min_group_size``.

    A group's size is the largest ``size_column`` among its rows (a cohort repeats its size on every
    period row). A null size cannot be shown to be large enough, so it is hidden too.

    Args:
        frame: rows to filter, possibly several per group.
        group_columns: columns that identify a group.
        size_column: number of people (or conversions) in the group.
        min_group_size: smallest group that may be shown.

    Returns:
        The rows of large-enough groups, in their original order, and the number of hidden groups.
    """
    sizes = frame.group_by(group_columns).agg(pl.col(size_column).max().alias("__group_size"))
    allowed = sizes.filter(pl.col("__group_size") >= min_group_size).select(group_columns)
    kept = frame.join(allowed, on=group_columns, how="semi", nulls_equal=True, maintain_order="left")
    return Suppressed(kept=kept, hidden_groups=sizes.height - allowed.height)


def hidden_note(hidden: int, note_key: str, settings: DashboardSettings) -> tuple[str, ...]:
    """The note saying how many groups were hidden (``note_key`` names the kind), or nothing."""
    if hidden == 0:
        return ()
    return (label(note_key, settings.language, count=hidden, n=settings.min_group_size),)


def all_suppressed_reason(settings: DashboardSettings) -> str:
    """Why a section shows nothing: every group was below the minimum size."""
    return label("reason_all_suppressed", settings.language, n=settings.min_group_size)

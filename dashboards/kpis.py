"""Headline tiles from `marts.metric_values`: each metric's value, its like-for-like change and its target.

The values are the mart's, never recomputed here. What a tile adds is reading: the change against the
previous period (only when the data covers that period from its first day, and in percentage points for
shares), whether that change is good (the registry's `better`), and how far the value is from its target in
the direction the registry gives (`at_least`: a floor; `at_most`: a ceiling), a monthly target of a sum being
prorated to the part of the month the period covers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import polars as pl

from dashboards.metric_text import metric

METRIC_VALUES_COLUMNS = ["metric", "period", "period_start", "period_end", "value", "complete", "month_share"]
# The executive page's tiles, in reading order: acquisition, activation, activity, retention, money, unit economics.
EXECUTIVE_TILES = ("new_users", "new_customers", "activation_rate", "active_users", "transacting_users",
                   "month1_retention", "txn_amount", "revenue", "spend", "cac", "ltv", "ltv_to_cac")
# The index headline: what a reader wants first.
INDEX_TILES = ("new_users", "activation_rate", "month1_retention", "revenue", "cac", "ltv_to_cac")
# Metrics that cannot be known without marketing spend.
SPEND_METRICS = ("spend", "cac", "ltv_to_cac")


@dataclass(frozen=True)
class HeadlineTile:
    """One headline metric: the current period's value against the previous period's and the target."""

    metric_id: str
    value: float | None
    previous: float | None
    start: date | None
    end: date | None
    previous_start: date | None
    previous_end: date | None
    complete: bool
    previous_complete: bool
    month_share: float | None
    target: float | None = None
    missing_reason: str | None = None  # label key saying why `value` is missing (e.g. no spend source)

    @property
    def unit(self) -> str:
        return metric(self.metric_id).unit

    @property
    def change(self) -> float | None:
        """Relative change (shares: difference in points) when the data covers both periods from their first day."""
        if self.value is None or self.previous is None or not (self.complete and self.previous_complete):
            return None
        if self.unit == "share":
            return self.value - self.previous
        return None if self.previous == 0 else self.value / self.previous - 1.0

    @property
    def change_is_good(self) -> bool | None:
        """Whether the change goes the way the registry calls better (None: no change or no direction)."""
        better = metric(self.metric_id).better
        if self.change is None or self.change == 0 or better == "neither":
            return None
        return (self.change > 0) == (better == "higher")

    @property
    def target_to_date(self) -> float | None:
        """The target for this period: a monthly target of a sum scaled to the part of the month covered."""
        if self.target is None:
            return None
        if metric(self.metric_id).prorate and self.month_share is not None:
            return self.target * min(self.month_share, 1.0)
        return self.target

    @property
    def target_gap(self) -> float | None:
        """How far the value is from the target in the good direction: positive is better than target."""
        target = self.target_to_date
        if target is None or self.value is None or target == 0:
            return None
        if metric(self.metric_id).target == "at_most":
            return 1.0 - self.value / target
        return self.value / target - 1.0


def headline_tiles(metric_values: pl.DataFrame, metric_ids: tuple[str, ...],
                   targets: Mapping[str, float] | None = None) -> list[HeadlineTile]:
    """The tiles of `metric_ids` (those present in the mart), values as the mart holds them."""
    targets = dict(targets or {})
    rows = {(row["metric"], row["period"]): row for row in metric_values.iter_rows(named=True)}
    spend = rows.get(("spend", "current"))
    no_spend = spend is not None and spend["value"] is None
    tiles = []
    for metric_id in metric_ids:
        current, previous = rows.get((metric_id, "current")), rows.get((metric_id, "previous"))
        if current is None:
            continue
        previous = previous or {}
        tiles.append(HeadlineTile(
            metric_id=metric_id, value=current["value"], previous=previous.get("value"),
            start=current["period_start"], end=current["period_end"],
            previous_start=previous.get("period_start"), previous_end=previous.get("period_end"),
            complete=bool(current["complete"]), previous_complete=bool(previous.get("complete")),
            month_share=current["month_share"],
            target=targets.get(metric_id) if metric(metric_id).target is not None else None,
            missing_reason=("no_spend_data" if no_spend and metric_id in SPEND_METRICS else "no_data")
            if current["value"] is None else None,
        ))
    return tiles

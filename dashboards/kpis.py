"""KPI tiles for the executive page: latest 7 and 30 days, with week-over-week change."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

import polars as pl

KpiKind = Literal["count", "money", "ratio"]

# Daily user counts are not additive across days (the same person is active on many days),
# so windows report their daily average; flows such as money and sign-ups are summed.
_WINDOW_AGGREGATES = {
    "new_users": pl.col("new_users").cast(pl.Float64).sum(),
    "active_users": pl.col("active_users").cast(pl.Float64).mean(),
    "transacting_users": pl.col("transacting_users").cast(pl.Float64).mean(),
    "txn_amount": pl.col("txn_amount").cast(pl.Float64).sum(),
    "revenue": pl.col("revenue").cast(pl.Float64).sum(),
    "spend": pl.col("spend").cast(pl.Float64).sum(),
}

KPI_DAILY_COLUMNS = ("date", *_WINDOW_AGGREGATES)


@dataclass(frozen=True)
class KpiTile:
    """One tile: a metric over the latest 7 and 30 days, its change against the week and the 30 days
    before, and its 30-day target when one is set."""

    key: str
    kind: KpiKind
    last_7_days: float | None
    last_30_days: float | None
    week_over_week: float | None
    # None for metrics that are neither good nor bad when they rise (spend).
    higher_is_better: bool | None = True
    month_over_month: float | None = None
    target: float | None = None

    @property
    def target_attainment(self) -> float | None:
        """30-day value over target (for lower-is-better metrics, target over value); None without both."""
        if self.target is None or self.last_30_days is None:
            return None
        if self.higher_is_better is False:
            return self.target / self.last_30_days if self.last_30_days else None
        return self.last_30_days / self.target


@dataclass(frozen=True)
class KpiSummary:
    """All tiles plus the last date they cover."""

    latest_date: date
    tiles: list[KpiTile]


def _window_values(kpi_daily: pl.DataFrame, latest: date, offset_days: int, days: int) -> dict | None:
    """Aggregates over ``days`` days ending ``offset_days`` before ``latest``; None if history is too short."""
    end = latest - timedelta(days=offset_days)
    start = end - timedelta(days=days - 1)
    if kpi_daily["date"].min() > start:
        return None
    window = kpi_daily.filter(pl.col("date").is_between(start, end))
    values = window.select(**_WINDOW_AGGREGATES).row(0, named=True)
    values["cac"] = _cac(values["spend"], values["new_users"])
    return values


def _cac(spend: float | None, new_users: float | None) -> float | None:
    # Zero spend usually means no spend data, not free acquisition: show nothing rather than ¥0.
    if not spend or not new_users:
        return None
    return spend / new_users


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def _change(current: float | None, previous: float | None) -> float | None:
    if current is None or not previous:
        return None
    return current / previous - 1.0


def compute_kpi_summary(kpi_daily: pl.DataFrame, average_ltv: float | None,
                        targets: Mapping[str, float] | None = None) -> KpiSummary:
    """Build the executive KPI tiles.

    Args:
        kpi_daily: one row per day with the ``kpi_daily`` mart columns; must not be empty.
        average_ltv: mean customer lifetime value (from ``user_clv``), or None when unknown.
        targets: 30-day targets by tile key (see ``dashboards.targets``); tiles without one show none.

    Returns:
        The latest date and nine tiles; a value is None when the history is too short or a
        denominator is zero (shown as a dash, never as an invented number).
    """
    latest = kpi_daily["date"].max()
    last_7 = _window_values(kpi_daily, latest, 0, 7)
    previous_7 = _window_values(kpi_daily, latest, 7, 7)
    last_30 = _window_values(kpi_daily, latest, 0, 30)
    previous_30 = _window_values(kpi_daily, latest, 30, 30)
    targets = dict(targets or {})

    def pick(values: dict | None, key: str) -> float | None:
        return None if values is None else values[key]

    tiles = [
        KpiTile(
            key=key,
            kind=kind,
            last_7_days=pick(last_7, key),
            last_30_days=pick(last_30, key),
            week_over_week=_change(pick(last_7, key), pick(previous_7, key)),
            higher_is_better={"cac": False, "spend": None}.get(key, True),
            month_over_month=_change(pick(last_30, key), pick(previous_30, key)),
            target=targets.get(key),
        )
        for key, kind in (
            ("new_users", "count"),
            ("active_users", "count"),
            ("transacting_users", "count"),
            ("txn_amount", "money"),
            ("revenue", "money"),
            ("spend", "money"),
            ("cac", "money"),
        )
    ]
    tiles.append(KpiTile("avg_ltv", "money", average_ltv, average_ltv, None, target=targets.get("avg_ltv")))
    tiles.append(
        KpiTile(
            "ltv_to_cac",
            "ratio",
            _ratio(average_ltv, pick(last_7, "cac")),
            _ratio(average_ltv, pick(last_30, "cac")),
            _change(_ratio(average_ltv, pick(last_7, "cac")), _ratio(average_ltv, pick(previous_7, "cac"))),
            month_over_month=_change(_ratio(average_ltv, pick(last_30, "cac")), _ratio(average_ltv, pick(previous_30, "cac"))),
            target=targets.get("ltv_to_cac"),
        )
    )
    return KpiSummary(latest_date=latest, tiles=tiles)

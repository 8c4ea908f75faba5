"""`marts.metric_values`: every headline metric of the registry, for the current and the previous period.

Each metric is computed the way its registry entry says (`aggregate` over the column it `reads`, or its
`formula` over two other headline metrics), for the periods of :mod:`metrics.periods`. A value the data cannot
give is null, never 0: a source that is absent or empty, a period the source does not cover, a ratio whose
denominator is 0. `complete` says whether the source covers the period from its first day, so a comparison
with a previous period the data only partly holds is not read as a change.
"""

from __future__ import annotations

import calendar
from datetime import date

import duckdb
import polars as pl

from metrics.periods import Period, headline_periods
from metrics.registry import Metric, Registry
from warehouse import load_query

METRIC_VALUES_SCHEMA = {
    "metric": pl.String, "period": pl.String, "period_start": pl.Date, "period_end": pl.Date,
    "value": pl.Float64, "numerator": pl.Float64, "denominator": pl.Float64, "complete": pl.Boolean,
    "month_share": pl.Float64, "unit": pl.String,
}
PERIODS = ("current", "previous")


def metric_values(conn: duckdb.DuckDBPyConnection, registry: Registry, as_of: date) -> pl.DataFrame:
    """One row per headline metric × period (`current`, `previous`), in registry order (METRIC_VALUES_SCHEMA).

    Args:
        conn: the warehouse, holding the tables the metrics read.
        registry: the metric registry.
        as_of: the analysis date; the current period is its month to date.
    """
    periods = headline_periods(as_of)
    by_period = {"current": periods.current, "previous": periods.previous}
    computed: dict[tuple[str, str], dict] = {}
    for metric in registry.headline:
        if metric.aggregate == "cohort_cell":
            rows = _cohort_cell(conn, metric)
        elif metric.formula is not None:
            numerator_id, denominator_id = metric.ratio_of
            rows = {name: _ratio(computed[(numerator_id, name)], computed[(denominator_id, name)], by_period[name])
                    for name in PERIODS}
        else:
            rows = {name: _aggregate(conn, metric, by_period[name]) for name in PERIODS}
        for name in PERIODS:
            computed[(metric.id, name)] = {"metric": metric.id, "period": name, "unit": metric.unit, **rows[name]}
    return pl.DataFrame([computed[(metric.id, name)] for metric in registry.headline for name in PERIODS],
                        schema=METRIC_VALUES_SCHEMA, orient="row")


def _query(kind: str, metric: Metric) -> str:
    identifiers = {"table": metric.table, "column": metric.column, "date": metric.date, "per": metric.per}
    return load_query("metrics", kind).format(**identifiers)


def _aggregate(conn: duckdb.DuckDBPyConnection, metric: Metric, period: Period) -> dict:
    kind = "sum_per" if metric.aggregate == "sum" and metric.per else metric.aggregate
    numerator, denominator, covered_from = conn.execute(
        _query(kind, metric), {"start": period.start, "end": period.end}).fetchone()
    if kind in ("sum", "count_distinct"):
        value = numerator
    else:  # a ratio of sums, or a mean: null when nothing is there to divide by
        value = numerator / denominator if numerator is not None and denominator else None
    complete = covered_from is not None and covered_from <= period.start
    return _row(period, value if covered_from is not None else None, numerator, denominator, complete)


def _ratio(numerator: dict, denominator: dict, period: Period) -> dict:
    top, bottom = numerator["value"], denominator["value"]
    value = top / bottom if top is not None and bottom else None
    return _row(period, value, top, bottom, numerator["complete"] and denominator["complete"])


def _cohort_cell(conn: duckdb.DuckDBPyConnection, metric: Metric) -> dict[str, dict]:
    found = conn.execute(_query("cohort_cell", metric), {"period": metric.period}).fetchall()
    rows = {}
    for name, index in zip(PERIODS, range(2), strict=True):
        if index < len(found):
            cohort, numerator, denominator, value = found[index]
            start = date.fromisoformat(f"{cohort}-01")
            period = Period(start, _month_end(start, metric.period))
            rows[name] = _row(period, value, numerator, denominator, True)
        else:
            rows[name] = {"period_start": None, "period_end": None, "value": None, "numerator": None,
                          "denominator": None, "complete": False, "month_share": None}
    return rows


def _month_end(start: date, months_later: int) -> date:
    """The last day of the month `months_later` months after the month of `start`."""
    month_index = start.year * 12 + start.month - 1 + months_later
    year, month = divmod(month_index, 12)
    return date(year, month + 1, calendar.monthrange(year, month + 1)[1])


def _row(period: Period, value: float | None, numerator: float | None, denominator: float | None,
         complete: bool) -> dict:
    return {"period_start": period.start, "period_end": period.end, "value": value, "numerator": numerator,
            "denominator": denominator, "complete": complete, "month_share": period.month_share}


"""Cohort retention tables: share of each signup cohort purchasing in each later period."""

from __future__ import annotations

from datetime import date

import polars as pl

_PERIODS = ("month", "week")


def cohort_retention(
    users: pl.DataFrame, purchases: pl.DataFrame, as_of: date, period: str = "month"
) -> pl.DataFrame:
    """Retention per cohort and period offset.

    A user belongs to the cohort of the period containing ``cohort_date``. A user counts as
    retained in period k if they purchased at least once in the k-th period after their cohort
    period (period 0 is the cohort period itself). Purchases before the user's ``cohort_date``,
    after ``as_of``, or by users absent from ``users`` are not counted; users whose
    ``cohort_date`` is after ``as_of`` have no elapsed period and do not appear.

    Purchases are known from the first purchase date in ``purchases`` on: a period that ends before it
    (a cohort that signed up before the purchase history begins) has null ``retained``,
    ``retention_rate`` and revenue, never 0. ``period_complete`` says whether the period had fully
    elapsed by ``as_of`` (the latest period of every cohort usually has not).

    Args:
        users: ``user_id`` and ``cohort_date`` (local ``pl.Date``), one row per user.
        purchases: ``user_id`` and ``txn_date`` (local ``pl.Date``), completed purchases; with a
            ``revenue`` column the table also carries revenue per period and revenue retention.
        as_of: analysis date; periods that have fully or partly elapsed by it are reported.
        period: "month" (cohort label "YYYY-MM") or "week" (weeks start on Monday; label is the
            Monday's date "YYYY-MM-DD").

    Returns:
        One row per cohort x period, sorted: ``cohort`` (str), ``period`` (Int64), ``users``
        (Int64), ``retained`` (Int64), ``retention_rate`` (Float64), ``period_complete`` (Boolean), and
        with revenue ``revenue`` (Float64) and ``revenue_retention`` (Float64, revenue over the cohort's
        period-0 revenue; null when that is zero or unknown). Every elapsed period is present, with 0
        retained when nobody purchased and null when the period lies before the purchase history.
    """
    if period not in _PERIODS:
        raise ValueError(f"period must be one of {_PERIODS}, got {period!r}")
    for frame, name, date_col in ((users, "users", "cohort_date"), (purchases, "purchases", "txn_date")):
        missing = {"user_id", date_col} - set(frame.columns)
        if missing:
            raise ValueError(f"{name} lacks column(s): {sorted(missing)}")
        if frame.schema[date_col] != pl.Date:
            raise ValueError(f"{name}.{date_col} must be pl.Date, got {frame.schema[date_col]}")
    if users["cohort_date"].null_count() or users["user_id"].null_count():
        raise ValueError("users has null user_id or cohort_date")
    if users["user_id"].n_unique() != users.height:
        raise ValueError("users must hold one row per user_id")

    cohort_users = users.filter(pl.col("cohort_date") <= as_of).select(
        "user_id",
        "cohort_date",
        _period_start(pl.col("cohort_date"), period).alias("cohort_start"),
    )
    as_of_start = pl.lit(as_of).pipe(_period_start, period)
    cohort_sizes = cohort_users.group_by("cohort_start").agg(
        pl.len().cast(pl.Int64).alias("users"),
        _period_offset(as_of_start, pl.col("cohort_start").first(), period).alias("last_period"),
    )
    grid = cohort_sizes.select(
        "cohort_start", "users", pl.int_ranges(0, pl.col("last_period") + 1, dtype=pl.Int64).alias("period")
    ).explode("period", empty_as_null=False)  # ranges are never empty: last_period >= 0

    has_revenue = "revenue" in purchases.columns
    active = (
        purchases.filter(pl.col("txn_date") <= as_of)
        .join(cohort_users, on="user_id", how="inner")
        .filter(pl.col("txn_date") >= pl.col("cohort_date"))
        .with_columns(
            _period_offset(_period_start(pl.col("txn_date"), period), pl.col("cohort_start"), period).alias("period")
        )
        .group_by("cohort_start", "period")
        .agg(
            pl.col("user_id").n_unique().cast(pl.Int64).alias("retained"),
            *([pl.col("revenue").cast(pl.Float64).sum().alias("revenue")] if has_revenue else []),
        )
    )
    label_format = "%Y-%m" if period == "month" else "%Y-%m-%d"
    history_from = purchases.select(pl.col("txn_date").filter(pl.col("txn_date") <= as_of).min()).item()
    step = "mo" if period == "month" else "w"
    # The first day after the period: period k of a cohort runs from its start to the day before this.
    period_after = pl.col("cohort_start").dt.offset_by(pl.format("{}" + step, pl.col("period") + 1))
    known = pl.lit(history_from is not None) & (period_after > pl.lit(history_from, dtype=pl.Date))
    table = (
        grid.join(active, on=["cohort_start", "period"], how="left")
        .with_columns(
            pl.when(known).then(pl.col("retained").fill_null(0)).alias("retained"),
            (period_after <= pl.lit(as_of) + pl.duration(days=1)).alias("period_complete"),
            known.alias("_known"),
        )
        .sort("cohort_start", "period")
    )
    revenue_columns = []
    if has_revenue:
        # Revenue retention compares each period with the cohort's first period, as finance teams read it.
        first_period_revenue = pl.col("revenue").filter(pl.col("period") == 0).first().over("cohort_start")
        revenue = pl.when(pl.col("_known")).then(pl.col("revenue").fill_null(0.0))
        revenue_columns = [
            revenue.alias("revenue"),
            (revenue / pl.when(first_period_revenue > 0).then(first_period_revenue)).alias("revenue_retention"),
        ]
    return table.select(
        pl.col("cohort_start").dt.strftime(label_format).alias("cohort"),
        "period",
        "users",
        "retained",
        (pl.col("retained") / pl.col("users")).cast(pl.Float64).alias("retention_rate"),
        "period_complete",
        *revenue_columns,
    )

def _period_start(dates: pl.Expr, period: str) -> pl.Expr:
    return dates.dt.truncate("1mo" if period == "month" else "1w")


def _period_offset(later_start: pl.Expr, earlier_start: pl.Expr, period: str) -> pl.Expr:
    """Whole periods between two period starts."""
    if period == "month":
        return (later_start.dt.year().cast(pl.Int64) - earlier_start.dt.year().cast(pl.Int64)) * 12 + (
            later_start.dt.month().cast(pl.Int64) - earlier_start.dt.month().cast(pl.Int64)
        )
    # Both are Mondays, so the day difference is a multiple of 7.
    return (later_start - earlier_start).dt.total_days().cast(pl.Int64) // 7


def cohort_retention_by_basis(cohorts: dict[str, pl.DataFrame], purchases: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """Monthly `cohort_retention` for several cohort definitions, stacked with a `cohort_basis` column.

    Args:
        cohorts: basis name (e.g. `signup`, `first_transaction`) → `user_id`, `cohort_date`.
        purchases: as for `cohort_retention`.
        as_of: analysis date.
    """
    return pl.concat([
        cohort_retention(users, purchases, as_of, period="month").select(pl.lit(basis).alias("cohort_basis"), pl.all())
        for basis, users in cohorts.items()
    ])

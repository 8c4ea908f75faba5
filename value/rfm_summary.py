"""Per-user frequency / recency / T / monetary summary used by the BG/NBD and Gamma-Gamma models."""

from __future__ import annotations

from datetime import date

import polars as pl


def rfm_summary(
    transactions: pl.DataFrame,
    observation_end: date,
    time_unit_days: float = 7.0,
    user_col: str = "user_id",
    date_col: str = "txn_date",
    amount_col: str = "amount",
) -> pl.DataFrame:
    """Summarise completed purchases into one row per user, in the papers' convention.

    Same-day purchases of one user are merged into one purchase (amounts summed), so
    ``frequency`` counts repeat purchase *days*.

    Args:
        transactions: one row per purchase; ``date_col`` is a local ``pl.Date``, ``amount_col``
            numeric. Only completed purchases on or before ``observation_end``.
        observation_end: last day of the observation (calibration) period.
        time_unit_days: length of the time unit in days (7 = weeks, 1 = days).
        user_col, date_col, amount_col: input column names.

    Returns:
        One row per user, sorted by user: ``user_id`` (input dtype), ``frequency`` (Int64,
        repeat purchase days), ``recency`` (Float64, first to last purchase day in time units),
        ``T`` (Float64, first purchase day to ``observation_end``), ``monetary_value``
        (Float64, mean value of the repeat purchase days, 0 when frequency is 0),
        ``first_purchase`` and ``last_purchase`` (Date).

    Raises:
        ValueError: missing columns, a non-Date date column, nulls, or purchases after
            ``observation_end``.
    """
    if time_unit_days <= 0:
        raise ValueError("time_unit_days must be positive")
    missing = {user_col, date_col, amount_col} - set(transactions.columns)
    if missing:
        raise ValueError(f"transactions lack column(s): {sorted(missing)}")
    if transactions.schema[date_col] != pl.Date:
        raise ValueError(f"{date_col} must be pl.Date (local calendar date), got {transactions.schema[date_col]}")
    null_counts = transactions.select(pl.col(user_col, date_col, amount_col).null_count()).row(0)
    if any(null_counts):
        raise ValueError(f"transactions contain nulls in {user_col}/{date_col}/{amount_col}: {null_counts}")
    late = transactions.filter(pl.col(date_col) > observation_end).height
    if late:
        raise ValueError(f"{late} purchase(s) fall after observation_end {observation_end}")

    days_per_unit = float(time_unit_days)
    purchase_days = transactions.group_by(user_col, date_col).agg(pl.col(amount_col).cast(pl.Float64).sum())
    summary = purchase_days.group_by(user_col).agg(
        (pl.len() - 1).cast(pl.Int64).alias("frequency"),
        pl.col(date_col).min().alias("first_purchase"),
        pl.col(date_col).max().alias("last_purchase"),
        pl.col(amount_col).sort_by(date_col).slice(1).sum().alias("repeat_amount"),
    )
    return (
        summary.select(
            pl.col(user_col).alias("user_id"),
            "frequency",
            ((pl.col("last_purchase") - pl.col("first_purchase")).dt.total_days().cast(pl.Float64) / days_per_unit)
            .alias("recency"),
            ((pl.lit(observation_end) - pl.col("first_purchase")).dt.total_days().cast(pl.Float64) / days_per_unit)
            .alias("T"),
            pl.when(pl.col("frequency") > 0)
            .then(pl.col("repeat_amount") / pl.col("frequency"))
            .otherwise(0.0)
            .alias("monetary_value"),
            "first_purchase",
            "last_purchase",
        )
        .sort("user_id")
    )

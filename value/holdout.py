"""Calibration / holdout checks of repeat-purchase models (the BG/NBD paper's Figures 2 and 4).

Built on polars because ``lifetimes.utils.calibration_and_holdout_data`` fails under pandas 3.
Conventions follow :func:`value.rfm_summary.rfm_summary`: same-day purchases of one user are one
transaction, and only users whose first purchase falls in the calibration period are kept
(the cohort the model was fitted on).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl

from value.rfm_summary import rfm_summary


@dataclass(frozen=True)
class HoldoutSplit:
    """Calibration summary with holdout outcomes, and the periods it was cut at.

    Attributes:
        frame: one row per user whose first purchase is on or before ``calibration_end``,
            sorted by user: the :func:`value.rfm_summary.rfm_summary` columns of the calibration
            period (``user_id``, ``frequency``, ``recency``, ``T``, ``monetary_value``,
            ``first_purchase``, ``last_purchase``), plus ``holdout_frequency`` (Int64,
            purchase days in (calibration_end, holdout_end]) and ``holdout_duration``
            (Float64, holdout length in time units, the same for everybody).
        calibration_end: last day of the calibration period.
        holdout_end: last day of the holdout period.
        time_unit_days: length of the time unit in days.
    """

    frame: pl.DataFrame
    calibration_end: date
    holdout_end: date
    time_unit_days: float


def calibration_holdout_split(
    purchases: pl.DataFrame,
    calibration_end: date,
    holdout_end: date,
    time_unit_days: float = 7.0,
    user_col: str = "user_id",
    date_col: str = "txn_date",
    amount_col: str = "amount",
) -> HoldoutSplit:
    """Summarise the calibration period per user and count each user's holdout transactions.

    Args:
        purchases: one row per completed purchase; ``date_col`` a ``pl.Date``. Purchases
            after ``holdout_end`` are ignored.
        calibration_end: last day of the calibration period (inclusive).
        holdout_end: last day of the holdout period (inclusive), after ``calibration_end``.
        time_unit_days: length of the time unit in days (7 = weeks).
        user_col, date_col, amount_col: input column names.

    Raises:
        ValueError: ``holdout_end`` not after ``calibration_end``, or the checks of
            :func:`value.rfm_summary.rfm_summary`.
    """
    if holdout_end <= calibration_end:
        raise ValueError(f"holdout_end {holdout_end} must be after calibration_end {calibration_end}")
    in_window = purchases.filter(pl.col(date_col) <= holdout_end)
    calibration = in_window.filter(pl.col(date_col) <= calibration_end)
    summary = rfm_summary(calibration, calibration_end, time_unit_days, user_col, date_col, amount_col)
    holdout_counts = (
        in_window.filter(pl.col(date_col) > calibration_end)
        .group_by(user_col)
        .agg(pl.col(date_col).n_unique().cast(pl.Int64).alias("holdout_frequency"))
        .rename({user_col: "user_id"})
    )
    duration = (holdout_end - calibration_end).days / float(time_unit_days)
    frame = (
        summary.join(holdout_counts, on="user_id", how="left")
        .with_columns(
            pl.col("holdout_frequency").fill_null(0),
            pl.lit(duration, dtype=pl.Float64).alias("holdout_duration"),
        )
        .sort("user_id")
    )
    return HoldoutSplit(frame, calibration_end, holdout_end, float(time_unit_days))


def holdout_by_frequency(model, split: HoldoutSplit, max_bucket: int = 7) -> pl.DataFrame:
    """Mean actual vs predicted holdout transactions per calibration frequency (the paper's Figure 4).

    Args:
        model: fitted repeat-purchase model (``expected_purchases(t, frequency, recency, T)``),
            in the split's time unit.
        split: output of :func:`calibration_holdout_split`.
        max_bucket: frequencies 0 .. max_bucket - 1 get their own row; ``max_bucket`` and
            above share the row labelled "<max_bucket>+".

    Returns:
        One row per non-empty bucket, in increasing frequency: ``frequency_bucket`` (str,
        "0", "1", ..., "7+"), ``min_frequency`` (Int64, lowest frequency in the bucket's
        range), ``users`` (Int64), ``actual_mean`` and ``predicted_mean`` (Float64, mean
        holdout transactions per user), ``actual_total`` and ``predicted_total`` (Float64).
    """
    if max_bucket < 1:
        raise ValueError("max_bucket must be at least 1")
    frame = split.frame
    predicted = model.expected_purchases(
        frame["holdout_duration"].to_numpy(),
        frame["frequency"].to_numpy(),
        frame["recency"].to_numpy(),
        frame["T"].to_numpy(),
    )
    return (
        frame.select(
            pl.col("frequency").clip(upper_bound=max_bucket).alias("min_frequency"),
            pl.col("holdout_frequency").cast(pl.Float64).alias("actual"),
            pl.Series("predicted", predicted, dtype=pl.Float64),
        )
        .group_by("min_frequency")
        .agg(
            pl.len().cast(pl.Int64).alias("users"),
            pl.col("actual").mean().alias("actual_mean"),
            pl.col("predicted").mean().alias("predicted_mean"),
            pl.col("actual").sum().alias("actual_total"),
            pl.col("predicted").sum().alias("predicted_total"),
        )
        .sort("min_frequency")
        .select(
            pl.when(pl.col("min_frequency") >= max_bucket)
            .then(pl.format("{}+", pl.col("min_frequency")))
            .otherwise(pl.col("min_frequency").cast(pl.String))
            .alias("frequency_bucket"),
            "min_frequency",
            "users",
            "actual_mean",
            "predicted_mean",
            "actual_total",
            "predicted_total",
        )
    )


def holdout_cumulative(
    model,
    split: HoldoutSplit,
    purchases: pl.DataFrame,
    user_col: str = "user_id",
    date_col: str = "txn_date",
) -> pl.DataFrame:
    """Cumulative repeat transactions, actual vs predicted, at the end of each holdout period (Figure 2).

    The prediction is the paper's tracking curve: for every customer of the split, the
    expected repeat purchases of a *new* customer over the time since that customer's first
    purchase, summed over customers. It uses no individual history, so it checks the model's
    aggregate dynamics rather than its conditional forecasts (see :func:`holdout_by_frequency`).
    The model needs ``expected_purchases_new_customer(t)``.

    Args:
        model: fitted repeat-purchase model, in the split's time unit.
        split: output of :func:`calibration_holdout_split`.
        purchases: the purchases the split was built from (same column names).
        user_col, date_col: input column names.

    Returns:
        One row per holdout period of ``split.time_unit_days`` days (the last may be shorter,
        ending at ``holdout_end``): ``period`` (Int64, 1-based), ``period_end`` (Date),
        ``actual_cumulative`` / ``predicted_cumulative`` (Float64, repeat transactions since
        each customer's first purchase, up to ``period_end``) and ``actual_holdout`` /
        ``predicted_holdout`` (Float64, the same counted from the end of calibration only).
    """
    frame = split.frame
    unit = split.time_unit_days
    n_periods = math.ceil((split.holdout_end - split.calibration_end).days / unit - 1e-9)
    period_ends = [
        min(split.calibration_end + timedelta(days=round(index * unit)), split.holdout_end)
        for index in range(1, n_periods + 1)
    ]
    # Customers sharing a first-purchase day share the tracking curve, so the model is
    # evaluated once per distinct day rather than once per customer.
    cohorts = frame.group_by("first_purchase").agg(pl.len().alias("customers"))
    first_days = cohorts["first_purchase"].to_numpy().astype("datetime64[D]")
    customers = cohorts["customers"].to_numpy().astype(np.float64)
    end_days = np.array(period_ends, dtype="datetime64[D]")
    calibration_days = np.datetime64(split.calibration_end, "D")
    elapsed = (end_days[:, None] - first_days[None, :]).astype(np.float64) / unit
    elapsed_at_calibration = (calibration_days - first_days).astype(np.float64) / unit
    expected = model.expected_purchases_new_customer(elapsed.ravel()).reshape(elapsed.shape)
    predicted_cumulative = expected @ customers
    predicted_at_calibration = float(model.expected_purchases_new_customer(elapsed_at_calibration) @ customers)

    holdout_days = (
        purchases.filter((pl.col(date_col) > split.calibration_end) & (pl.col(date_col) <= split.holdout_end))
        .select(pl.col(user_col).alias("user_id"), pl.col(date_col).alias("day"))
        .unique()
        .join(frame.select("user_id"), on="user_id", how="semi")
    )
    per_period = (
        holdout_days.select(
            ((pl.col("day") - pl.lit(split.calibration_end)).dt.total_days().cast(pl.Float64) / unit)
            .ceil()
            .cast(pl.Int64)
            .alias("period")
        )
        .group_by("period")
        .len()
    )
    counts = np.zeros(n_periods, dtype=np.float64)
    counts[per_period["period"].to_numpy() - 1] = per_period["len"].to_numpy()
    actual_holdout = np.cumsum(counts)
    actual_at_calibration = float(frame["frequency"].sum())
    return pl.DataFrame(
        {
            "period": np.arange(1, n_periods + 1, dtype=np.int64),
            "period_end": period_ends,
            "actual_cumulative": actual_at_calibration + actual_holdout,
            "predicted_cumulative": predicted_cumulative,
            "actual_holdout": actual_holdout,
            "predicted_holdout": predicted_cumulative - predicted_at_calibration,
        },
        schema={
            "period": pl.Int64,
            "period_end": pl.Date,
            "actual_cumulative": pl.Float64,
            "predicted_cumulative": pl.Float64,
            "actual_holdout": pl.Float64,
            "predicted_holdout": pl.Float64,
        },
    )

"""Behavioural clustering features derived from the user profile.

Every feature is a rate, a mix or a ticket size rather than a lifetime total, so that a user who
signed up last week and one who has been around for years are compared on how they behave, not on
how long they have been watched. Observation starts at the later of the signup and the first day of
data: users who signed up before the data begins are only seen from that day on.

| feature          | meaning                                                                  |
|------------------|--------------------------------------------------------------------------|
| `txn_per_day`    | transactions per observed day                                            |
| `credit_share`   | share of transactions that are credit draws (0 without transactions)     |
| `wealth_share`   | share that are wealth-product purchases                                  |
| `payment_share`  | share that are payments                                                  |
| `monetary_avg`   | average transaction amount (0 without transactions)                      |
| `credit_ticket`  | average credit draw (null without credit: imputed by the scaler)         |
| `age`            | age in years (null when the birth date is unknown: imputed by the scaler) |
| `idle_share`     | share of the observed days since the last purchase (1 without purchases) |

Line shares are used instead of line counts because counts grow with the observed time and with
overall activity, which `txn_per_day` already carries; idle time comes from purchases, not events,
because loan repayment events keep lapsed borrowers looking active.
"""

from __future__ import annotations

import polars as pl

PERSONA_FEATURES: list[str] = [
    "txn_per_day",
    "credit_share",
    "wealth_share",
    "payment_share",
    "monetary_avg",
    "credit_ticket",
    "age",
    "idle_share",
]
PROFILE_COLUMNS: tuple[str, ...] = (
    "user_id", "txn_count", "credit_txn_count", "wealth_txn_count", "payment_txn_count",
    "credit_amount", "monetary_avg", "age", "tenure_days", "recency_days",
)


def behaviour_features(profile: pl.DataFrame, history_days: int) -> pl.DataFrame:
    """One row per profiled user: ``user_id`` and the Float64 ``PERSONA_FEATURES``.

    Args:
        profile: ``marts.user_profile`` rows (at least ``PROFILE_COLUMNS``).
        history_days: days of data up to and including the as-of date (as-of minus the first
            day of data, plus one).

    Returns:
        The features in profile row order; nulls only in ``credit_ticket`` and ``age``.
    """
    missing = [c for c in PROFILE_COLUMNS if c not in profile.columns]
    if missing:
        raise ValueError(f"behaviour_features: profile is missing columns {missing}")
    if history_days < 1:
        raise ValueError(f"history_days must be at least 1, got {history_days}")
    txns = pl.col("txn_count").cast(pl.Float64).fill_null(0.0)
    # tenure_days counts from the signup day (0 on the signup day itself).
    observed = (
        pl.col("tenure_days").cast(pl.Float64).fill_null(history_days - 1)
        .clip(0, history_days - 1) + 1.0
    )

    def share(column: str) -> pl.Expr:
        return pl.when(txns > 0).then(pl.col(column).cast(pl.Float64) / txns).otherwise(0.0)

    credit_txns = pl.col("credit_txn_count").cast(pl.Float64)
    return profile.select(
        "user_id",
        (txns / observed).alias("txn_per_day"),
        share("credit_txn_count").alias("credit_share"),
        share("wealth_txn_count").alias("wealth_share"),
        share("payment_txn_count").alias("payment_share"),
        pl.col("monetary_avg").cast(pl.Float64).fill_null(0.0).alias("monetary_avg"),
        pl.when(credit_txns > 0).then(pl.col("credit_amount").cast(pl.Float64) / credit_txns)
        .alias("credit_ticket"),
        pl.col("age").cast(pl.Float64).alias("age"),
        (pl.col("recency_days").cast(pl.Float64).clip(upper_bound=observed) / observed)
        .fill_null(1.0).alias("idle_share"),
    )

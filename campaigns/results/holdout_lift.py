"""Incremental lift of a campaign against its holdout: did the people we contacted convert more?

Intent to treat: everyone decided `send` counts as treated whether or not delivery succeeded, so an
outage cannot flatter the result; everyone decided `holdout` is the control. A conversion is a
purchase within `window_days` after the decision. The interval is the normal approximation for a
difference of two proportions.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from statistics import NormalDist

import polars as pl

LIFT_SCHEMA = {
    "campaign_id": pl.String, "treated_users": pl.Int64, "treated_converted": pl.Int64,
    "holdout_users": pl.Int64, "holdout_converted": pl.Int64, "treated_rate": pl.Float64,
    "holdout_rate": pl.Float64, "lift": pl.Float64, "lift_low": pl.Float64, "lift_high": pl.Float64,
    "relative_lift": pl.Float64, "window_days": pl.Int64, "window_complete": pl.Boolean,
}


def holdout_lift(assignments: pl.DataFrame, purchases: pl.DataFrame, observed_until: datetime,
                 window_days: int = 30, confidence: float = 0.95) -> pl.DataFrame:
    """Conversion rate of treated vs holdout per campaign, with the difference and its confidence interval.

    Args:
        assignments: ``campaign_id``, ``user_id``, ``decision`` ("send" = treated, "holdout" = control;
            other decisions are ignored), ``decided_at`` (instant).
        purchases: ``user_id``, ``occurred_at`` (instant).
        observed_until: end of the data; ``window_complete`` says whether every window has ended by then.
        window_days: days after the decision in which a purchase counts as a conversion.
        confidence: two-sided level of the interval on ``lift``.

    Returns:
        One row per campaign with both groups (columns of ``LIFT_SCHEMA``); ``lift`` is the absolute
        difference of conversion rates (treated - holdout), ``relative_lift`` treated / holdout - 1.
    """
    if window_days <= 0 or not 0 < confidence < 1:
        raise ValueError("window_days must be positive and confidence between 0 and 1")
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    groups = assignments.filter(pl.col("decision").is_in(["send", "holdout"]))
    window = timedelta(days=window_days)
    converted = (
        groups.join(purchases, on="user_id", how="inner")
        .filter((pl.col("occurred_at") > pl.col("decided_at")) & (pl.col("occurred_at") <= pl.col("decided_at") + window))
        .select("campaign_id", "user_id").unique()
        .with_columns(pl.lit(True).alias("converted"))
    )
    per_user = groups.join(converted, on=["campaign_id", "user_id"], how="left").with_columns(
        pl.col("converted").fill_null(False))
    counts = per_user.group_by("campaign_id").agg(
        (pl.col("decision") == "send").sum().cast(pl.Int64).alias("treated_users"),
        ((pl.col("decision") == "send") & pl.col("converted")).sum().cast(pl.Int64).alias("treated_converted"),
        (pl.col("decision") == "holdout").sum().cast(pl.Int64).alias("holdout_users"),
        ((pl.col("decision") == "holdout") & pl.col("converted")).sum().cast(pl.Int64).alias("holdout_converted"),
        (pl.col("decided_at").max() + window <= observed_until).alias("window_complete"),
    ).filter((pl.col("treated_users") > 0) & (pl.col("holdout_users") > 0))
    p1 = pl.col("treated_converted") / pl.col("treated_users")
    p0 = pl.col("holdout_converted") / pl.col("holdout_users")
    standard_error = (p1 * (1 - p1) / pl.col("treated_users") + p0 * (1 - p0) / pl.col("holdout_users")).sqrt()
    return (
        counts.with_columns(p1.alias("treated_rate"), p0.alias("holdout_rate"), (p1 - p0).alias("lift"),
                            (p1 - p0 - z * standard_error).alias("lift_low"),
                            (p1 - p0 + z * standard_error).alias("lift_high"),
                            pl.when(p0 > 0).then(p1 / p0 - 1).alias("relative_lift"),
                            pl.lit(window_days).alias("window_days"))
        .select(list(LIFT_SCHEMA)).cast(LIFT_SCHEMA).sort("campaign_id")
    )

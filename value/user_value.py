"""Value net of credit risk, per user and per group (persona, RFM segment, acquisition channel, lifecycle stage)."""

from __future__ import annotations

import polars as pl

# The groupings the value table is cut by; each is a column of marts.user_value.
VALUE_GROUPINGS = ("persona_name", "rfm_segment", "acquisition_channel", "lifecycle_stage")


def risk_adjusted(users: pl.DataFrame) -> pl.DataFrame:
    """Each user's CLV net of expected credit loss (`risk_adjusted_clv`)."""
    return users.with_columns((pl.col("clv") - pl.col("expected_credit_loss")).alias("risk_adjusted_clv"))


def value_by_group(users: pl.DataFrame) -> pl.DataFrame:
    """One row per grouping × group: users, mean P(alive), expected transactions, CLV, credit loss, risk-adjusted CLV."""
    return pl.concat([
        users.group_by(pl.col(grouping).fill_null("(unknown)").alias("group")).agg(
            pl.len().alias("users"),
            pl.col("p_alive").mean().alias("mean_p_alive"),
            pl.col("expected_txns").sum().alias("expected_txns"),
            pl.col("clv").sum().alias("clv"),
            pl.col("clv").mean().alias("mean_clv"),
            pl.col("expected_credit_loss").sum().alias("expected_credit_loss"),
            pl.col("risk_adjusted_clv").sum().alias("risk_adjusted_clv"),
            pl.col("risk_adjusted_clv").mean().alias("mean_risk_adjusted_clv"),
        ).with_columns(pl.lit(grouping).alias("grouping"))
        for grouping in VALUE_GROUPINGS
    ]).select("grouping", "group", pl.exclude("grouping", "group")).sort("grouping", "group")

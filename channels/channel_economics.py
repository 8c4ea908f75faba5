"""The attribution run behind `marts.channel_roi`: identities, journeys, every model's credit, and the ROI table.

`attribute_channels` takes the warehouse's touchpoints, identity events, first purchases, spend and user
value as frames and returns the three tables the ROI marts are made of, plus what it could not compute.
A conversion is a user's first completed purchase (or, by configuration, first funded loan or first fund
purchase); touches count within the lookback window before it. Users who never converted, and anonymous
visitors whom no event tied to a user, contribute their touches within the lookback window before the analysis
window end as non-converting paths (the rule is in ``channels.journeys.build_non_converting_paths``), which
only the Markov model reads. Models: first_touch, last_touch, linear, time_decay, position_based,
shapley, markov (rules in ``channels.attribution``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import polars as pl

from channels.attribution import ATTRIBUTION_MODELS
from channels.cohorts import CREDIT_PREFIX, VALUE_PREFIX, attributed_from_credit, conversion_credit
from channels.conversions import first_conversions
from channels.identity_stitching import resolve_touchpoints, stitch_identities
from channels.journeys import build_journeys, build_non_converting_paths
from channels.roi import channel_daily_spend, channel_roi

MONEY = pl.Decimal(18, 2)
# What counts as a conversion: the first purchase of any product line, of a credit line, or of a fund.
CONVERSION_PRODUCT_LINES: dict[str, str | None] = {
    "first_transaction": None, "first_credit": "credit", "first_wealth": "wealth",
}
# Spend is a sum of cents and stays exact; attributed revenue is exact for first/last touch and
# rounded to the cent where a model splits a conversion.
ROI_SCHEMA = {
    "channel": pl.String, "attribution_model": pl.String, "spend": MONEY, "conversions": pl.Float64,
    "revenue": MONEY, "cac": pl.Float64, "roas": pl.Float64, "ltv": pl.Float64, "ltv_to_cac": pl.Float64,
}
DAILY_SPEND_SCHEMA = {"date": pl.Date, "channel": pl.String, "spend": MONEY}
CREDIT_SCHEMA = {
    "conversion_id": pl.UInt32, "user_id": pl.String, "converted_at": pl.Datetime("us", "UTC"), "channel": pl.String,
    **{f"{prefix}{model}": pl.Float64 for model in ATTRIBUTION_MODELS for prefix in (CREDIT_PREFIX, VALUE_PREFIX)},
}


@dataclass(frozen=True)
class ChannelAttribution:
    roi: pl.DataFrame  # one row per channel × attribution model (ROI_SCHEMA)
    daily_spend: pl.DataFrame  # one row per day × channel
    credit: pl.DataFrame  # one row per conversion × channel: each model's credit and value credit
    notes: list[str] = field(default_factory=list)


def attribute_channels(touchpoints: pl.DataFrame, identity_events: pl.DataFrame, first_purchases: pl.DataFrame,
                       spend: pl.DataFrame, user_value: pl.DataFrame, window_end: datetime,
                       lookback_days: int) -> ChannelAttribution:
    """Every attribution model over the journeys to each conversion, and channel ROI from their credit.

    Args:
        touchpoints: `touchpoint_id`, `user_id`, `anonymous_id`, `occurred_at`, `channel`, `touch_type`.
        identity_events: `anonymous_id`, `user_id`, `occurred_at` (earliest per pair).
        first_purchases: each user's first qualifying purchase (`user_id`, `txn_id`, `occurred_at`, `revenue`,
            `status`).
        spend: `date`, `channel`, `spend` up to the as-of date.
        user_value: `user_id`, `clv`.
        window_end: the exclusive end of the analysis window (the end of the non-converting paths).
        lookback_days: touches count within this many days before a conversion.
    """
    if touchpoints.is_empty():
        return ChannelAttribution(
            pl.DataFrame(schema=ROI_SCHEMA), pl.DataFrame(schema=DAILY_SPEND_SCHEMA), pl.DataFrame(schema=CREDIT_SCHEMA),
            ["channel ROI not computed: no touchpoints (source `touchpoints` absent or empty)"])
    notes = []
    if spend.is_empty():
        notes.append("no marketing spend: CAC and ROAS are empty (source `marketing_spend` absent or empty)")
    resolved = resolve_touchpoints(touchpoints, stitch_identities(identity_events))
    conversions = first_conversions(first_purchases)
    journeys = build_journeys(resolved, conversions, lookback_days)
    non_converting = build_non_converting_paths(resolved, conversions, window_end, lookback_days)
    # Each model runs once: the per-conversion credit gives the totals and the credit-weighted ltv.
    credit = conversion_credit(journeys, non_converting=non_converting)
    attributed = attributed_from_credit(credit)
    roi = _exact_money(channel_roi(attributed, spend, user_value, journeys, credit=credit), spend)
    return ChannelAttribution(roi.select(list(ROI_SCHEMA)) if not roi.is_empty() else roi,
                              channel_daily_spend(spend), credit, notes)


def _exact_money(roi: pl.DataFrame, spend: pl.DataFrame) -> pl.DataFrame:
    """Spend summed in DECIMAL (exact to the cent), revenue rounded to the cent."""
    exact_spend = spend.group_by(pl.col("channel").cast(pl.String)).agg(pl.col("spend").cast(MONEY).sum())
    return (
        roi.drop("spend")
        .join(exact_spend, on="channel", how="left")
        .with_columns(
            pl.col("spend").fill_null(pl.lit(0, dtype=MONEY)).cast(MONEY),
            pl.col("revenue").round(2).cast(MONEY),
        )
        .select(list(ROI_SCHEMA))
    )

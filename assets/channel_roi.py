"""Marts: attribution of conversions to channels and channel ROI."""

import dagster as dg
import polars as pl

from assets.notes import replace_notes
from assets.resources import AnalysisResource, WarehouseResource
from channels import (
    ATTRIBUTION_MODELS,
    attributed_from_credit,
    build_journeys,
    build_non_converting_paths,
    channel_daily_spend,
    conversion_credit,
    first_conversions,
    resolve_touchpoints,
    stitch_identities,
)
from channels import channel_roi as build_channel_roi
from channels.cohorts import CREDIT_PREFIX, VALUE_PREFIX
from warehouse import read_frame, write_frame

MONEY = pl.Decimal(18, 2)
# What counts as a conversion: the user's first purchase of any kind, their first funded loan, or
# their first fund purchase.
CONVERSION_FILTERS = {
    "first_transaction": "",
    "first_credit": " WHERE product_line = 'credit'",
    "first_wealth": " WHERE product_line = 'wealth'",
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


@dg.asset(group_name="marts", kinds={"duckdb", "polars"},
          deps=["core_purchases", "stg_touchpoints", "stg_events", "stg_marketing_spend", "user_clv"])
def channel_roi(context: dg.AssetExecutionContext, analysis: AnalysisResource,
                warehouse: WarehouseResource) -> dg.MaterializeResult:
    """One row per channel × attribution model: spend, attributed conversions and revenue, CAC, ROAS, LTV, LTV:CAC (marts.channel_roi).

    A conversion is a user's first completed purchase (or, by configuration, first funded loan or first fund
    purchase); touches count within the lookback window before it.
    Users who never converted contribute their touches within the lookback window before the analysis
    window end as non-converting paths, which only the Markov model reads. Models: first_touch,
    last_touch, linear, time_decay, position_based, shapley, markov (rules in ``channels.attribution``).
    Also writes marts.channel_daily_spend (one row per day × channel, spend exact in DECIMAL) and
    marts.channel_conversion_credit (one row per conversion × channel: each model's credit and value credit),
    which the per-cohort marts read.
    """
    notes: list[str] = []
    with warehouse.connection() as conn:
        window_end = "(SELECT window_end FROM core.analysis_window)"
        # Only the columns attribution reads: campaign and cost would be millions of values carried for nothing.
        touchpoints = read_frame(conn, "SELECT touchpoint_id, user_id, anonymous_id, occurred_at, channel, touch_type "
                                       f"FROM staged.touchpoints WHERE occurred_at < {window_end}")
        # Each (anonymous id, user) pair's earliest event stands for all of its events: stitching picks the
        # earliest, so the map is the same from millions fewer rows.
        events = read_frame(
            conn,
            f"SELECT anonymous_id, user_id, min(occurred_at) AS occurred_at FROM staged.events "
            f"WHERE user_id IS NOT NULL AND anonymous_id IS NOT NULL AND occurred_at < {window_end} GROUP BY ALL",
        )
        # Only each user's first purchase can be a conversion; DuckDB narrows them to it.
        purchases = read_frame(
            conn, "SELECT user_id, txn_id, occurred_at, revenue, 'completed' AS status FROM core.purchases"
            + CONVERSION_FILTERS[analysis.conversion]
            + " QUALIFY row_number() OVER (PARTITION BY user_id ORDER BY occurred_at, txn_id) = 1")
        spend = read_frame(
            conn,
            "SELECT date, channel, spend FROM staged.marketing_spend "
            "WHERE date <= (SELECT as_of FROM core.analysis_window)",
        )
        cutoff = read_frame(conn, "SELECT window_end FROM core.analysis_window")["window_end"].item()
        user_value = read_frame(conn, "SELECT user_id, clv FROM marts.user_clv")
        if touchpoints.is_empty():
            notes.append("channel ROI not computed: no touchpoints (source `touchpoints` absent or empty)")
            roi = pl.DataFrame(schema=ROI_SCHEMA)
            daily_spend = pl.DataFrame(schema=DAILY_SPEND_SCHEMA)
            credit = pl.DataFrame(schema=CREDIT_SCHEMA)
        else:
            if spend.is_empty():
                notes.append("no marketing spend: CAC and ROAS are empty (source `marketing_spend` absent or empty)")
            resolved = resolve_touchpoints(touchpoints, stitch_identities(events))
            conversions = first_conversions(purchases)
            lookback = analysis.attribution_lookback_days
            journeys = build_journeys(resolved, conversions, lookback)
            non_converting = build_non_converting_paths(resolved, conversions, cutoff, lookback)
            # Each model runs once: the per-conversion credit gives the totals and the credit-weighted ltv.
            credit = conversion_credit(journeys, non_converting=non_converting)
            attributed = attributed_from_credit(credit)
            roi = _exact_money(build_channel_roi(attributed, spend, user_value, journeys, credit=credit), spend)
            daily_spend = channel_daily_spend(spend)
        rows = write_frame(conn, "marts.channel_roi", roi.select(list(ROI_SCHEMA)) if not roi.is_empty() else roi)
        write_frame(conn, "marts.channel_daily_spend", daily_spend)
        write_frame(conn, "marts.channel_conversion_credit", credit)
        replace_notes(conn, "channel_roi", notes)
    for note in notes:
        context.log.warning(note)
    return dg.MaterializeResult(metadata={"dagster/row_count": rows, "models": dg.MetadataValue.json(sorted(roi["attribution_model"].unique().to_list()))})


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


channel_assets = [channel_roi]

"""Marts: attribution of conversions to channels and channel ROI."""

import dagster as dg

from assets.resources import AnalysisResource, WarehouseResource
from assets.tables import ForeignKey, MoneyTotal, WarehouseTable, materialized, table_asset
from channels.channel_economics import CONVERSION_PRODUCT_LINES, attribute_channels
from warehouse import load_query, read_frame, write_frame

ROI_INPUTS = ("core_purchases", "stg_touchpoints", "stg_events", "stg_marketing_spend", "user_clv")
SPEND_TO_DATE = "date <= (SELECT as_of FROM core.analysis_window)"
CHANNEL_ROI = WarehouseTable(
    key="channel_roi", table="marts.channel_roi", group="marts", kinds=frozenset({"duckdb", "polars"}),
    deps=ROI_INPUTS,
    grain="One row per channel × attribution model: spend, attributed conversions and revenue, CAC, ROAS, LTV, LTV:CAC",
    detail="Rules of the attribution run in `channels/channel_economics.py`, of each model in `channels/attribution.py`.",
    primary_key=("channel", "attribution_model"),
    money=(MoneyTotal("spend", "staged.marketing_spend", "spend", where=SPEND_TO_DATE, per=("attribution_model",)),))
CHANNEL_DAILY_SPEND = WarehouseTable(
    key="channel_daily_spend", table="marts.channel_daily_spend", group="marts", deps=ROI_INPUTS,
    grain="One row per day × channel: marketing spend, exact in DECIMAL",
    primary_key=("date", "channel"),
    money=(MoneyTotal("spend", "staged.marketing_spend", "spend", where=SPEND_TO_DATE),))
CHANNEL_CONVERSION_CREDIT = WarehouseTable(
    key="channel_conversion_credit", table="marts.channel_conversion_credit", group="marts", deps=ROI_INPUTS,
    grain="One row per conversion × channel: `user_id`, `converted_at` and, per attribution model, the credit and "
          "value credit the channel gets",
    detail="Summed by channel it is marts.channel_roi; the per-cohort marts read it.",
    primary_key=("conversion_id", "channel"), foreign_keys=(ForeignKey(("user_id",), "staged.users"),))


@table_asset(CHANNEL_ROI, CHANNEL_DAILY_SPEND, CHANNEL_CONVERSION_CREDIT, name="channel_roi")
def channel_roi(context: dg.AssetExecutionContext, analysis: AnalysisResource, warehouse: WarehouseResource):
    with warehouse.connection() as conn:
        attribution = attribute_channels(
            touchpoints=read_frame(conn, load_query("channels", "attribution_touchpoints")),
            identity_events=read_frame(conn, load_query("channels", "identity_events")),
            first_purchases=read_frame(conn, load_query("channels", "first_purchases"),
                                       {"product_line": CONVERSION_PRODUCT_LINES[analysis.conversion]}),
            spend=read_frame(conn, load_query("channels", "spend_to_date")),
            user_value=read_frame(conn, "SELECT user_id, clv FROM marts.user_clv"),
            window_end=read_frame(conn, "SELECT window_end FROM core.analysis_window")["window_end"].item(),
            lookback_days=analysis.attribution_lookback_days)
        for note in attribution.notes:
            context.log.warning(note)
        rows = write_frame(conn, CHANNEL_ROI.table, attribution.roi)
        write_frame(conn, CHANNEL_DAILY_SPEND.table, attribution.daily_spend)
        write_frame(conn, CHANNEL_CONVERSION_CREDIT.table, attribution.credit)
        models = sorted(attribution.roi["attribution_model"].unique().to_list())
        yield materialized(conn, CHANNEL_ROI, rows, notes=attribution.notes, models=dg.MetadataValue.json(models))
        yield materialized(conn, CHANNEL_DAILY_SPEND, attribution.daily_spend.height, notes=attribution.notes)
        yield materialized(conn, CHANNEL_CONVERSION_CREDIT, attribution.credit.height, notes=attribution.notes)


CHANNEL_ROI_TABLES = [CHANNEL_ROI, CHANNEL_DAILY_SPEND, CHANNEL_CONVERSION_CREDIT]
channel_assets = [channel_roi]

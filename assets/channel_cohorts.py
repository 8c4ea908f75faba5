"""Marts: channel economics per acquisition cohort — spend, attributed return, LTV, payback, quality, risk."""

import dagster as dg
import polars as pl

from assets.resources import WarehouseResource
from assets.tables import ForeignKey, MoneyTotal, WarehouseTable, materialized, table_asset
from channels import channel_cohort_roi
from channels.cohorts import COHORT_PAYBACK_SCHEMA, COHORT_ROI_SCHEMA
from warehouse import load_query, read_frame, write_frame

CHANNEL_COHORT_ROI = WarehouseTable(
    key="channel_cohort_roi", table="marts.channel_cohort_roi", group="marts", kinds=frozenset({"duckdb", "polars"}),
    deps=("channel_conversion_credit", "core_purchases", "stg_marketing_spend", "user_value", "stg_users",
          "user_credit_loss"),
    grain="One row per channel × acquisition month × attribution model: the month's spend, attributed conversions "
          "and revenue, CAC, ROAS, LTV, LTV:CAC, revenue to date, payback months, KYC pass, repeat and default rates, "
          "risk-adjusted value and ROI",
    detail="The acquisition cohort is the local month of the conversion (first completed purchase by default), and "
           "a cohort's spend is the channel's spend in that month; rules in `channels.cohorts.channel_cohort_roi`.",
    primary_key=("channel", "cohort", "attribution_model"),
    foreign_keys=(ForeignKey(("channel", "attribution_model"), "marts.channel_roi"),),
    # Summed over cohorts, each model's spend (exact) and revenue (rounded to the cent per row) are channel ROI's.
    money=(MoneyTotal("spend", "marts.channel_roi", "spend", per=("channel", "attribution_model"), per_both=True),
           MoneyTotal("revenue", "marts.channel_roi", "revenue", per=("channel", "attribution_model"), per_both=True,
                      tolerance=0.5)))
CHANNEL_COHORT_PAYBACK = WarehouseTable(
    key="channel_cohort_payback", table="marts.channel_cohort_payback", group="marts",
    kinds=frozenset({"duckdb", "polars"}), deps=("channel_conversion_credit", "core_purchases", "stg_marketing_spend"),
    grain="One row per channel × acquisition month × attribution model × months since acquisition: cumulative "
          "attributed revenue against the month's spend",
    primary_key=("channel", "cohort", "attribution_model", "month"),
    foreign_keys=(ForeignKey(("channel", "cohort", "attribution_model"), "marts.channel_cohort_roi"),))


@table_asset(CHANNEL_COHORT_ROI, CHANNEL_COHORT_PAYBACK, name="channel_cohorts")
def channel_cohorts(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    notes: list[str] = []
    with warehouse.connection() as conn:
        as_of = conn.sql("SELECT as_of FROM core.analysis_window").fetchone()[0]
        credit = read_frame(conn, load_query("channels", "cohort_credit"))
        if credit.is_empty():
            notes.append("channel cohorts not computed: no attributed conversions (see channel_roi)")
            context.log.warning(notes[-1])
            roi, payback = pl.DataFrame(schema=COHORT_ROI_SCHEMA), pl.DataFrame(schema=COHORT_PAYBACK_SCHEMA)
        else:
            roi, payback = channel_cohort_roi(credit, read_frame(conn, load_query("channels", "cohort_revenue")),
                                              read_frame(conn, load_query("channels", "spend_to_date")),
                                              read_frame(conn, load_query("channels", "cohort_users")), as_of)
        write_frame(conn, CHANNEL_COHORT_ROI.table, roi)
        write_frame(conn, CHANNEL_COHORT_PAYBACK.table, payback)
        yield materialized(conn, CHANNEL_COHORT_ROI, roi.height, notes=notes)
        yield materialized(conn, CHANNEL_COHORT_PAYBACK, payback.height, notes=notes)


CHANNEL_COHORT_TABLES = [CHANNEL_COHORT_ROI, CHANNEL_COHORT_PAYBACK]
channel_cohort_assets = [channel_cohorts]

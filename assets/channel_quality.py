"""Marts: what each acquisition channel's users become, and how long they take to pay back their cost."""

import polars as pl

from assets.resources import WarehouseResource
from assets.tables import WarehouseTable, materialized, table_asset
from channels.acquisition_quality import channel_payback, channel_quality
from warehouse import load_query, read_frame, write_frame

CHANNEL_QUALITY = WarehouseTable(
    key="channel_quality", table="marts.channel_quality", group="marts", kinds=frozenset({"duckdb", "polars"}),
    deps=("user_profile", "user_value", "stg_users", "stg_loan_performance", "stg_marketing_spend"),
    grain="One row per acquisition channel × signup-month cohort (and 'all'): users, KYC pass rate, "
          "first-transaction rate, default rate, spend, spend per sign-up, CLV gross and net of credit loss, CLV over "
          "spend, risk-adjusted return on spend, payback months",
    primary_key=("acquisition_channel", "cohort"))
CHANNEL_PAYBACK = WarehouseTable(
    key="channel_payback", table="marts.channel_payback", group="marts", kinds=frozenset({"duckdb", "polars"}),
    deps=("user_profile", "core_purchases", "stg_marketing_spend"),
    grain="One row per acquisition channel × months since signup: users old enough, the month's revenue per user, "
          "cumulative revenue per user (never falling), spend per sign-up, share of it recovered",
    primary_key=("acquisition_channel", "month"))


@table_asset(CHANNEL_QUALITY, CHANNEL_PAYBACK, name="channel_quality_marts",
             description="Judge each acquisition channel by the users it brought: quality, value net of credit "
                         "loss, payback.")
def channel_quality_marts(warehouse: WarehouseResource):
    with warehouse.connection() as conn:
        as_of = conn.sql("SELECT as_of FROM core.analysis_window").fetchone()[0]
        users = read_frame(conn, load_query("channels", "acquisition_users"))
        purchases = read_frame(conn, "SELECT user_id, txn_date, CAST(revenue AS DOUBLE) AS revenue FROM core.purchases")
        spend = read_frame(conn, load_query("channels", "spend_to_date")).with_columns(pl.col("spend").cast(pl.Float64))
        payback = channel_payback(users, purchases, spend, as_of)
        quality = channel_quality(users, spend, payback)
        write_frame(conn, CHANNEL_PAYBACK.table, payback)
        write_frame(conn, CHANNEL_QUALITY.table, quality)
        yield materialized(conn, CHANNEL_QUALITY, quality.height)
        yield materialized(conn, CHANNEL_PAYBACK, payback.height)


CHANNEL_QUALITY_TABLES = [CHANNEL_QUALITY, CHANNEL_PAYBACK]
channel_quality_assets = [channel_quality_marts]

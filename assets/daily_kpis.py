"""Marts: daily acquisition, activity, volume, revenue and spend."""

from assets.resources import WarehouseResource
from assets.tables import MoneyTotal, WarehouseTable, materialized, table_asset
from warehouse import create_table_as, load_query

KPI_DAILY = WarehouseTable(
    key="kpi_daily", table="marts.kpi_daily", group="marts",
    deps=("user_profile", "core_user_activity", "core_purchases", "stg_marketing_spend"),
    grain="One row per local day up to the as-of date: new, active and transacting users, volume, revenue, spend",
    primary_key=("date",),
    money=(MoneyTotal("txn_amount", "core.purchases", "amount"), MoneyTotal("revenue", "core.purchases", "revenue")))


@table_asset(KPI_DAILY)
def kpi_daily(warehouse: WarehouseResource):
    with warehouse.connection() as conn:
        return materialized(conn, KPI_DAILY, create_table_as(conn, KPI_DAILY.table, load_query("activity", "kpi_daily")))


KPI_TABLES = [KPI_DAILY]
kpi_assets = [kpi_daily]

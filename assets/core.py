"""Core layer: the analysis window and the entities every mart is built from, cut at the as-of date."""

import dagster as dg

from activity.daily_activity import refresh_user_activity
from activity.window import NoDataError, choose_as_of, data_extent
from assets.resources import AnalysisResource, WarehouseResource
from assets.tables import ForeignKey, MoneyTotal, WarehouseTable, materialized, table_asset
from warehouse import create_table_as, load_query

STAGED_EVENT_SOURCES = ("stg_transactions", "stg_events", "stg_touchpoints")
COMPLETED_IN_WINDOW = ("coalesce(status, 'completed') = 'completed' "
                       "AND occurred_at < (SELECT window_end FROM core.analysis_window)")

ANALYSIS_WINDOW = WarehouseTable(
    key="analysis_window", table="core.analysis_window", group="core", deps=STAGED_EVENT_SOURCES,
    grain="One row per run: the as-of date, the exclusive end of the window, time zone and currency",
    detail="History after the as-of date is ignored everywhere downstream; recency, tenure and value clocks "
           "stop there. `as_of_basis` says whether the date was given or is the latest in the data, and which rows "
           "were left out as outliers (`outlier_rows` at or after `outlier_cutoff`; rule in `activity/window.py`).",
    single_row=True)
PURCHASES = WarehouseTable(
    key="core_purchases", table="core.purchases", group="core", deps=("analysis_window", "stg_transactions"),
    grain="One row per completed transaction up to the as-of date, with its local date",
    primary_key=("txn_id",), foreign_keys=(ForeignKey(("user_id",), "staged.users"),),
    money=(MoneyTotal("amount", "staged.transactions", "amount", where=COMPLETED_IN_WINDOW),))
USER_ACTIVITY = WarehouseTable(
    key="core_user_activity", table="core.user_activity", group="core",
    deps=("analysis_window", "stg_events", "core_purchases"),
    grain="One row per user per active day up to the as-of date: events, sessions, funnel steps and purchases",
    detail="Incremental: only the days whose staged events partitions or purchases changed since the last run "
           "are recomputed (rules in `activity/daily_activity.py`); user-level features are built from these "
           "daily rows, never from raw events.",
    primary_key=("user_id", "activity_date"),
    money=(MoneyTotal("purchase_amount", "core.purchases", "amount"),))
USER_CHANNEL_MONTHS = WarehouseTable(
    key="core_user_channel_months", table="core.user_channel_months", group="core", deps=USER_ACTIVITY.deps,
    grain="One row per user per local month per event channel: the events that month",
    primary_key=("user_id", "activity_month", "channel"))
USER_ACTIVITY_STATE = WarehouseTable(
    key="core_user_activity_state", table="core.user_activity_state", group="core", deps=USER_ACTIVITY.deps,
    grain="One row per input the activity tables were last built from: staged events partition, purchase day, "
          "as-of date",
    detail="The fingerprints the next incremental refresh compares against.",
    primary_key=("kind", "key"))


@table_asset(ANALYSIS_WINDOW)
def analysis_window(context: dg.AssetExecutionContext, analysis: AnalysisResource, warehouse: WarehouseResource):
    with warehouse.connection() as conn:
        extent = data_extent(conn)
        try:
            as_of, basis = choose_as_of(analysis.as_of_date, extent)
        except NoDataError as error:
            raise dg.Failure(str(error)) from error
        if extent.outliers:
            context.log.warning(f"as of {as_of}: {basis}")
        currency = conn.sql(load_query("activity", "data_currency")).fetchone()[0] or "CNY"
        create_table_as(conn, ANALYSIS_WINDOW.table, load_query("activity", "analysis_window"),
                        {"as_of": as_of, "currency": currency, "as_of_basis": basis,
                         "latest_data_date": extent.latest.date() if extent.latest else None,
                         "outlier_rows": extent.outliers, "outlier_cutoff": extent.cutoff})
        timezone = conn.sql("SELECT timezone FROM core.analysis_window").fetchone()[0]
        context.log.info(f"analysis as of {as_of} ({basis}), time zone {timezone}, currency {currency}")
        return materialized(conn, ANALYSIS_WINDOW, as_of=as_of.isoformat(), as_of_basis=basis, timezone=timezone,
                            currency=currency)


@table_asset(PURCHASES)
def core_purchases(warehouse: WarehouseResource):
    with warehouse.connection() as conn:
        return materialized(conn, PURCHASES, create_table_as(conn, PURCHASES.table, load_query("activity", "purchases")))


@table_asset(USER_ACTIVITY, USER_CHANNEL_MONTHS, USER_ACTIVITY_STATE, name="core_user_activity")
def core_user_activity(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    with warehouse.connection() as conn:
        refresh = refresh_user_activity(conn, warehouse.staged_dir)
        context.log.info(f"user activity: {'full rebuild' if refresh.full else 'incremental'}, "
                         f"{refresh.days} day(s) recomputed ({refresh.reason})")
        yield materialized(conn, USER_ACTIVITY, days_recomputed=refresh.days, full_rebuild=refresh.full,
                           refresh_reason=refresh.reason)
        yield materialized(conn, USER_CHANNEL_MONTHS)
        yield materialized(conn, USER_ACTIVITY_STATE)


CORE_TABLES = [ANALYSIS_WINDOW, PURCHASES, USER_ACTIVITY, USER_CHANNEL_MONTHS, USER_ACTIVITY_STATE]
core_assets = [analysis_window, core_purchases, core_user_activity]

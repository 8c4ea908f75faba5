"""Core layer: the analysis window and the entities every mart is built from, cut at the as-of date."""

import dagster as dg

from assets.resources import AnalysisResource, WarehouseResource
from warehouse import row_count
from warehouse.activity import refresh_user_activity

STAGED_EVENT_SOURCES = ("stg_transactions", "stg_events", "stg_touchpoints")


@dg.asset(group_name="core", kinds={"duckdb"}, deps=list(STAGED_EVENT_SOURCES))
def analysis_window(context: dg.AssetExecutionContext, analysis: AnalysisResource,
                    warehouse: WarehouseResource) -> dg.MaterializeResult:
    """One row per run: the as-of date, the exclusive end of the window, time zone and currency (core.analysis_window).

    History after the as-of date is ignored everywhere downstream; recency, tenure and value clocks stop there.
    """
    with warehouse.connection() as conn:
        latest = conn.sql(
            "SELECT max(t)::DATE FROM (SELECT max(occurred_at) AS t FROM staged.transactions "
            "UNION ALL SELECT max(occurred_at) FROM staged.events)"
        ).fetchone()[0]
        if analysis.as_of:
            as_of, basis = analysis.as_of, "given"
        elif latest is not None:
            as_of, basis = latest.isoformat(), "latest timestamp in the data"
        else:
            raise dg.Failure("no transactions or events to analyse: staged.transactions and staged.events are empty")
        currency = conn.sql(
            "SELECT coalesce(mode(currency), 'CNY') FROM staged.transactions WHERE currency IS NOT NULL"
        ).fetchone()[0] or "CNY"
        timezone = conn.sql("SELECT current_setting('TimeZone')").fetchone()[0]
        conn.execute("CREATE SCHEMA IF NOT EXISTS core")
        conn.execute(
            "CREATE OR REPLACE TABLE core.analysis_window AS SELECT CAST(? AS DATE) AS as_of, "
            "(CAST(? AS DATE) + INTERVAL 1 DAY)::TIMESTAMP::TIMESTAMPTZ AS window_end, ? AS timezone, "
            "? AS currency, ? AS as_of_basis, CAST(? AS DATE) AS latest_data_date",
            [as_of, as_of, timezone, currency, basis, latest],
        )
    context.log.info(f"analysis as of {as_of} ({basis}), time zone {timezone}, currency {currency}")
    return dg.MaterializeResult(
        metadata={"as_of": as_of, "as_of_basis": basis, "timezone": timezone, "currency": currency}
    )


@dg.asset(group_name="core", kinds={"duckdb"}, deps=["analysis_window", "stg_transactions"])
def core_purchases(warehouse: WarehouseResource) -> dg.MaterializeResult:
    """One row per completed transaction up to the as-of date, with its local date (core.purchases)."""
    with warehouse.connection() as conn:
        conn.execute(
            """
            CREATE OR REPLACE TABLE core.purchases AS
            SELECT t.txn_id, t.user_id, t.occurred_at, CAST(t.occurred_at AS DATE) AS txn_date, t.amount,
                   coalesce(t.revenue, 0)::DECIMAL(18, 2) AS revenue, coalesce(t.product_line, 'other') AS product_line,
                   t.product_id, t.currency
            FROM staged.transactions t, core.analysis_window w
            WHERE coalesce(t.status, 'completed') = 'completed' AND t.occurred_at < w.window_end
            ORDER BY t.occurred_at, t.txn_id
            """
        )
        rows = row_count(conn, "core.purchases")
    return dg.MaterializeResult(metadata={"dagster/row_count": rows})


@dg.asset(group_name="core", kinds={"duckdb"}, deps=["analysis_window", "stg_events", "core_purchases"])
def core_user_activity(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """One row per user per active day up to the as-of date: events, sessions, funnel steps and purchases that day (core.user_activity; events per channel and month in core.user_channel_months).

    Incremental: only the days whose staged events partitions or purchases changed since the last run
    are recomputed (rules in `warehouse/activity.py`); user-level features are built from these daily
    rows, never from raw events.
    """
    with warehouse.connection() as conn:
        events_in_parquet = conn.sql(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'staged' "
            "AND table_name = 'events' AND table_type = 'VIEW'").fetchone()[0] > 0
        refresh = refresh_user_activity(conn, warehouse.staged_dir if events_in_parquet else None)
        rows = row_count(conn, "core.user_activity")
    context.log.info(f"user activity: {'full rebuild' if refresh.full else 'incremental'}, "
                     f"{refresh.days} day(s) recomputed ({refresh.reason})")
    return dg.MaterializeResult(metadata={
        "dagster/row_count": rows, "days_recomputed": refresh.days, "full_rebuild": refresh.full,
        "refresh_reason": refresh.reason})


core_assets = [analysis_window, core_purchases, core_user_activity]

"""Core layer: the analysis window and the entities every mart is built from, cut at the as-of date."""

import dagster as dg

from assets.resources import AnalysisResource, WarehouseResource
from warehouse import row_count

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
def core_user_activity(warehouse: WarehouseResource) -> dg.MaterializeResult:
    """One row per user per active day up to the as-of date: events and purchases that day (core.user_activity)."""
    with warehouse.connection() as conn:
        conn.execute(
            """
            CREATE OR REPLACE TABLE core.user_activity AS
            WITH events AS (
                SELECT e.user_id, CAST(e.occurred_at AS DATE) AS activity_date, count(*) AS events,
                       count(*) FILTER (WHERE e.event_name = 'product_view') AS product_views,
                       count(*) FILTER (WHERE e.event_name = 'app_open') AS app_opens
                FROM staged.events e, core.analysis_window w
                WHERE e.user_id IS NOT NULL AND e.occurred_at < w.window_end
                GROUP BY ALL
            ), purchases AS (
                SELECT user_id, txn_date AS activity_date, count(*) AS purchases, sum(amount) AS purchase_amount
                FROM core.purchases GROUP BY ALL
            )
            SELECT user_id, activity_date, coalesce(events, 0) AS events, coalesce(product_views, 0) AS product_views,
                   coalesce(app_opens, 0) AS app_opens, coalesce(purchases, 0) AS purchases,
                   coalesce(purchase_amount, 0)::DECIMAL(18, 2) AS purchase_amount
            FROM events FULL OUTER JOIN purchases USING (user_id, activity_date)
            ORDER BY activity_date, user_id
            """
        )
        rows = row_count(conn, "core.user_activity")
    return dg.MaterializeResult(metadata={"dagster/row_count": rows})


core_assets = [analysis_window, core_purchases, core_user_activity]

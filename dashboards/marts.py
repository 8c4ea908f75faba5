"""What the dashboard pages read from the warehouse: the marts they draw and the data's window.

Both the run's `dashboard_pages` asset and the console's served pages read through here, so a page shows
the same figures wherever it is built.
"""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl

from campaigns.results.campaign_pages import campaign_page_frames
from warehouse import read_frame, table_exists

DASHBOARD_MARTS = ("kpi_daily", "cohort_retention", "channel_roi", "user_clv", "user_profile", "persona",
                   "persona_k_evidence", "user_segment", "lifecycle_counts", "clv_model", "value_by_group",
                   "clv_holdout_tracking", "clv_holdout_by_frequency", "channel_quality", "channel_payback",
                   "channel_cohort_roi", "channel_cohort_payback", "segment_movement", "metric_values")
CAMPAIGN_PAGE_INPUTS = ("campaign_decisions", "campaign_audience_funnel", "campaign_lift", "campaign_plans",
                        "campaign_plan_decisions", "campaign_outbox", "campaign_outbox_recipients",
                        "campaign_webhook_events", "campaign_templates")


def read_dashboard_marts(conn: duckdb.DuckDBPyConnection) -> dict[str, pl.DataFrame]:
    """Every mart the pages read (those present), money as floats: pages compute in floating point, the
    warehouse keeps exact decimals."""
    marts = {
        name: read_frame(conn, f"SELECT * FROM marts.{name}").with_columns(pl.col(pl.Decimal).cast(pl.Float64))
        for name in DASHBOARD_MARTS if table_exists(conn, f"marts.{name}")
    }
    marts.update(campaign_page_frames(conn))
    return marts


def data_window(conn: duckdb.DuckDBPyConnection) -> tuple[date, str, str, date | None]:
    """The as-of date, currency, as-of basis, and the first day the activity data covers (time charts start there)."""
    as_of, currency, basis = conn.sql("SELECT as_of, currency, as_of_basis FROM core.analysis_window").fetchone()
    data_from = conn.sql("SELECT min(date) FROM marts.kpi_daily WHERE active_users IS NOT NULL OR transactions IS NOT "
                         "NULL").fetchone()[0] if table_exists(conn, "marts.kpi_daily") else None
    return as_of, currency, basis, data_from

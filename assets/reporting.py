"""Reporting: the dashboards, written as self-contained HTML pages that work offline."""

from datetime import date

import dagster as dg
import duckdb
import polars as pl

from assets.resources import AnalysisResource, ReportsResource, WarehouseResource
from campaigns.results.campaign_pages import campaign_page_frames
from dashboards import DashboardSettings, write_dashboards
from dashboards.targets import TargetsError, load_targets
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


@dg.asset(group_name="reporting", kinds={"plotly", "html"}, deps=[*DASHBOARD_MARTS, *CAMPAIGN_PAGE_INPUTS])
def dashboard_pages(context: dg.AssetExecutionContext, analysis: AnalysisResource, reports: ReportsResource,
                    warehouse: WarehouseResource) -> dg.MaterializeResult:
    """One HTML file per dashboard page plus index.html, in the reports folder (no table)."""
    with warehouse.connection() as conn:
        as_of, currency, basis, data_from = data_window(conn)
        marts = read_dashboard_marts(conn)
    try:
        targets = load_targets(analysis.targets) if analysis.targets else {}
    except (TargetsError, OSError) as error:
        raise dg.Failure(description=str(error)) from error
    settings = DashboardSettings(language=analysis.language, min_group_size=analysis.min_group_size,
                                 currency=currency, targets=tuple(targets.items()), as_of=as_of, data_from=data_from,
                                 clv_horizon_days=analysis.clv_horizon_days)
    paths = write_dashboards(reports.folder, marts, settings,
                             run_info={"as_of": f"{as_of} ({basis})", "run_id": context.run.run_id})
    index = paths[0].resolve()
    context.log.info(f"dashboards written: {index}")
    return dg.MaterializeResult(metadata={
        "index": dg.MetadataValue.path(str(index)),
        "pages": dg.MetadataValue.json([p.name for p in paths]),
    })


reporting_assets = [dashboard_pages]

"""Reporting: the dashboards, written as self-contained HTML pages that work offline."""

import dagster as dg

from assets.resources import AnalysisResource, ReportsResource, WarehouseResource
from dashboards import DashboardSettings, write_dashboards
from dashboards.marts import CAMPAIGN_PAGE_INPUTS, DASHBOARD_MARTS, data_window, read_dashboard_marts
from dashboards.targets import TargetsError, load_targets

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

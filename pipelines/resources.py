"""Build the resources of a run from its settings."""

from __future__ import annotations

from assets.resources import AnalysisResource, LandingResource, ReportsResource, WarehouseResource
from pipelines.settings import Settings


def build_resources(settings: Settings) -> dict[str, object]:
    return {
        "warehouse": WarehouseResource(
            path=str(settings.warehouse), timezone=settings.timezone, staged_dir=settings.staged_location,
            memory_limit=settings.duckdb_memory_limit, threads=settings.duckdb_threads,
        ),
        "landing": LandingResource(path=str(settings.landing)),
        "reports": ReportsResource(path=str(settings.dashboards_dir)),
        "analysis": AnalysisResource(
            as_of=settings.as_of.isoformat() if settings.as_of else None,
            clv_horizon_days=settings.clv_horizon_days,
            holdout_weeks=settings.holdout_weeks,
            attribution_lookback_days=settings.attribution_lookback_days,
            conversion=settings.conversion,
            min_group_size=settings.min_group_size,
            language=settings.language,
            campaigns_dir=str(settings.campaigns_dir) if settings.campaigns_dir else None,
            targets_file=str(settings.targets) if settings.targets else None,
            rule_segments_file=str(settings.rule_segments) if settings.rule_segments else None,
        ),
    }

"""Build the resources of a run from its settings."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import dagster as dg

from assets.resources import AnalysisResource, CampaignStoreResource, LandingResource, ReportsResource, WarehouseResource
from pipelines.settings import Settings


def build_resources(settings: Settings) -> dict[str, object]:
    return {
        "warehouse": WarehouseResource(
            path=str(settings.warehouse), timezone=settings.timezone, staged_dir=settings.staged_location,
            memory_limit=settings.duckdb_memory_limit, threads=settings.duckdb_threads,
        ),
        "landing": LandingResource(path=str(settings.landing),
                                   value_maps=str(settings.value_maps) if settings.value_maps else None),
        # A URL from the environment may carry a password: Dagster reads it there and never shows it.
        "campaign_store": CampaignStoreResource(
            url=dg.EnvVar("FINGROWTH_CAMPAIGN_DB") if settings.campaign_db is not None else settings.campaign_db_url()),
        "reports": ReportsResource(path=str(settings.dashboards_dir)),
        # The analysis knobs are the settings of the same names.
        "analysis": AnalysisResource(**{name: _config_value(getattr(settings, name))
                                        for name in AnalysisResource.model_fields}),
    }


def _config_value(value: object) -> object:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value

"""The composition root: every asset, check, job, schedule and sensor, in data-flow order."""

from __future__ import annotations

import dagster as dg

from assets.campaign_dry_runs import campaign_assets
from assets.campaign_lift import campaign_lift_assets
from assets.channel_cohorts import channel_cohort_assets
from assets.channel_quality import channel_quality_assets
from assets.channel_roi import channel_assets
from assets.core import core_assets
from assets.credit_value import credit_value_assets
from assets.ingest import raw_assets, staged_assets
from assets.kpis import kpi_assets, kpi_checks
from assets.lifecycle_history import lifecycle_assets
from assets.lifetime_value import value_assets
from assets.profiles import profile_assets, profile_checks
from assets.quality_checks import staged_checks
from assets.reporting import reporting_assets
from assets.segmentation import segmentation_assets
from pipelines.jobs import (
    analytics_job,
    campaign_send_job,
    daily_analytics_schedule,
    daily_refresh_job,
    landing_files_sensor,
)
from pipelines.progress import step_progress_logger
from pipelines.resources import build_resources
from pipelines.settings import Settings

ALL_ASSETS = [
    *raw_assets, *staged_assets, *core_assets, *profile_assets, *lifecycle_assets, *segmentation_assets,
    *value_assets, *credit_value_assets, *kpi_assets, *channel_assets, *channel_quality_assets, *channel_cohort_assets, *campaign_assets, *campaign_lift_assets, *reporting_assets,
]
ALL_ASSET_CHECKS = [*staged_checks, *profile_checks, *kpi_checks]


def build_definitions(settings: Settings) -> dg.Definitions:
    return dg.Definitions(
        assets=ALL_ASSETS,
        asset_checks=ALL_ASSET_CHECKS,
        jobs=[analytics_job, campaign_send_job, daily_refresh_job],
        loggers={"progress": step_progress_logger},
        schedules=[daily_analytics_schedule],
        sensors=[landing_files_sensor],
        resources=build_resources(settings),
        # DuckDB allows one writer per file: every step of a run shares this process.
        executor=dg.in_process_executor,
    )


defs = build_definitions(Settings.from_env())

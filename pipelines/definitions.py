"""The composition root: every asset, check, job, schedule and sensor of the analytics code location."""

from __future__ import annotations

import dagster as dg

from assets.graph import ANALYTICS_ASSETS, EXTERNAL_ASSETS, SEPARATE_CHECKS
from pipelines.jobs import analytics_job, campaign_reconcile_job, campaign_send_job, daily_refresh_job
from pipelines.progress import step_progress_logger
from pipelines.resource_factory import build_resources
from pipelines.schedules import daily_analytics_schedule
from pipelines.sensors import campaign_reconcile_sensor, landing_files_sensor
from pipelines.settings import Settings


def build_definitions(settings: Settings) -> dg.Definitions:
    return dg.Definitions(
        assets=[*ANALYTICS_ASSETS, *EXTERNAL_ASSETS],
        asset_checks=SEPARATE_CHECKS,
        jobs=[analytics_job, campaign_send_job, campaign_reconcile_job, daily_refresh_job],
        loggers={"progress": step_progress_logger},
        schedules=[daily_analytics_schedule],
        sensors=[landing_files_sensor, campaign_reconcile_sensor],
        resources=build_resources(settings),
        # DuckDB allows one writer per file: every step of a run shares this process.
        executor=dg.in_process_executor,
    )


defs = build_definitions(Settings.from_env())

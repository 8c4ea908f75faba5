"""Schedules: the analytics refresh every morning."""

import dagster as dg

from pipelines.jobs import analytics_job

daily_analytics_schedule = dg.ScheduleDefinition(
    name="daily_analytics_schedule",
    job=analytics_job,
    cron_schedule="0 6 * * *",
    execution_timezone="Asia/Shanghai",
    description="Rebuild the analytics every morning, after the nightly exports land.",
)

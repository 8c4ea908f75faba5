"""Jobs, the daily schedule and the landing-folder sensor."""

import hashlib

import dagster as dg

from assets.resources import LandingResource
from pipelines.campaign_send import launch_campaign_file

# Every analytics asset. Campaign dry runs render and record but never send, so a refresh is always safe.
analytics_job = dg.define_asset_job(
    name="analytics_job",
    selection=dg.AssetSelection.all(),
    description="Ingest the landing folder and rebuild every mart and dashboard. Never sends anything.",
    # Runs that write the DuckDB file carry this tag, so a queued run coordinator can allow one at a time.
    tags={"fingrowth/warehouse-writer": "true"},
)


# Sends live only here: an op-based job outside every asset selection, started by hand (UI or CLI) with a
# campaign file in its run config. No schedule or sensor targets it.
@dg.job(description="Plan and launch one campaign file, as `fingrowth campaign launch`: dry run unless the run "
                    "config sets live: true (and SENDGRID_API_KEY is set). Never scheduled.",
        tags={"fingrowth/sends": "true"})
def campaign_send_job():
    launch_campaign_file()


# The incremental daily refresh, after `staging_partitions_job` (pipelines/partitioned.py) staged the new
# landing day: the window, purchases, the per-user-per-day activity (only changed days are recomputed)
# and the daily KPIs. Profiles (about a minute at a million users), segments, lifetime value,
# attribution and dashboards wait for the next full analytics_job (README, "Scale and scale-out").
DAILY_REFRESH_ASSETS = ("analysis_window", "core_purchases", "core_user_activity", "kpi_daily")
daily_refresh_job = dg.define_asset_job(
    name="daily_refresh_job",
    selection=dg.AssetSelection.assets(*DAILY_REFRESH_ASSETS),
    description="Refresh the daily activity layer and daily KPIs after a new landing day was staged by "
                "partition; recomputes only the changed days.",
    tags={"fingrowth/warehouse-writer": "true"},
)


daily_analytics_schedule = dg.ScheduleDefinition(
    name="daily_analytics_schedule",
    job=analytics_job,
    cron_schedule="0 6 * * *",
    execution_timezone="Asia/Shanghai",
    description="Rebuild the analytics every morning, after the nightly exports land.",
)


def landing_fingerprint(landing: LandingResource) -> str | None:
    """A digest of every landing file's path, size and modification time; None when the folder is absent."""
    folder = landing.folder
    if not folder.is_dir():
        return None
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = path.relative_to(folder).as_posix()
        if relative.startswith((".", "_")):
            continue
        stat = path.stat()
        digest.update(f"{relative}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


@dg.sensor(job=analytics_job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.STOPPED,
           description="Starts the analytics job when files in the landing folder are added or changed.")
def landing_files_sensor(context: dg.SensorEvaluationContext, landing: LandingResource):
    fingerprint = landing_fingerprint(landing)
    if fingerprint is None:
        return dg.SkipReason(f"landing folder {landing.path} does not exist")
    if fingerprint == context.cursor:
        return dg.SkipReason("no new or changed landing files")
    context.update_cursor(fingerprint)
    return dg.RunRequest(run_key=fingerprint)

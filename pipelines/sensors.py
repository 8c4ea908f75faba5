"""Sensors: a run when the landing folder changes; a reconcile while a campaign batch is open."""

import hashlib
from datetime import UTC, datetime

import dagster as dg

from assets.resources import CampaignStoreResource, LandingResource
from campaigns.campaign_errors import StoreUnavailable
from pipelines.jobs import analytics_job, campaign_reconcile_job

RECONCILE_INTERVAL_SECONDS = 300


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


@dg.sensor(job=campaign_reconcile_job, minimum_interval_seconds=RECONCILE_INTERVAL_SECONDS,
           default_status=dg.DefaultSensorStatus.RUNNING,
           description="Starts the campaign reconcile job while some batch is `sending` or `unknown`, so open batches "
                       "are settled from SendGrid events, or resent once after the wait, without anyone remembering.")
def campaign_reconcile_sensor(context: dg.SensorEvaluationContext, campaign_store: CampaignStoreResource):
    try:
        open_batches = campaign_store.open_batches()
    except StoreUnavailable as busy:
        return dg.SkipReason(str(busy))
    if not open_batches:
        return dg.SkipReason("no campaign batch is sending or unknown")
    slot = int(datetime.now(UTC).timestamp()) // RECONCILE_INTERVAL_SECONDS
    return dg.RunRequest(run_key=f"reconcile-{slot}", tags={"open_batches": str(open_batches)})

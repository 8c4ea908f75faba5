"""Sensors: a run when the landing folder changes."""

import hashlib

import dagster as dg

from assets.resources import LandingResource
from pipelines.jobs import analytics_job


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

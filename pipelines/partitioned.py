"""A second code location: event-like sources staged one landing day at a time, in parallel.

`staging_partitions_job` runs the daily-partitioned `stg_<source>_day` assets under the multiprocess
executor: every step is its own process, and none opens the DuckDB warehouse (they write Parquet
partitions), so several days and sources run at once without lock errors. Launch it per day, or
backfill a range (`dagster job backfill` or the UI); on Kubernetes or Celery swap the executor (README,
"Scale and scale-out"). The analytics job in `pipelines.definitions` keeps the in-process executor,
since its steps write the single-writer DuckDB file.
"""

from __future__ import annotations

import dagster as dg

from assets.staged_days import partition_assets
from pipelines.progress import step_progress_logger
from pipelines.resource_factory import build_resources
from pipelines.settings import Settings

staging_partitions_job = dg.define_asset_job(
    name="staging_partitions_job",
    selection=dg.AssetSelection.assets(*partition_assets),
    executor_def=dg.multiprocess_executor,
    description="Stage one landing day of events, touchpoints and transactions into Parquet partitions, "
                "each source in its own process.",
)


def build_partition_definitions(settings: Settings) -> dg.Definitions:
    return dg.Definitions(
        assets=partition_assets,
        jobs=[staging_partitions_job],
        loggers={"progress": step_progress_logger},
        resources=build_resources(settings),
    )


defs = build_partition_definitions(Settings.from_env())


def staging_partitions_job_from_env() -> dg.JobDefinition:
    """The job with resources from the environment, for `dagster.reconstructable` (multiprocess and remote
    executors rebuild the job in each step's process)."""
    return build_partition_definitions(Settings.from_env()).resolve_job_def("staging_partitions_job")

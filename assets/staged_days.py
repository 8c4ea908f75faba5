"""Staged layer, one landing day at a time: a daily-partitioned asset per event-like source.

Each partition types, checks and stages one `date=YYYY-MM-DD` landing folder into its Parquet partition
(`ingest.daily_staging.stage_day`) without opening the DuckDB warehouse, so a multiprocess, Celery or
Kubernetes executor can run many days and sources at once. The full `stg_<source>` assets write the same
partitions; `staged.<source>` reads them all.
"""

import datetime as dt
from pathlib import Path

import dagster as dg

from assets.resources import LandingResource, WarehouseResource
from ingest.contracts import CONTRACTS, SourceContract
from assets.staged import staging_options
from ingest.daily_staging import stage_day
from quality.suites import validate_staged_table
from warehouse.ownership import StagedFolderShared, claim_staged_folder

# Landing days are local days of the business time zone.
DAILY = dg.DailyPartitionsDefinition(start_date="2020-01-01", timezone="Asia/Shanghai", end_offset=1)


def _day_asset(contract: SourceContract) -> dg.AssetsDefinition:
    name = f"stg_{contract.name}_day"

    @dg.asset(
        name=name,
        group_name="staged",
        partitions_def=DAILY,
        kinds={"parquet", "duckdb"},
        check_specs=[
            dg.AssetCheckSpec("passes_expectations", asset=name, blocking=True,
                              description=f"Great Expectations suite for the day's staged {contract.name}, every row."),
            dg.AssetCheckSpec("rows_accounted_for", asset=name, blocking=True,
                              description="The day's landing rows = staged + quarantined."),
        ],
        description=(
            f"{contract.grain} One landing day (partition) typed, checked against every other day's keys and "
            f"staged as <staged_dir>/{contract.name}/event_date=DAY/; its rejected rows and row accounting go "
            f"to <staged_dir>/_quarantine/ and _accounting/. Never opens the DuckDB file."
        ),
    )
    def staged_day(context: dg.AssetExecutionContext, landing: LandingResource, warehouse: WarehouseResource):
        if not warehouse.staged_dir:
            raise dg.Failure("day-by-day staging needs a staged folder (FINGROWTH_STAGED_DIR)")
        try:
            claim_staged_folder(warehouse.staged_dir, Path(warehouse.path))
        except StagedFolderShared as error:
            raise dg.Failure(description=str(error)) from error
        day = dt.date.fromisoformat(context.partition_key)
        staged = stage_day(contract, landing.folder, day, warehouse.staged_dir, context.run.run_id,
                           timezone=warehouse.timezone, memory_limit=warehouse.memory_limit,
                           validate=validate_staged_table,
                           options=staging_options(landing, warehouse, contract.name))
        counts, outcome = staged.counts, staged.validation
        if counts.rows_quarantined:
            context.log.warning(f"{contract.name} {day}: {counts.rows_quarantined} row(s) quarantined")
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": counts.rows_staged,
                "rows_in": counts.rows_in,
                "rows_quarantined": counts.rows_quarantined,
                "files": len(staged.files),
                "quarantine_file": staged.quarantine_file,
                "top_quarantine_reasons": dg.MetadataValue.json(dict(staged.reasons)),
            },
            check_results=[
                dg.AssetCheckResult(
                    check_name="passes_expectations", passed=outcome.success, description=outcome.summary(),
                    metadata={"rows_checked": outcome.rows_checked, "batches": outcome.batches,
                              "failures": dg.MetadataValue.json(outcome.failures)}),
                dg.AssetCheckResult(
                    check_name="rows_accounted_for", passed=counts.balanced,
                    description=f"{counts.rows_in} in = {counts.rows_staged} staged + {counts.rows_quarantined} quarantined",
                    metadata={"rows_in": counts.rows_in, "rows_staged": counts.rows_staged,
                              "rows_quarantined": counts.rows_quarantined}),
            ],
        )

    return staged_day


partition_assets = [_day_asset(c) for c in CONTRACTS if c.event_time_column]

"""Raw and staged layers: one raw and one staged asset per landing source of the input contract."""

import dagster as dg

from assets.resources import LandingResource, WarehouseResource
from ingest.contracts import CONTRACTS, SourceContract
from ingest.landing import ContractError, unknown_landing_entries
from ingest.staging import load_raw, stage_source
from warehouse import read_frame, row_count, table_exists


def _raw_asset(contract: SourceContract) -> dg.AssetsDefinition:
    @dg.asset(
        name=f"raw_{contract.name}",
        group_name="raw",
        kinds={"duckdb"},
        description=(
            f"One row per line of the landing files of `{contract.name}`, every value as text, with "
            f"`_source_file` and `_line` (table raw.{contract.name}). Source grain: {contract.grain}"
        ),
    )
    def raw_source(context: dg.AssetExecutionContext, landing: LandingResource,
                   warehouse: WarehouseResource) -> dg.MaterializeResult:
        if not landing.folder.is_dir():
            raise dg.Failure(f"landing folder {landing.path} does not exist")
        with warehouse.connection() as conn:
            try:
                loaded = load_raw(conn, contract, landing.folder)
            except ContractError as error:
                raise dg.Failure(description=str(error)) from error
        if contract.required and not loaded.present:
            raise dg.Failure(
                description=(
                    f"required source {contract.name!r} is missing from {landing.path}: expected "
                    f"{contract.name}.csv, {contract.name}.parquet, {contract.name}.jsonl or a folder {contract.name}/"
                )
            )
        if contract.name == CONTRACTS[0].name:
            unknown = unknown_landing_entries(landing.folder, {c.name for c in CONTRACTS})
            if unknown:
                context.log.warning(f"landing entries that name no source were not read: {', '.join(unknown)}")
        if not loaded.present:
            context.log.info(f"optional source {contract.name!r} is absent; what needs it will say so")
        return dg.MaterializeResult(
            metadata={
                "present": loaded.present,
                "files": len(loaded.files),
                "file_list": dg.MetadataValue.text("\n".join(loaded.files[:200])),
                "dagster/row_count": loaded.rows,
            }
        )

    return raw_source


def _staged_asset(contract: SourceContract) -> dg.AssetsDefinition:
    referenced = sorted({r.target_source for r in contract.references if r.target_source != contract.name})

    @dg.asset(
        name=f"stg_{contract.name}",
        group_name="staged",
        kinds={"duckdb"},
        deps=[f"raw_{contract.name}", *[f"stg_{t}" for t in referenced]],
        description=(
            f"{contract.grain} Typed, validated and deduplicated (staged.{contract.name}"
            + ("; a view over daily Parquet partitions under the staged folder" if contract.event_time_column else "")
            + "); rejected rows go to quarantine.rejected_rows with file, line and reason."
        ),
    )
    def staged_source(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        with warehouse.connection() as conn:
            present = row_count(conn, f"raw.{contract.name}") > 0
            staged_targets = {
                t for t in referenced if table_exists(conn, f"staged.{t}") and row_count(conn, f"raw.{t}") > 0
            }
            counts = stage_source(conn, contract, context.run.run_id, staged_targets, present=present,
                                  parquet_dir=warehouse.staged_dir)
            reasons = read_frame(
                conn,
                "SELECT reasons, count(*) AS rows FROM quarantine.rejected_rows WHERE run_id = ? AND source = ? "
                "GROUP BY reasons ORDER BY rows DESC LIMIT 10",
                [context.run.run_id, contract.name],
            )
            preview = read_frame(conn, f"SELECT * FROM staged.{contract.name} LIMIT 5")
        if counts.rows_quarantined:
            context.log.warning(f"{contract.name}: {counts.rows_quarantined} row(s) quarantined")
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": counts.rows_staged,
                "rows_in": counts.rows_in,
                "rows_quarantined": counts.rows_quarantined,
                "present": counts.present,
                "top_quarantine_reasons": dg.MetadataValue.md(_markdown(reasons)),
                "preview": dg.MetadataValue.md(_markdown(preview)),
            }
        )

    return staged_source


def _markdown(frame) -> str:
    if frame.is_empty():
        return "(none)"
    header = "| " + " | ".join(frame.columns) + " |\n|" + "---|" * frame.width + "\n"
    rows = "\n".join("| " + " | ".join(str(v)[:60] for v in row) + " |" for row in frame.iter_rows())
    return header + rows


raw_assets = [_raw_asset(c) for c in CONTRACTS]
staged_assets = [_staged_asset(c) for c in CONTRACTS]

"""Raw layer: one asset per landing source, every landing row as text with its file and line."""

import dagster as dg

from assets.resources import LandingResource, WarehouseResource
from assets.tables import WarehouseTable, materialized, table_asset
from file_schemas import FileSchemaError
from ingest.contracts import CONTRACTS, SourceContract
from ingest.landing import ContractError, unknown_landing_entries
from ingest.staging import load_raw, source_options


def raw_table(contract: SourceContract) -> WarehouseTable:
    return WarehouseTable(
        key=f"raw_{contract.name}", table=f"raw.{contract.name}", group="raw",
        grain=f"One row per line of the landing files of `{contract.name}`",
        detail=(f"A view over the landing files: every value as text (typed Parquet columns keep their type), "
                f"contact details masked, with `__fg_file` and `__fg_line`. Source grain: {contract.grain}"),
    )


def _raw_asset(contract: SourceContract) -> dg.AssetsDefinition:
    table = raw_table(contract)

    @table_asset(table)
    def raw_source(context: dg.AssetExecutionContext, landing: LandingResource, warehouse: WarehouseResource):
        if not landing.folder.is_dir():
            raise dg.Failure(f"landing folder {landing.path} does not exist")
        with warehouse.connection() as conn:
            try:
                options = source_options(landing.folder, contract.name, scratch=warehouse.scratch_dir)
                loaded = load_raw(conn, contract, landing.folder, options)
            except (ContractError, FileSchemaError) as error:
                raise dg.Failure(description=str(error)) from error
            if contract.required and not loaded.present:
                raise dg.Failure(description=(
                    f"required source {contract.name!r} is missing from {landing.path}: expected "
                    f"{contract.name}.csv, {contract.name}.parquet, {contract.name}.jsonl or a folder {contract.name}/"))
            if contract.name == CONTRACTS[0].name:
                unknown = unknown_landing_entries(landing.folder, {c.name for c in CONTRACTS})
                if unknown:
                    context.log.warning(f"landing entries that name no source were not read: {', '.join(unknown)}")
            if not loaded.present:
                context.log.info(f"optional source {contract.name!r} is absent; what needs it will say so")
            if loaded.empty_files:
                context.log.warning(f"{contract.name}: empty file(s), read as no rows: {', '.join(loaded.empty_files[:20])}")
            # A view over the files: counting its rows would read them once more, so the size is given.
            return materialized(conn, table, count=False, present=loaded.present, files=len(loaded.files),
                                bytes=loaded.bytes,
                                file_list=dg.MetadataValue.text("\n".join(loaded.files[:200])))

    return raw_source


RAW_TABLES = [raw_table(c) for c in CONTRACTS]
raw_assets = [_raw_asset(c) for c in CONTRACTS]

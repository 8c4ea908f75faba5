"""Staged layer: each landing source typed, validated and deduplicated; every rejected row quarantined.

One step per source writes three kinds of table: `staged.<source>` (one row per entity or event; for
event-like sources a view over daily Parquet partitions), `quarantine.<source>` (its rejected rows, of
every run) and, for users, `private.user_contacts` (the contact details nothing else may hold). After
every source is staged, `quarantine.row_accounting` proves per source and run that rows in = staged +
quarantined, and `quarantine.rejected_rows` shows every source's rejects together.
"""

from pathlib import Path

import dagster as dg

from assets.resources import LandingResource, WarehouseResource
from assets.tables import WarehouseTable, materialized, table_asset
from file_schemas import FileSchemaError
from ingest.accounting import create_finding_views, record_row_accounting
from ingest.contracts import CONTRACTS, SourceContract
from ingest.landing import ContractError
from ingest.findings import quarantine_reasons, quarantine_table
from ingest.staging import StagingOptions, source_options, stage_source
from warehouse import read_frame, table_exists
from warehouse.ownership import StagedFolderShared, claim_staged_folder



def staging_options(landing: LandingResource, warehouse: WarehouseResource, source: str) -> StagingOptions:
    """The source's declared options, the value maps and the scratch folder of a run."""
    return source_options(landing.folder, source, Path(landing.value_maps) if landing.value_maps else None,
                          warehouse.scratch_dir)


def _references(contract: SourceContract) -> list[str]:
    return sorted({r.target_source for r in contract.references if r.target_source != contract.name})


def staged_table(contract: SourceContract) -> WarehouseTable:
    upstream = (f"raw_{contract.name}", *(f"stg_{t}" for t in _references(contract)))
    where = "; a view over daily Parquet partitions under the staged folder" if contract.event_time_column else ""
    return WarehouseTable(
        key=f"stg_{contract.name}", table=f"staged.{contract.name}", group="staged", deps=upstream,
        grain=contract.grain, detail=f"Typed, validated and deduplicated, no contact details{where}.")


def quarantined_table(contract: SourceContract) -> WarehouseTable:
    return WarehouseTable(
        key=f"quarantined_{contract.name}", table=quarantine_table(contract.name), group="quarantine",
        deps=staged_table(contract).deps,
        grain=f"One row per finding of staging `{contract.name}` per run",
        detail="`kind` row: a rejected landing row (file, line, reasons, the record with contact details masked); "
               "value: a value stored as null (file, line, column, reason); mapping: how many values were read "
               "from another spelling; read: a landing file read and the rows it held.")


USER_CONTACTS = WarehouseTable(
    key="user_contacts", table="private.user_contacts", group="staged", deps=("raw_users",),
    grain="One row per staged user: e-mail, phone and birth date",
    detail="Read only by campaigns (eligibility and delivery); no other table holds a contact detail.",
    primary_key=("user_id",))


def _tables(contract: SourceContract) -> list[WarehouseTable]:
    tables = [staged_table(contract), quarantined_table(contract)]
    if any(c.contact for c in contract.columns):
        tables.append(USER_CONTACTS)
    return tables


def _staged_asset(contract: SourceContract) -> dg.AssetsDefinition:
    tables = _tables(contract)
    staged, quarantined = tables[0], tables[1]
    referenced = _references(contract)

    @table_asset(*tables, name=staged.key)
    def staged_source(context: dg.AssetExecutionContext, landing: LandingResource, warehouse: WarehouseResource):
        run_id = context.run.run_id
        try:
            claim_staged_folder(warehouse.staged_dir, Path(warehouse.path))
        except StagedFolderShared as error:
            raise dg.Failure(description=str(error)) from error
        with warehouse.connection() as conn:
            targets = {t for t in referenced if table_exists(conn, f"staged.{t}") and _has_rows(conn, f"staged.{t}")}
            try:
                counts = stage_source(conn, contract, landing.folder, run_id, targets,
                                      staging_options(landing, warehouse, contract.name),
                                      parquet_dir=warehouse.staged_dir)
            except (ContractError, FileSchemaError) as error:
                raise dg.Failure(description=str(error)) from error
            if contract.required and counts.present and not counts.rows_in:
                files = ", ".join(f for (f,) in conn.execute(
                    f"SELECT source_file FROM {quarantined.table} WHERE run_id = ? AND kind = 'read'", [run_id]).fetchall())
                raise dg.Failure(description=f"required source {contract.name!r} has no rows: {files} holds no data row")
            reasons = quarantine_reasons(conn, contract.name, run_id)
            preview = read_frame(conn, f"SELECT * FROM {staged.table} LIMIT 5")
            if counts.rows_quarantined:
                context.log.warning(f"{contract.name}: {counts.rows_quarantined} row(s) quarantined")
            if counts.values_nulled:
                context.log.warning(f"{contract.name}: {counts.values_nulled} value(s) of optional columns stored as "
                                    "null (quarantine.value_findings)")
            yield materialized(conn, staged, counts.rows_staged, rows_in=counts.rows_in,
                               rows_quarantined=counts.rows_quarantined, present=counts.present,
                               values_nulled=counts.values_nulled, values_mapped=counts.values_mapped,
                               preview=dg.MetadataValue.md(_markdown(preview.columns, preview.rows())))
            yield materialized(conn, quarantined, counts.rows_quarantined,
                               top_quarantine_reasons=dg.MetadataValue.md(_markdown(["reasons", "rows"], reasons)))
            for extra in tables[2:]:
                yield materialized(conn, extra)

    return staged_source


def _has_rows(conn, table: str) -> bool:
    return conn.sql(f"SELECT EXISTS (SELECT 1 FROM {table})").fetchone()[0]


def _markdown(columns: list[str], rows: list[tuple]) -> str:
    if not rows:
        return "(none)"
    header = "| " + " | ".join(columns) + " |\n|" + "---|" * len(columns) + "\n"
    return header + "\n".join("| " + " | ".join(str(v)[:60] for v in row) + " |" for row in rows)


ROW_ACCOUNTING = WarehouseTable(
    key="row_accounting", table="quarantine.row_accounting", group="quarantine",
    deps=tuple(f"quarantined_{c.name}" for c in CONTRACTS),
    grain="One row per source per run: landing rows in, staged, quarantined, whether they balance, and the "
          "values stored as null or read from another spelling",
    detail="Computed from the files each staging read (quarantine `read` rows) and the staged and quarantined rows; "
           "earlier runs' rows stay. "
           "Depends on the quarantine tables only, so it is recorded even when a staged table fails its checks.",
    primary_key=("run_id", "source"))
QUARANTINE_KEYS = tuple(f"quarantined_{c.name}" for c in CONTRACTS)
REJECTED_ROWS = WarehouseTable(
    key="rejected_rows", table="quarantine.rejected_rows", group="quarantine", deps=QUARANTINE_KEYS,
    grain="One row per rejected landing row of any source and run",
    detail="A view over every `quarantine.<source>`: source, file, line, reasons and the masked record.")
VALUE_FINDINGS = WarehouseTable(
    key="value_findings", table="quarantine.value_findings", group="quarantine", deps=QUARANTINE_KEYS,
    grain="One row per value of an optional column stored as null, of any source and run",
    detail="Source, file, line, column and reason (a contact detail is never shown).")
VALUE_MAPPINGS = WarehouseTable(
    key="value_mappings", table="quarantine.value_mappings", group="quarantine", deps=QUARANTINE_KEYS,
    grain="One row per source, column and spelling read as a contract value, per run: how many values",
    detail="Spellings come from `ingest/library/value_maps.yaml` and FINGROWTH_VALUE_MAPS.")
FINDING_VIEWS = (REJECTED_ROWS, VALUE_FINDINGS, VALUE_MAPPINGS)


@table_asset(ROW_ACCOUNTING)
def row_accounting(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    with warehouse.connection() as conn:
        record_row_accounting(conn, CONTRACTS, context.run.run_id)
        unbalanced = [s for (s,) in conn.execute(
            "SELECT source FROM quarantine.row_accounting WHERE run_id = ? AND NOT balanced",
            [context.run.run_id]).fetchall()]
        return materialized(conn, ROW_ACCOUNTING, unbalanced=", ".join(unbalanced) or "none")


@table_asset(*FINDING_VIEWS, name="quarantine_views")
def quarantine_views(warehouse: WarehouseResource):
    with warehouse.connection() as conn:
        sizes = create_finding_views(conn, CONTRACTS)
        for table in FINDING_VIEWS:
            yield materialized(conn, table, sizes[table.table.split(".")[1]])


STAGED_TABLES = [table for c in CONTRACTS for table in _tables(c)] + [ROW_ACCOUNTING, *FINDING_VIEWS]
staged_assets = [*(_staged_asset(c) for c in CONTRACTS), row_accounting, quarantine_views]

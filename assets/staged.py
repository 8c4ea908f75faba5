"""Staged layer: each landing source typed, validated and deduplicated; every rejected row quarantined.

One step per source writes three kinds of table: `staged.<source>` (one row per entity or event; for
event-like sources a view over daily Parquet partitions), `quarantine.<source>` (its rejected rows, of
every run) and, for users, `private.user_contacts` (the contact details nothing else may hold). After
every source is staged, `quarantine.row_accounting` proves per source and run that rows in = staged +
quarantined, and `quarantine.rejected_rows` shows every source's rejects together.
"""

import dagster as dg

from assets.resources import WarehouseResource
from assets.tables import WarehouseTable, materialized, table_asset
from ingest.accounting import create_rejected_rows_view, record_row_accounting
from ingest.contracts import CONTRACTS, SourceContract
from ingest.staging import quarantine_reasons, quarantine_table, stage_source
from warehouse import read_frame, row_count, table_exists


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
        grain=f"One row per rejected landing row of `{contract.name}` per run",
        detail="Run id, file, line, every reason, and the original record with contact details masked.")


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
    def staged_source(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        run_id = context.run.run_id
        with warehouse.connection() as conn:
            present = row_count(conn, f"raw.{contract.name}") > 0
            targets = {t for t in referenced if table_exists(conn, f"staged.{t}") and row_count(conn, f"raw.{t}") > 0}
            counts = stage_source(conn, contract, run_id, targets, present=present, parquet_dir=warehouse.staged_dir)
            reasons = quarantine_reasons(conn, contract.name, run_id)
            preview = read_frame(conn, f"SELECT * FROM {staged.table} LIMIT 5")
            if counts.rows_quarantined:
                context.log.warning(f"{contract.name}: {counts.rows_quarantined} row(s) quarantined")
            yield materialized(conn, staged, counts.rows_staged, rows_in=counts.rows_in,
                               rows_quarantined=counts.rows_quarantined, present=counts.present,
                               preview=dg.MetadataValue.md(_markdown(preview.columns, preview.rows())))
            yield materialized(conn, quarantined, counts.rows_quarantined,
                               top_quarantine_reasons=dg.MetadataValue.md(_markdown(["reasons", "rows"], reasons)))
            for extra in tables[2:]:
                yield materialized(conn, extra)

    return staged_source


def _markdown(columns: list[str], rows: list[tuple]) -> str:
    if not rows:
        return "(none)"
    header = "| " + " | ".join(columns) + " |\n|" + "---|" * len(columns) + "\n"
    return header + "\n".join("| " + " | ".join(str(v)[:60] for v in row) + " |" for row in rows)


ROW_ACCOUNTING = WarehouseTable(
    key="row_accounting", table="quarantine.row_accounting", group="quarantine",
    deps=tuple(f"quarantined_{c.name}" for c in CONTRACTS),
    grain="One row per source per run: landing rows in, staged, quarantined, and whether they balance",
    detail="Computed from raw, staged and quarantine tables after every source is staged; earlier runs' rows stay. "
           "Depends on the quarantine tables only, so it is recorded even when a staged table fails its checks.",
    primary_key=("run_id", "source"))
REJECTED_ROWS = WarehouseTable(
    key="rejected_rows", table="quarantine.rejected_rows", group="quarantine",
    deps=tuple(f"quarantined_{c.name}" for c in CONTRACTS),
    grain="One row per rejected landing row of any source and run",
    detail="A view over every `quarantine.<source>`: source, file, line, reasons and the masked record.")


@table_asset(ROW_ACCOUNTING)
def row_accounting(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    with warehouse.connection() as conn:
        record_row_accounting(conn, CONTRACTS, context.run.run_id)
        unbalanced = [s for (s,) in conn.execute(
            "SELECT source FROM quarantine.row_accounting WHERE run_id = ? AND NOT balanced",
            [context.run.run_id]).fetchall()]
        return materialized(conn, ROW_ACCOUNTING, unbalanced=", ".join(unbalanced) or "none")


@table_asset(REJECTED_ROWS)
def rejected_rows(warehouse: WarehouseResource):
    with warehouse.connection() as conn:
        return materialized(conn, REJECTED_ROWS, create_rejected_rows_view(conn, CONTRACTS))


STAGED_TABLES = [table for c in CONTRACTS for table in _tables(c)] + [ROW_ACCOUNTING, REJECTED_ROWS]
staged_assets = [*(_staged_asset(c) for c in CONTRACTS), row_accounting, rejected_rows]

"""Row accounting: every landing row of a run is staged or quarantined, per source.

`quarantine.row_accounting` (one row per source per run) is computed from the warehouse itself: the
landing rows each file held (`quarantine.<source>` rows of kind `read`), the rows of `staged.<source>`,
the rejected rows (kind `row`), the values stored as null (kind `value`) and the values read from another
spelling (kind `mapping`). Three views show every source's findings together: `quarantine.rejected_rows`,
`quarantine.value_findings` and `quarantine.value_mappings`.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from ingest.contracts import SourceContract
from ingest.findings import quarantine_table

ACCOUNTING_COLUMNS = ("run_id", "source", "present", "files", "rows_in", "rows_staged", "rows_quarantined",
                      "balanced", "values_nulled", "values_mapped", "recorded_at")
FINDING_VIEWS = {
    "rejected_rows": ("row", "run_id, source, source_file, line, reasons, record"),
    "value_findings": ("value", "run_id, source, source_file, line, column_name, reasons"),
    "value_mappings": ("mapping", "run_id, source, column_name, reasons AS mapping, count AS values"),
}


def row_accounting_query(contracts: Sequence[SourceContract]) -> str:
    """One row per source for the run `$run_id` (a DuckDB named parameter)."""
    parts = [
        f"SELECT $run_id AS run_id, '{c.name}' AS source, "
        f"count(*) FILTER (WHERE kind = 'read') > 0 AS present, count(*) FILTER (WHERE kind = 'read')::BIGINT AS files, "
        f"coalesce(sum(count) FILTER (WHERE kind = 'read'), 0)::BIGINT AS rows_in, "
        f"(SELECT count(*) FROM staged.{c.name})::BIGINT AS rows_staged, "
        f"count(*) FILTER (WHERE kind = 'row')::BIGINT AS rows_quarantined, "
        f"count(*) FILTER (WHERE kind = 'value')::BIGINT AS values_nulled, "
        f"coalesce(sum(count) FILTER (WHERE kind = 'mapping'), 0)::BIGINT AS values_mapped "
        f"FROM {quarantine_table(c.name)} WHERE run_id = $run_id"
        for c in contracts
    ]
    return (f"SELECT run_id, source, present, files, rows_in, rows_staged, rows_quarantined, "
            f"rows_in = rows_staged + rows_quarantined AS balanced, values_nulled, values_mapped, "
            f"current_timestamp AS recorded_at FROM ({' UNION ALL '.join(parts)})")


def record_row_accounting(conn: duckdb.DuckDBPyConnection, contracts: Sequence[SourceContract], run_id: str) -> int:
    """Replace the run's rows of `quarantine.row_accounting` (earlier runs' rows stay); returns the row count."""
    conn.execute("CREATE SCHEMA IF NOT EXISTS quarantine")
    query = row_accounting_query(contracts)
    conn.execute(f"CREATE TABLE IF NOT EXISTS quarantine.row_accounting AS {query} LIMIT 0", {"run_id": run_id})
    for name in ("values_nulled", "values_mapped"):
        # Warehouses of earlier versions lack these columns.
        conn.execute(f"ALTER TABLE quarantine.row_accounting ADD COLUMN IF NOT EXISTS {name} BIGINT")
    conn.execute("DELETE FROM quarantine.row_accounting WHERE run_id = ?", [run_id])
    conn.execute(f"INSERT INTO quarantine.row_accounting BY NAME {query}", {"run_id": run_id})
    return len(contracts)


def create_finding_views(conn: duckdb.DuckDBPyConnection, contracts: Sequence[SourceContract]) -> dict[str, int]:
    """(Re)create the three views over the sources staged so far; returns the rows each holds."""
    staged = {name for (name,) in conn.sql("SELECT table_name FROM information_schema.tables "
                                           "WHERE table_schema = 'quarantine'").fetchall()}
    present = [c for c in contracts if c.name in staged]
    conn.execute("CREATE SCHEMA IF NOT EXISTS quarantine")
    sizes = {}
    for view, (kind, columns) in FINDING_VIEWS.items():
        body = " UNION ALL ".join(f"SELECT {columns} FROM {quarantine_table(c.name)} WHERE kind = '{kind}'"
                                  for c in present)
        if not body:
            body = (f"SELECT {columns} FROM (SELECT NULL::VARCHAR AS run_id, NULL::VARCHAR AS source, NULL::VARCHAR "
                    "AS source_file, NULL::BIGINT AS line, NULL::VARCHAR AS column_name, NULL::VARCHAR AS reasons, "
                    "NULL::VARCHAR AS record, NULL::BIGINT AS count) WHERE false")
        conn.execute(f"CREATE OR REPLACE VIEW quarantine.{view} AS {body}")
        sizes[view] = conn.sql(f"SELECT count(*) FROM quarantine.{view}").fetchone()[0]
    return sizes


def create_rejected_rows_view(conn: duckdb.DuckDBPyConnection, contracts: Sequence[SourceContract]) -> int:
    """The finding views (see `create_finding_views`); returns the rejected rows."""
    return create_finding_views(conn, contracts)["rejected_rows"]

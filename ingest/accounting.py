"""Row accounting: every landing row of a run is staged or quarantined, per source.

`quarantine.row_accounting` (one row per source per run) is computed from the warehouse itself: the
rows of `raw.<source>` (this run's landing rows), of `staged.<source>` and of `quarantine.<source>` for
the run. `quarantine.rejected_rows` is a view over every source's quarantine table.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from ingest.contracts import SourceContract
from ingest.landing import FILE_COLUMN
from ingest.staging import QUARANTINE_COLUMNS, quarantine_table

ACCOUNTING_COLUMNS = ("run_id", "source", "present", "files", "rows_in", "rows_staged", "rows_quarantined",
                      "balanced", "recorded_at")


def row_accounting_query(contracts: Sequence[SourceContract]) -> str:
    """One row per source for the run `$run_id` (a DuckDB named parameter)."""
    parts = [
        f"SELECT $run_id AS run_id, '{c.name}' AS source, "
        f"(SELECT count(*) FROM raw.{c.name}) > 0 AS present, "
        f"(SELECT count(DISTINCT {FILE_COLUMN}) FROM raw.{c.name})::BIGINT AS files, "
        f"(SELECT count(*) FROM raw.{c.name})::BIGINT AS rows_in, "
        f"(SELECT count(*) FROM staged.{c.name})::BIGINT AS rows_staged, "
        f"(SELECT count(*) FROM {quarantine_table(c.name)} WHERE run_id = $run_id)::BIGINT AS rows_quarantined"
        for c in contracts
    ]
    return ("SELECT *, rows_in = rows_staged + rows_quarantined AS balanced, current_timestamp AS recorded_at "
            f"FROM ({' UNION ALL '.join(parts)})")


def rejected_rows_view(contracts: Sequence[SourceContract]) -> str:
    """Every source's rejected rows of every run, in one relation."""
    columns = ", ".join(QUARANTINE_COLUMNS)
    return " UNION ALL ".join(f"SELECT {columns} FROM {quarantine_table(c.name)}" for c in contracts)


def record_row_accounting(conn: duckdb.DuckDBPyConnection, contracts: Sequence[SourceContract], run_id: str) -> int:
    """Replace the run's rows of `quarantine.row_accounting` (earlier runs' rows stay); returns the row count."""
    conn.execute("CREATE SCHEMA IF NOT EXISTS quarantine")
    query = row_accounting_query(contracts)
    conn.execute(f"CREATE TABLE IF NOT EXISTS quarantine.row_accounting AS {query} LIMIT 0", {"run_id": run_id})
    conn.execute("DELETE FROM quarantine.row_accounting WHERE run_id = ?", [run_id])
    conn.execute(f"INSERT INTO quarantine.row_accounting BY NAME {query}", {"run_id": run_id})
    return len(contracts)


def create_rejected_rows_view(conn: duckdb.DuckDBPyConnection, contracts: Sequence[SourceContract]) -> int:
    """(Re)create the `quarantine.rejected_rows` view over the sources staged so far; returns its rows."""
    staged = {name for (name,) in conn.sql("SELECT table_name FROM information_schema.tables "
                                           "WHERE table_schema = 'quarantine'").fetchall()}
    present = [c for c in contracts if c.name in staged]
    conn.execute("CREATE SCHEMA IF NOT EXISTS quarantine")
    conn.execute(f"CREATE OR REPLACE VIEW quarantine.rejected_rows AS {rejected_rows_view(present)}"
                 if present else "CREATE OR REPLACE VIEW quarantine.rejected_rows AS SELECT NULL::VARCHAR AS run_id, "
                 "NULL::VARCHAR AS source, NULL::VARCHAR AS source_file, NULL::BIGINT AS line, NULL::VARCHAR AS reasons, "
                 "NULL::VARCHAR AS record WHERE false")
    return conn.sql("SELECT count(*) FROM quarantine.rejected_rows").fetchone()[0]

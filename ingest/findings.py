"""`quarantine.<source>`: every finding of staging one source, per run, with its file and line.

One row per finding, by `kind`:

- `row`: a rejected landing row (file, line, reasons, the original record with contact details masked);
- `value`: a value stored as null (file, line, column, reason; a contact detail is never shown);
- `mapping`: how many values of a column were read from another spelling (`M` → `male`), per spelling;
- `read`: one row per landing file read, with the number of landing rows it held.

Staging collects them in temporary tables while it reads, with files by number (`_files` names them)
and rows by their place in the scan: `_flagged`, `_dup_candidates`, `_findings`, `_mappings`,
`_read_counts`, `_csv_rejected`. `record_findings` writes them with each file's name and each row's
physical line.
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb

from ingest.contracts import SourceContract
from ingest.landing import FILE_ID_COLUMN as FILE
from ingest.landing import LINE_COLUMN, mapped_line
from ingest.row_typing import FINDING_SEPARATOR, quote, shown_key, sql_str

QUARANTINE_COLUMNS = ("run_id", "source", "kind", "source_file", "line", "column_name", "reasons", "record", "count")
# A row's line in its file (its record for CSV), from its place in the scan: a file's rows are read
# together and in order, so it is the place less that of the file's first row, plus one.
LOCAL_LINE = "__fg_pos - _c.first_pos + 1"


def quarantine_table(source: str) -> str:
    """The table holding a source's findings of every run: `quarantine.<source>`."""
    return f"quarantine.{source}"


def create_quarantine_table(conn: duckdb.DuckDBPyConnection, source: str) -> None:
    conn.execute(f"CREATE SCHEMA IF NOT EXISTS quarantine; CREATE TABLE IF NOT EXISTS {quarantine_table(source)} "
                 "(run_id VARCHAR, source VARCHAR, kind VARCHAR, source_file VARCHAR, line BIGINT, column_name VARCHAR, "
                 "reasons VARCHAR, record VARCHAR, count BIGINT)")


def create_collections(conn: duckdb.DuckDBPyConnection, files: list[tuple[int, str, int, object]]) -> None:
    """The temporary tables staging collects findings in (replacing those of an earlier source).

    Args:
        files: (number, name relative to the landing folder, rank by name, landing day) of every file.
    """
    conn.execute("CREATE OR REPLACE TEMP TABLE _files (__fg_file_id BIGINT, __fg_file VARCHAR, __fg_rank BIGINT, "
                 "__fg_day DATE)")
    if files:
        conn.executemany("INSERT INTO _files VALUES (?, ?, ?, ?)", files)
    conn.execute("CREATE OR REPLACE TEMP TABLE _read_counts (__fg_file_id BIGINT, records BIGINT, first_pos BIGINT)")
    conn.execute("CREATE OR REPLACE TEMP TABLE _flagged (__fg_file_id BIGINT, __fg_line BIGINT, __fg_pos BIGINT, "
                 "reasons VARCHAR, record VARCHAR)")
    conn.execute("CREATE OR REPLACE TEMP TABLE _findings (__fg_file_id BIGINT, __fg_line BIGINT, reason VARCHAR)")
    conn.execute("CREATE OR REPLACE TEMP TABLE _mappings (column_name VARCHAR, spelling VARCHAR, value VARCHAR, "
                 "rows BIGINT)")
    conn.execute("CREATE OR REPLACE TEMP TABLE _csv_rejected (__fg_file_id BIGINT, __fg_line BIGINT, reasons VARCHAR, "
                 "record VARCHAR)")
    conn.execute("DROP TABLE IF EXISTS _dup_candidates")


def drop_collections(conn: duckdb.DuckDBPyConnection) -> None:
    for table in ("_flagged", "_key_hashes", "_dup_candidates", "_duplicates", "_files", "_read_counts", "_findings",
                  "_mappings", "_csv_rejected", "_line_map", "_reject_steps"):
        conn.execute(f"DROP TABLE IF EXISTS {table}")


def collect_chunk(conn: duckdb.DuckDBPyConnection, judged: str, flagged: str, typed_record: str) -> None:
    """Add a chunk's files (records, first place) and rejected rows (file-local lines) to the collections.

    Args:
        judged: SQL of the chunk's judged rows (`ingest.row_typing.RowTyping.judged`).
        flagged: the condition of a rejected row.
        typed_record: SQL of a row's record from its typed values (for rows rejected for references).
    """
    conn.execute(f"INSERT INTO _read_counts SELECT {FILE}, count(*) FILTER (WHERE NOT __fg_blank), "
                 f"min(__fg_pos) FROM ({judged}) GROUP BY ALL")
    conn.execute(
        f"INSERT INTO _flagged SELECT j.{FILE}, {LOCAL_LINE}, __fg_pos, "
        "concat_ws('; ', __fg_reasons, __fg_prior, CASE WHEN __fg_reasons IS NULL AND __fg_prior IS NULL "
        f"THEN __fg_refs END), coalesce(__fg_record, {typed_record}) FROM ({judged}) j "
        f"JOIN _read_counts _c USING ({FILE}) WHERE {flagged}")


def collect_candidates(conn: duckdb.DuckDBPyConnection, select: str, first: bool) -> None:
    """Keep rows whose key may repeat (`select`, with `__fg_dup_record` and `__fg_dup_hash`) until every
    chunk is read, with their file-local line."""
    rows = f"SELECT s.*, {LOCAL_LINE} AS {LINE_COLUMN} FROM ({select}) s JOIN _read_counts _c USING ({FILE})"
    conn.execute(f"CREATE TEMP TABLE _dup_candidates AS {rows}" if first else f"INSERT INTO _dup_candidates {rows}")


def collect_findings(conn: duckdb.DuckDBPyConnection, good: str, mapped: dict[str, tuple[str, bool]],
                     local_lines: bool) -> None:
    """Add the value findings and mapped spellings of the staged rows `good` (a FROM clause).

    Args:
        mapped: column → (the SQL column holding the spelling it was mapped from, whether it is a contact).
        local_lines: the rows' lines are already file-local (rows kept back as duplicate candidates).
    """
    line, join = (LINE_COLUMN, "") if local_lines else (LOCAL_LINE, f" JOIN _read_counts _c USING ({FILE})")
    conn.execute(f"INSERT INTO _findings SELECT _good.{FILE}, {line}, "
                 f"unnest(string_split(__fg_findings, {FINDING_SEPARATOR})) {good}{join} WHERE __fg_findings IS NOT NULL")
    for name, (column, contact) in mapped.items():
        shown = sql_str("***") if contact else column
        conn.execute(f"INSERT INTO _mappings SELECT {sql_str(name)}, {shown}, CAST({quote(name)} AS VARCHAR), "
                     f"count(*) {good} WHERE {column} IS NOT NULL GROUP BY ALL")


def duplicates_select(contract: SourceContract) -> str:
    """Rows of `_dup_candidates` that repeat the key of an earlier candidate, with the first's file, line and hash.

    Only rows with no problem of their own are candidates, so a rejected first copy never makes a good
    later copy a duplicate; the hash of the typed values tells an exact copy from a conflicting one.
    """
    key = ", ".join(quote(k) for k in contract.key)
    window = f"(PARTITION BY {key} ORDER BY __fg_pos)"
    ranked = (f"SELECT __fg_pos, row_number() OVER {window} AS _key_rank, "
              f"first_value({FILE}) OVER {window} AS first_file, first_value({LINE_COLUMN}) OVER {window} AS first_line, "
              f"first_value(__fg_dup_hash) OVER {window} AS first_hash, {shown_key(contract)} AS key_shown "
              "FROM _dup_candidates")
    return (f"SELECT __fg_pos, first_file, first_line, first_hash, key_shown, "
            f"{sql_str(', '.join(contract.key))} AS key_names FROM ({ranked}) WHERE _key_rank > 1")


def record_findings(conn: duckdb.DuckDBPyConnection, source: str, run_id: str, csv_files: set[int]) -> tuple[int, ...]:
    """Replace the run's rows of `quarantine.<source>` with every finding collected.

    Args:
        csv_files: the numbers of the CSV files (whose lines are mapped from record numbers).

    Returns:
        (rows in, rows quarantined, values stored as null, values mapped).
    """
    numbered = ", ".join(str(f) for f in sorted(csv_files)) or "NULL"

    # `record` and `file` must name their table: the lookups' own tables have columns of the same names.
    def line(record: str, file: str) -> str:
        return f"CASE WHEN {file} IN ({numbered}) THEN {mapped_line(record, file)} ELSE {record} END"

    def name(file: str) -> str:
        return f"(SELECT n.__fg_file FROM _files n WHERE n.__fg_file_id = {file})"

    quarantine = quarantine_table(source)
    conn.execute(f"DELETE FROM {quarantine} WHERE run_id = ?", [run_id])
    insert = f"INSERT INTO {quarantine} (run_id, source, kind, source_file, line, column_name, reasons, record, count) "
    source_name = sql_str(source)
    conn.execute(
        insert + f"SELECT ?, {source_name}, 'row', {name(f'q.{FILE}')}, {line(f'q.{LINE_COLUMN}', f'q.{FILE}')}, NULL, "
        f"q.reasons, q.record, 1 FROM ({_rejected_select(line, name)}) q "
        f"UNION ALL SELECT ?, {source_name}, 'row', {name(f'r.{FILE}')}, r.{LINE_COLUMN}, NULL, r.reasons, r.record, 1 "
        "FROM _csv_rejected r ORDER BY 4, 5", [run_id, run_id])
    conn.execute(
        insert + f"SELECT ?, {source_name}, 'value', {name(f'v.{FILE}')}, {line(f'v.{LINE_COLUMN}', f'v.{FILE}')}, "
        "split_part(v.reason, ':', 1), v.reason, NULL, 1 FROM _findings v ORDER BY 4, 5, 6", [run_id])
    mapping = "'''' || spelling || ''' read as ''' || value || ''''"
    conn.execute(insert + f"SELECT ?, {source_name}, 'mapping', NULL, NULL, column_name, {mapping}, NULL, sum(rows) "
                 "FROM _mappings GROUP BY ALL ORDER BY 6, 7", [run_id])
    conn.execute(
        insert + f"SELECT ?, {source_name}, 'read', f.__fg_file, NULL, NULL, NULL, NULL, "
        "coalesce(r.records, 0) + coalesce(c.rejected, 0) FROM _files f "
        f"LEFT JOIN (SELECT {FILE}, sum(records) AS records FROM _read_counts GROUP BY ALL) r USING ({FILE}) "
        f"LEFT JOIN (SELECT {FILE}, count(*) AS rejected FROM _csv_rejected GROUP BY ALL) c USING ({FILE}) "
        "ORDER BY f.__fg_rank", [run_id])
    return conn.execute(
        "SELECT coalesce(sum(count) FILTER (WHERE kind = 'read'), 0)::BIGINT, count(*) FILTER (WHERE kind = 'row'), "
        "count(*) FILTER (WHERE kind = 'value'), coalesce(sum(count) FILTER (WHERE kind = 'mapping'), 0)::BIGINT "
        f"FROM {quarantine} WHERE run_id = ?", [run_id]).fetchone()


def _rejected_select(line: Callable[[str, str], str], name: Callable[[str], str]) -> str:
    """File, file-local line (record number for CSV), reasons and original record of each row staging
    rejected: its own problems, a key staged on another day, an unknown reference, a duplicate key.

    References are only reported on rows that are otherwise fine, so each row gets its first problem.
    """
    reasons = f"SELECT {FILE}, {LINE_COLUMN}, __fg_pos, reasons, record FROM _flagged"
    duplicates = (
        f"SELECT c.{FILE}, c.{LINE_COLUMN}, c.__fg_pos, "
        "CASE WHEN c.__fg_dup_hash = d.first_hash THEN 'duplicate: exact copy of ' ELSE 'duplicate key (' || "
        f"d.key_names || ') = ' || d.key_shown || ' already staged from ' END || {name('d.first_file')} || ' line ' || "
        f"{line('d.first_line', 'd.first_file')} AS reasons, c.__fg_dup_record AS record "
        "FROM _duplicates d JOIN _dup_candidates c USING (__fg_pos)")
    return f"SELECT * FROM ({reasons} UNION ALL {duplicates}) WHERE reasons <> ''"


def quarantine_reasons(conn: duckdb.DuckDBPyConnection, source: str, run_id: str, limit: int = 10) -> list[tuple[str, int]]:
    """The commonest reasons a run rejected rows of a source, with their counts."""
    return conn.execute(
        f"SELECT reasons, count(*) AS n FROM {quarantine_table(source)} WHERE run_id = ? AND kind = 'row' "
        "GROUP BY reasons ORDER BY n DESC, reasons LIMIT ?", [run_id, limit]).fetchall()

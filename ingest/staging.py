"""Raw → staged: type every value, deduplicate by key, check references, quarantine the rest.

Every raw row ends in exactly one place: its staged table or `quarantine.rejected_rows` with its file,
line and every reason it was rejected. `rows_in = rows_staged + rows_quarantined` holds by construction
and is recorded per source and run in `quarantine.row_accounting`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from ingest.contracts import Column, SourceContract
from ingest.landing import ERROR_COLUMN, FILE_COLUMN, LINE_COLUMN, META_COLUMNS, find_source_files, load_landing_files

MONEY_PATTERN = r"^-?[0-9]+(\.[0-9]{1,2})?$"
INTEGER_PATTERN = r"^-?[0-9]+$"
TRUE_WORDS = ("true", "t", "yes", "y", "1")
FALSE_WORDS = ("false", "f", "no", "n", "0")
CONTACT_MASK = "***"

QUARANTINE_DDL = """
CREATE SCHEMA IF NOT EXISTS quarantine;
CREATE TABLE IF NOT EXISTS quarantine.rejected_rows (
    run_id VARCHAR, source VARCHAR, source_file VARCHAR, line BIGINT, reasons VARCHAR, record VARCHAR
);
CREATE TABLE IF NOT EXISTS quarantine.row_accounting (
    run_id VARCHAR, source VARCHAR, present BOOLEAN, files BIGINT, rows_in BIGINT, rows_staged BIGINT,
    rows_quarantined BIGINT, balanced BOOLEAN, recorded_at TIMESTAMPTZ DEFAULT current_timestamp
);
"""


@dataclass(frozen=True)
class RawLoad:
    source: str
    present: bool
    files: tuple[str, ...]
    rows: int


@dataclass(frozen=True)
class StageCounts:
    source: str
    present: bool
    rows_in: int
    rows_staged: int
    rows_quarantined: int

    @property
    def balanced(self) -> bool:
        return self.rows_in == self.rows_staged + self.rows_quarantined


def load_raw(conn: duckdb.DuckDBPyConnection, contract: SourceContract, landing: Path) -> RawLoad:
    """Read every file of a source into `raw.<source>` as text, with file and line per row.

    An absent source gets an empty table with the contract's columns, so downstream SQL still runs.
    """
    files = find_source_files(landing, contract.name)
    rows = load_landing_files(conn, files, contract, landing, f"raw.{contract.name}")
    return RawLoad(contract.name, bool(files), tuple(f.relative for f in files), rows)


def stage_source(
    conn: duckdb.DuckDBPyConnection,
    contract: SourceContract,
    run_id: str,
    staged_sources: set[str],
    present: bool = True,
) -> StageCounts:
    """Build `staged.<source>` from `raw.<source>` and quarantine every rejected row with its reasons.

    Args:
        conn: warehouse connection whose TimeZone setting is the business time zone (naive timestamps
            are read in it).
        contract: the source's contract.
        run_id: identifies this run in the quarantine and accounting tables.
        staged_sources: sources already staged with data, whose keys references are checked against.
        present: whether the source had any landing file.
    """
    conn.execute(QUARANTINE_DDL)
    conn.execute("CREATE SCHEMA IF NOT EXISTS staged; CREATE SCHEMA IF NOT EXISTS private")
    raw_table = f"raw.{contract.name}"
    raw_columns = [r[0] for r in conn.sql(f"DESCRIBE {raw_table}").fetchall()]
    extras = [c for c in raw_columns if c not in contract.column_names and c not in META_COLUMNS]

    # Files are numbered once so the wide per-row tables carry a small integer instead of the path.
    conn.execute(
        f"CREATE OR REPLACE TEMP TABLE _files AS SELECT {FILE_COLUMN}, "
        f"row_number() OVER (ORDER BY {FILE_COLUMN}) AS _file_rank "
        f"FROM (SELECT DISTINCT {FILE_COLUMN} FROM {raw_table})"
    )
    conn.execute(f"CREATE OR REPLACE TEMP TABLE _typed AS {_typed_select(contract, extras)}")
    conn.execute(f"CREATE OR REPLACE TEMP TABLE _duplicates AS {_duplicates_select(contract)}")
    conn.execute(f"CREATE OR REPLACE TEMP TABLE _rejected AS {_rejected_select(contract, staged_sources)}")

    staged_columns = [c.name for c in contract.columns if not c.contact] + [_quote(e) for e in extras]
    if contract.derived_key_from:
        staged_columns = [*contract.key, *staged_columns]
    if contract.name == "users":
        staged_columns.insert(staged_columns.index("gender"), "year(birth_date)::INTEGER AS birth_year")
    # Rejected rows are few, so the good ones are the typed rows minus them (an anti join on a small side).
    good = f"FROM _typed ANTI JOIN _rejected USING (_file_rank, {LINE_COLUMN})"
    conn.execute(
        f"CREATE OR REPLACE TABLE staged.{contract.name} AS SELECT {', '.join(staged_columns)} "
        f"{good} ORDER BY _file_rank, {LINE_COLUMN}"
    )
    contact_columns = [c.name for c in contract.columns if c.contact]
    if contact_columns:
        conn.execute(
            f"CREATE OR REPLACE TABLE private.user_contacts AS SELECT {', '.join(contract.key + tuple(contact_columns))} "
            f"{good}"
        )

    record_fields = ", ".join(
        f"{_sql_str(c)}, {_sql_str(CONTACT_MASK) if _is_contact(contract, c) else _raw_text(contract, c)}"
        for c in [*contract.column_names, *extras]
    )
    conn.execute("DELETE FROM quarantine.rejected_rows WHERE run_id = ? AND source = ?", [run_id, contract.name])
    conn.execute(
        f"INSERT INTO quarantine.rejected_rows SELECT ?, ?, f.{FILE_COLUMN}, q.{LINE_COLUMN}, "
        f"array_to_string(q.reasons, '; '), json_object({record_fields})::VARCHAR "
        f"FROM _rejected q JOIN _files f USING (_file_rank) "
        f"JOIN {raw_table} r ON r.{FILE_COLUMN} = f.{FILE_COLUMN} AND r.{LINE_COLUMN} = q.{LINE_COLUMN} "
        f"ORDER BY q._file_rank, q.{LINE_COLUMN}",
        [run_id, contract.name],
    )

    rows_in = conn.sql(f"SELECT count(*) FROM {raw_table}").fetchone()[0]
    rows_staged = conn.sql(f"SELECT count(*) FROM staged.{contract.name}").fetchone()[0]
    rows_quarantined = conn.execute(
        "SELECT count(*) FROM quarantine.rejected_rows WHERE run_id = ? AND source = ?", [run_id, contract.name]
    ).fetchone()[0]
    counts = StageCounts(contract.name, present, rows_in, rows_staged, rows_quarantined)
    files = conn.sql("SELECT count(*) FROM _files").fetchone()[0]
    conn.execute("DELETE FROM quarantine.row_accounting WHERE run_id = ? AND source = ?", [run_id, contract.name])
    conn.execute(
        "INSERT INTO quarantine.row_accounting (run_id, source, present, files, rows_in, rows_staged, "
        "rows_quarantined, balanced) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [run_id, contract.name, present, files, rows_in, rows_staged, rows_quarantined, counts.balanced],
    )
    conn.execute("DROP TABLE _files; DROP TABLE _typed; DROP TABLE _duplicates; DROP TABLE _rejected")
    return counts


def _typed_select(contract: SourceContract, extras: list[str]) -> str:
    """File rank, line, typed value of every column, and the row's own reasons, for every raw row.

    The original text is not kept here (quarantine reads it back from the raw table for the few rejected
    rows), which keeps this per-row table about half as wide.
    """
    texts = ["f._file_rank", f"r.{LINE_COLUMN}", f"r.{ERROR_COLUMN}"]
    texts += [f"NULLIF(trim(r.{_quote(c.name)}), '') AS {_raw(c.name)}" for c in contract.columns]
    texts += [f"r.{_quote(e)} AS {_quote(e)}" for e in extras]
    parts = ["_file_rank", LINE_COLUMN]
    reasons = [ERROR_COLUMN]
    for column in contract.columns:
        raw = _raw(column.name)
        value, reason = _typed_value(column, raw)
        parts.append(f"{value} AS {_quote(column.name)}")
        reasons.append(reason)
        reasons.append(
            f"CASE WHEN contains({raw}, chr(65533)) THEN '{column.name}: contains bytes that are not valid UTF-8' END"
        )
    parts += [_quote(e) for e in extras]
    if contract.one_of_required:
        filled = " OR ".join(f"{_raw(c)} IS NOT NULL" for c in contract.one_of_required)
        names = " or ".join(contract.one_of_required)
        reasons.append(f"CASE WHEN NOT ({filled}) THEN '{names}: at least one is required' END")
    parts.append(f"list_filter([{', '.join(reasons)}], r -> r IS NOT NULL) AS row_reasons")
    typed = (
        f"SELECT {', '.join(parts)} FROM (SELECT {', '.join(texts)} "
        f"FROM raw.{contract.name} r JOIN _files f USING ({FILE_COLUMN}))"
    )
    if contract.derived_key_from:
        key_text = ", ".join(f"coalesce(CAST({_quote(c)} AS VARCHAR), '')" for c in contract.derived_key_from)
        typed = f"SELECT md5(concat_ws('|', {key_text})) AS {contract.key[0]}, * FROM ({typed})"
    return typed


def _typed_value(column: Column, raw: str) -> tuple[str, str]:
    """SQL for (typed value, reason it is invalid or NULL)."""
    name = column.name
    shown = f"'{name}: \"' || {raw} || '\"'"
    if column.type == "timestamp":
        value = f"TRY_CAST({raw} AS TIMESTAMPTZ)"
        sane = f"year({value}) BETWEEN 1900 AND 2200"
        reason = f"CASE WHEN {raw} IS NOT NULL AND ({value} IS NULL OR NOT {sane}) THEN {shown} || ' is not an ISO 8601 timestamp' END"
        value = f"CASE WHEN {sane} THEN {value} END"
    elif column.type == "date":
        value = f"TRY_CAST({raw} AS DATE)"
        sane = f"year({value}) BETWEEN 1900 AND 2200"
        reason = f"CASE WHEN {raw} IS NOT NULL AND ({value} IS NULL OR NOT {sane}) THEN {shown} || ' is not an ISO 8601 date' END"
        value = f"CASE WHEN {sane} THEN {value} END"
    elif column.type == "money":
        ok = f"regexp_full_match({raw}, '{MONEY_PATTERN}')"
        value = f"CASE WHEN {ok} THEN CAST({raw} AS DECIMAL(18, 2)) END"
        reason = f"CASE WHEN {raw} IS NOT NULL AND NOT {ok} THEN {shown} || ' is not an amount with at most two decimals' END"
    elif column.type == "int":
        ok = f"regexp_full_match({raw}, '{INTEGER_PATTERN}')"
        value = f"CASE WHEN {ok} THEN TRY_CAST({raw} AS BIGINT) END"
        reason = f"CASE WHEN {raw} IS NOT NULL AND {value} IS NULL THEN {shown} || ' is not an integer' END"
    elif column.type == "float":
        value = f"CASE WHEN isfinite(TRY_CAST({raw} AS DOUBLE)) THEN TRY_CAST({raw} AS DOUBLE) END"
        reason = f"CASE WHEN {raw} IS NOT NULL AND {value} IS NULL THEN {shown} || ' is not a number' END"
    elif column.type == "bool":
        words = lambda ws: ", ".join(f"'{w}'" for w in ws)  # noqa: E731
        value = (
            f"CASE WHEN lower({raw}) IN ({words(TRUE_WORDS)}) THEN TRUE "
            f"WHEN lower({raw}) IN ({words(FALSE_WORDS)}) THEN FALSE END"
        )
        reason = f"CASE WHEN {raw} IS NOT NULL AND {value} IS NULL THEN {shown} || ' is not true or false' END"
    elif column.type == "json":
        value = f"CASE WHEN json_valid({raw}) THEN {raw} END"
        reason = f"CASE WHEN {raw} IS NOT NULL AND {value} IS NULL THEN '{name}: not valid JSON' END"
    elif column.allowed:
        cases = " ".join(f"WHEN {_sql_str(a.lower())} THEN {_sql_str(a)}" for a in column.allowed)
        value = f"CASE lower({raw}) {cases} END"
        listed = ", ".join(column.allowed)
        reason = f"CASE WHEN {raw} IS NOT NULL AND {value} IS NULL THEN {shown} || ' is not one of {listed}' END"
    else:
        value = raw
        reason = "NULL"

    checks = [reason]
    if column.required:
        checks.append(f"CASE WHEN {raw} IS NULL THEN '{name}: required value is missing' END")
    if column.min_value is not None:
        checks.append(f"CASE WHEN {value} < {column.min_value} THEN {shown} || ' is below the minimum {column.min_value:g}' END")
    if column.max_value is not None:
        checks.append(f"CASE WHEN {value} > {column.max_value} THEN {shown} || ' is above the maximum {column.max_value:g}' END")
    return value, f"coalesce({', '.join(checks)})" if len(checks) > 1 else checks[0]


def _duplicates_select(contract: SourceContract) -> str:
    """Rows that repeat the key of an earlier otherwise-good row, with the reason.

    Keys are grouped first and only rows of repeated keys are ranked, so the window sorts the
    handful of duplicates instead of every row; their original text is read back from the raw table
    to tell an exact copy from a conflicting one.
    """
    key = ", ".join(_quote(k) for k in contract.key)
    same_key = " AND ".join(f"c.{_quote(k)} IS NOT DISTINCT FROM k.{_quote(k)}" for k in contract.key)
    content = ", ".join(f"coalesce(NULLIF(trim(r.{_quote(c)}), ''), '')" for c in contract.column_names)
    members = (
        f"SELECT c._file_rank, c.{LINE_COLUMN}, {', '.join(f'c.{_quote(k)}' for k in contract.key)}, "
        f"f.{FILE_COLUMN}, md5(concat_ws('|', {content})) AS _content_hash "
        f"FROM (SELECT {key}, _file_rank, {LINE_COLUMN} FROM _typed WHERE row_reasons = []) c "
        f"SEMI JOIN (SELECT {key} FROM _typed WHERE row_reasons = [] GROUP BY ALL HAVING count(*) > 1) k "
        f"ON {same_key} "
        f"JOIN _files f USING (_file_rank) "
        f"JOIN raw.{contract.name} r ON r.{FILE_COLUMN} = f.{FILE_COLUMN} AND r.{LINE_COLUMN} = c.{LINE_COLUMN}"
    )
    window = f"(PARTITION BY {key} ORDER BY _file_rank, {LINE_COLUMN})"
    ranked = (
        f"SELECT *, row_number() OVER {window} AS _key_rank, "
        f"first_value({FILE_COLUMN} || ' line ' || {LINE_COLUMN}) OVER {window} AS _first_at, "
        f"first_value(_content_hash) OVER {window} AS _first_hash FROM ({members})"
    )
    key_shown = " || ', ' || ".join(f"coalesce(CAST({_quote(k)} AS VARCHAR), '')" for k in contract.key)
    reason = (
        "CASE WHEN _content_hash = _first_hash THEN 'duplicate: exact copy of ' || _first_at "
        f"ELSE 'duplicate key ({', '.join(contract.key)}) = ' || {key_shown} || ' already staged from ' || _first_at END"
    )
    return f"SELECT _file_rank, {LINE_COLUMN}, {reason} AS reason FROM ({ranked}) WHERE _key_rank > 1"


def _rejected_select(contract: SourceContract, staged_sources: set[str]) -> str:
    """File rank, line and every reason of each rejected row: its own, duplicate key, unknown reference."""
    joins, ref_reasons = [], []
    for i, ref in enumerate(contract.references):
        if ref.target_source not in staged_sources:
            continue
        alias = f"_ref{i}"
        joins.append(
            f"LEFT JOIN (SELECT DISTINCT {_quote(ref.target_column)} AS _k FROM staged.{ref.target_source}) {alias} "
            f"ON t.{_quote(ref.column)} = {alias}._k"
        )
        ref_reasons.append(
            f"CASE WHEN t.{_quote(ref.column)} IS NOT NULL AND {alias}._k IS NULL THEN "
            f"'{ref.column}: \"' || t.{_quote(ref.column)} || '\" is not a known {ref.target_source}.{ref.target_column}' END"
        )
    reasons = ["t.row_reasons", "CASE WHEN d.reason IS NULL THEN [] ELSE [d.reason] END"]
    if ref_reasons:
        # References are only checked on rows that are otherwise fine, so each row gets its first problem.
        reasons.append(
            f"CASE WHEN t.row_reasons = [] AND d.reason IS NULL "
            f"THEN list_filter([{', '.join(ref_reasons)}], r -> r IS NOT NULL) ELSE [] END"
        )
    checked = (
        f"SELECT t._file_rank, t.{LINE_COLUMN}, flatten([{', '.join(reasons)}]) AS reasons FROM _typed t "
        f"LEFT JOIN _duplicates d ON d._file_rank = t._file_rank AND d.{LINE_COLUMN} = t.{LINE_COLUMN} {' '.join(joins)}"
    )
    return f"SELECT * FROM ({checked}) WHERE reasons <> []"


def _raw_text(contract: SourceContract, name: str) -> str:
    """A column's original text in the raw table `r`, as staging read it."""
    column = f"r.{_quote(name)}"
    return f"NULLIF(trim({column}), '')" if name in contract.column_names else column


def _is_contact(contract: SourceContract, name: str) -> bool:
    return name in contract.column_names and contract.column(name).contact


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _raw(name: str) -> str:
    """The column holding a contract or extra column's original text."""
    return _quote(f"raw_{name}")


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"

"""Raw → staged: type every value, deduplicate by key, check references, quarantine the rest.

Every raw row ends in exactly one place: its staged table or `quarantine.<source>` with its file, line
and every reason it was rejected. `rows_in = rows_staged + rows_quarantined` holds by construction and is
recorded per source and run in `quarantine.row_accounting` (`ingest.accounting`).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from ingest.contracts import CONTRACTS, Column, SourceContract
from ingest.landing import (
    ERROR_COLUMN,
    FILE_COLUMN,
    LINE_COLUMN,
    META_COLUMNS,
    find_source_files,
    load_landing_files,
)

MONEY_PATTERN = r"^-?[0-9]+(\.[0-9]{1,2})?$"
INTEGER_PATTERN = r"^-?[0-9]+$"
TRUE_WORDS = ("true", "t", "yes", "y", "1")
FALSE_WORDS = ("false", "f", "no", "n", "0")
CONTACT_MASK = "***"
# Dates and timestamps outside these years are typos (a year 20250 or 0025), not data.
MIN_YEAR, MAX_YEAR = 1900, 2200
# Landing folders of event-like sources may be Hive-partitioned by local day (`date=YYYY-MM-DD/`).
PARTITION_KEY = "date"
# The partition column of staged Parquet partitions (`event_date=YYYY-MM-DD/`).
STAGED_PARTITION = "event_date"
# Rows typed at a time: the typed rows of one chunk are held (spilling to disk if they must), not all.
CHUNK_ROWS = 4_000_000
# Staged Parquet: snappy, and dictionaries only for columns of at most 1,000 distinct values per row
# group. By default the writer also tries one for ids and JSON text, all but unique, before giving it up,
# which cost a quarter of the write time for files of the same size.
PARQUET_WRITE = "FORMAT parquet, COMPRESSION snappy, DICTIONARY_SIZE_LIMIT 1000"
# A typed row with a problem: its own, a key staged on another day, or an unknown reference.
FLAGGED = "row_reasons IS NOT NULL OR prior_reason IS NOT NULL OR ref_reasons IS NOT NULL"

QUARANTINE_COLUMNS = ("run_id", "source", "source_file", "line", "reasons", "record")


def quarantine_table(source: str) -> str:
    """The table holding a source's rejected rows of every run: `quarantine.<source>`."""
    return f"quarantine.{source}"


def _quarantine_ddl(source: str) -> str:
    return (f"CREATE SCHEMA IF NOT EXISTS quarantine; CREATE TABLE IF NOT EXISTS {quarantine_table(source)} "
            "(run_id VARCHAR, source VARCHAR, source_file VARCHAR, line BIGINT, reasons VARCHAR, record VARCHAR)")


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
    parquet_dir: str | None = None,
    only_day: date | None = None,
    prior_keys: str | None = None,
) -> StageCounts:
    """Build `staged.<source>` from `raw.<source>` and quarantine every rejected row with its reasons.

    Args:
        conn: warehouse connection whose TimeZone setting is the business time zone (naive timestamps
            are read in it).
        contract: the source's contract.
        run_id: identifies this run in the quarantine table.
        staged_sources: sources already staged with data, whose keys references are checked against.
        present: whether the source had any landing file.
        parquet_dir: for event-like sources (with an event time column), a folder (or object-store URL)
            where the staged rows are written as daily Parquet partitions
            `<parquet_dir>/<source>/event_date=YYYY-MM-DD/*.parquet` (the day is the landing file's
            `date=` partition, else the row's local date); `staged.<source>` is then a view over them.
            Unsorted Parquet partitions cost far less to write than a sorted table, and partitions can
            later be restaged one day at a time (`ingest.daily_staging`). None keeps a DuckDB table.
        only_day: with `parquet_dir`, the raw rows are one landing day's and replace just that day's
            partition; `staged.<source>` is then a view over that partition alone.
        prior_keys: SQL of the keys already staged elsewhere (other days' partitions); a row repeating
            one is quarantined as a duplicate.
    """
    conn.execute(_quarantine_ddl(contract.name))
    conn.execute("CREATE SCHEMA IF NOT EXISTS staged; CREATE SCHEMA IF NOT EXISTS private")
    raw_table = f"raw.{contract.name}"
    raw_types = {name: dtype for name, dtype, *_ in conn.sql(f"DESCRIBE {raw_table}").fetchall()}
    extras = [c for c in raw_types if c not in contract.column_names and c not in META_COLUMNS]
    # Contract columns the landing files hold in their own type already (typed Parquet): not parsed again.
    native = frozenset(c for c in contract.column_names if raw_types.get(c, "VARCHAR") != "VARCHAR")

    # Files are numbered once so the per-row tables carry a small integer instead of the path.
    conn.execute(
        f"CREATE OR REPLACE TEMP TABLE _files AS SELECT {FILE_COLUMN}, "
        f"row_number() OVER (ORDER BY {FILE_COLUMN}) AS _file_rank, "
        f"TRY_CAST(regexp_extract({FILE_COLUMN}, '(^|/){PARTITION_KEY}=([0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}})(/|$)', 2) AS DATE) "
        f"AS _file_day, _rows FROM (SELECT {FILE_COLUMN}, count(*) AS _rows FROM {raw_table} GROUP BY ALL)"
    )
    # Duplicates first, from the keys alone: keys whose 64-bit hash repeats are a small superset of the
    # repeated keys. Their rows are held back while the chunks are written, then ranked together.
    conn.execute(f"CREATE OR REPLACE TEMP TABLE _key_hashes AS SELECT {_raw_key_hash(contract, native)} AS _h "
                 f"FROM {raw_table} r GROUP BY _h HAVING count(*) > 1")

    staged_columns = [c.name for c in contract.columns if not c.contact] + [_quote(e) for e in extras]
    if contract.derived_key_from:
        staged_columns = [*contract.key, *staged_columns]
    if contract.name == "users":
        staged_columns.insert(staged_columns.index("gender"), "year(birth_date)::INTEGER AS birth_year")
    contact_columns = [c.name for c in contract.columns if c.contact]
    partitioned = parquet_dir is not None and contract.event_time_column is not None
    target = _PartitionTarget(conn, contract, staged_columns, parquet_dir, only_day) if partitioned else None

    def write_good(good: str, number: int) -> None:
        if target is not None:
            target.write(good, number)
        else:
            select = f"SELECT {', '.join(staged_columns)} {good} ORDER BY _file_rank, {LINE_COLUMN}"
            if number == 0:
                drop_relation(conn, f"staged.{contract.name}")
                conn.execute(f"CREATE TABLE staged.{contract.name} AS {select}")
            else:
                conn.execute(f"INSERT INTO staged.{contract.name} {select}")
        if contact_columns:
            contacts = f"SELECT {', '.join(contract.key + tuple(contact_columns))} {good}"
            if number == 0:
                conn.execute(f"CREATE OR REPLACE TABLE private.user_contacts AS {contacts}")
            else:
                conn.execute(f"INSERT INTO private.user_contacts {contacts}")

    # Every row is read and typed once, a chunk of files at a time so memory follows the chunk. The
    # chunk's rows with a problem are kept with their original text, the rows whose key may repeat are
    # held back, and the others are written out.
    chunks = _chunks(conn, CHUNK_ROWS) or [(None, None)]
    for number, (first, last) in enumerate(chunks):
        where = "" if first is None else f"r.{FILE_COLUMN} BETWEEN {_sql_str(first)} AND {_sql_str(last)}"
        conn.execute(f"CREATE OR REPLACE TEMP TABLE _typed AS "
                     f"{_typed_select(contract, extras, native, staged_sources, prior_keys, where)}")
        for table, condition in (("_flagged", FLAGGED), ("_dup_candidates", "_repeats AND row_reasons IS NULL")):
            if number == 0:
                conn.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM _typed WHERE {condition}")
            else:
                conn.execute(f"INSERT INTO {table} SELECT * FROM _typed WHERE {condition}")
        write_good(f"FROM (SELECT * FROM _typed WHERE NOT _repeats AND NOT ({FLAGGED})) _good", number)
    conn.execute("DROP TABLE _typed")
    conn.execute(f"CREATE OR REPLACE TEMP TABLE _duplicates AS {_duplicates_select(contract)}")
    # The first of each repeated key, unless it has a problem of its own (no write, and so no empty file,
    # when no key hash repeats).
    if conn.sql("SELECT count(*) FROM _dup_candidates").fetchone()[0]:
        write_good(f"FROM (SELECT * FROM _dup_candidates ANTI JOIN _duplicates USING (_file_rank, {LINE_COLUMN}) "
                   f"WHERE NOT ({FLAGGED})) _good", len(chunks))
    if target is not None:
        target.finish()
    conn.execute(f"CREATE OR REPLACE TEMP TABLE _rejected AS {_rejected_select()}")
    if parquet_dir is not None and not contract.event_time_column:
        _export_reference_keys(conn, contract, parquet_dir)

    quarantine = quarantine_table(contract.name)
    conn.execute(f"DELETE FROM {quarantine} WHERE run_id = ?", [run_id])
    conn.execute(
        f"INSERT INTO {quarantine} SELECT ?, ?, f.{FILE_COLUMN}, q.{LINE_COLUMN}, q.reasons, q._record "
        f"FROM _rejected q JOIN _files f USING (_file_rank) ORDER BY q._file_rank, q.{LINE_COLUMN}",
        [run_id, contract.name],
    )

    rows_in = conn.sql("SELECT coalesce(sum(_rows), 0)::BIGINT FROM _files").fetchone()[0]
    rows_staged = conn.sql(f"SELECT count(*) FROM staged.{contract.name}").fetchone()[0]
    rows_quarantined = conn.execute(f"SELECT count(*) FROM {quarantine} WHERE run_id = ?", [run_id]).fetchone()[0]
    counts = StageCounts(contract.name, present, rows_in, rows_staged, rows_quarantined)
    conn.execute("DROP TABLE _flagged; DROP TABLE _key_hashes; DROP TABLE _dup_candidates; "
                 "DROP TABLE _duplicates; DROP TABLE _rejected; DROP TABLE _files")
    return counts


def partition_glob(parquet_dir: str, source: str) -> str:
    """Every staged Parquet file of an event-like source."""
    return f"{parquet_dir.rstrip('/')}/{source}/*/*.parquet"


def staged_view_sql(parquet_dir: str, source: str) -> str:
    """The `staged.<source>` view over its daily partitions (the partition column is left out)."""
    return (
        f"SELECT * EXCLUDE ({STAGED_PARTITION}) FROM read_parquet({_sql_str(partition_glob(parquet_dir, source))}, "
        "hive_partitioning = true, hive_types = {'" + STAGED_PARTITION + "': DATE})"
    )


class _PartitionTarget:
    """Good rows written chunk by chunk as daily Parquet partitions; `staged.<source>` a view over them."""

    def __init__(self, conn: duckdb.DuckDBPyConnection, contract: SourceContract, staged_columns: list[str],
                 parquet_dir: str, only_day: date | None) -> None:
        self.conn, self.contract, self.columns, self.only_day = conn, contract, staged_columns, only_day
        self.parquet_dir = parquet_dir.rstrip("/")
        self.table = f"staged.{contract.name}"
        self.target = f"{self.parquet_dir}/{contract.name}"
        if only_day is not None:
            self.target = f"{self.target}/{STAGED_PARTITION}={only_day.isoformat()}"
        drop_relation(conn, self.table)
        if not _is_remote(self.target):
            # The source's (or the day's) partitions are replaced as a whole.
            shutil.rmtree(self.target, ignore_errors=True)
            Path(self.target).mkdir(parents=True, exist_ok=True)

    def write(self, good: str, number: int) -> None:
        if number == 0:
            self.conn.execute(f"CREATE OR REPLACE TEMP TABLE _staged_shape AS SELECT {', '.join(self.columns)} "
                              f"{good} LIMIT 0")
        if self.only_day is not None:
            self.conn.execute(f"COPY (SELECT {', '.join(self.columns)} {good}) TO "
                              f"{_sql_str(f'{self.target}/part-{number}.parquet')} ({PARQUET_WRITE})")
            return
        day = f"coalesce(_file_day, CAST({_quote(self.contract.event_time_column)} AS DATE))"
        self.conn.execute(
            f"COPY (SELECT {', '.join(self.columns)}, {day} AS {STAGED_PARTITION} {good} JOIN _files USING (_file_rank)) "
            f"TO {_sql_str(self.target)} ({PARQUET_WRITE}, PARTITION_BY ({STAGED_PARTITION}), OVERWRITE_OR_IGNORE, "
            f"FILENAME_PATTERN 'part-{number}-{{i}}')"
        )

    def finish(self) -> None:
        pattern = f"{self.target}/*.parquet" if self.only_day is not None else partition_glob(self.parquet_dir, self.contract.name)
        written = self.conn.execute("SELECT count(*) FROM glob(?)", [pattern]).fetchone()[0]
        if written and self.only_day is not None:
            self.conn.execute(f"CREATE VIEW {self.table} AS SELECT * FROM read_parquet({_sql_str(pattern)})")
        elif written:
            self.conn.execute(f"CREATE VIEW {self.table} AS {staged_view_sql(self.parquet_dir, self.contract.name)}")
        else:
            # No good row: an empty table with the same columns, since a view over no file cannot be read.
            self.conn.execute(f"CREATE TABLE {self.table} AS SELECT * FROM _staged_shape")
        self.conn.execute("DROP TABLE _staged_shape")


def keys_file(parquet_dir: str, source: str) -> str:
    """The Parquet file of a source's keys that day-by-day staging checks references against."""
    return f"{parquet_dir.rstrip('/')}/_keys/{source}.parquet"


def _export_reference_keys(conn: duckdb.DuckDBPyConnection, contract: SourceContract, parquet_dir: str) -> None:
    """Write the keys event-like sources reference (users, products) next to their partitions.

    A day staged in another process checks its references against this file instead of opening the
    DuckDB warehouse, which allows one writer only.
    """
    columns = sorted({ref.target_column for c in CONTRACTS if c.event_time_column for ref in c.references
                      if ref.target_source == contract.name})
    if not columns:
        return
    file = keys_file(parquet_dir, contract.name)
    if not _is_remote(file):
        Path(file).parent.mkdir(parents=True, exist_ok=True)
    conn.execute(f"COPY (SELECT DISTINCT {', '.join(_quote(c) for c in columns)} FROM staged.{contract.name}) "
                 f"TO {_sql_str(file)} (FORMAT parquet)")


def drop_relation(conn: duckdb.DuckDBPyConnection, table: str) -> None:
    """Drop `schema.name` whether it is a table or a view."""
    schema, name = table.split(".")
    for (kind,) in conn.execute(
        "SELECT table_type FROM information_schema.tables WHERE table_schema = ? AND table_name = ?", [schema, name]
    ).fetchall():
        conn.execute(f"DROP {'VIEW' if kind == 'VIEW' else 'TABLE'} {table}")


def _typed_select(contract: SourceContract, extras: list[str], native: frozenset[str], staged_sources: set[str],
                  prior_keys: str | None = None, where: str = "") -> str:
    """Every raw row `r` matching `where` (all when empty), typed and judged in one pass.

    Columns: file rank, line, typed value of every column, the row's own reasons, a key staged on
    another day (`prior_reason`), unknown references (`ref_reasons`), whether its key hash repeats
    (`_repeats`), and, only for a row with a problem or a repeating key, its original text as a JSON
    record (`_record`, for the quarantine) and the md5 of that text (`_content_hash`, which tells an
    exact copy from a conflicting one). The original text of good rows is not kept, which keeps this
    per-row table about half as wide.
    """
    texts = ["f._file_rank", f"r.{LINE_COLUMN}", f"r.{ERROR_COLUMN}"]
    texts += [f"{_raw_value(c.name, native)} AS {_raw(c.name)}" for c in contract.columns]
    texts += [f"r.{_quote(e)} AS {_quote(e)}" for e in extras]
    parts = ["_file_rank", LINE_COLUMN]
    reasons = [ERROR_COLUMN]
    for column in contract.columns:
        raw = _raw(column.name)
        value, reason = _typed_value(column, raw, column.name in native)
        parts.append(f"{value} AS {_quote(column.name)}")
        reasons.append(reason)
        if column.name not in native:
            reasons.append(
                f"CASE WHEN contains({raw}, chr(65533)) THEN '{column.name}: contains bytes that are not valid UTF-8' END"
            )
    parts += [_quote(e) for e in extras]
    if contract.one_of_required:
        filled = " OR ".join(f"{_raw(c)} IS NOT NULL" for c in contract.one_of_required)
        names = " or ".join(contract.one_of_required)
        reasons.append(f"CASE WHEN NOT ({filled}) THEN '{names}: at least one is required' END")
    # One text of '; '-joined reasons, NULL for a good row (concat_ws skips NULLs; far cheaper than lists).
    parts.append(f"NULLIF(concat_ws('; ', {', '.join(reasons)}), '') AS row_reasons")
    parts += [_raw(c.name) for c in contract.columns]
    typed = (
        f"SELECT {', '.join(parts)} FROM (SELECT {', '.join(texts)} "
        f"FROM raw.{contract.name} r JOIN _files f USING ({FILE_COLUMN}){f' WHERE {where}' if where else ''})"
    )
    # The same hash `_key_hashes` holds (`_raw_key_hash`), here of the typed columns.
    derived = ""
    if contract.derived_key_from:
        derived = f"md5({_derived_key_text(contract, {c: _quote(c) for c in contract.derived_key_from})}) AS {contract.key[0]}, "
    typed = f"SELECT {derived}{_key_hash(contract, _quote)} AS _h, * FROM ({typed})"

    joins, ref_reasons = ["LEFT JOIN _key_hashes _k ON t._h = _k._h"], []
    for i, ref in enumerate(contract.references):
        if ref.target_source not in staged_sources:
            continue
        alias = f"_ref{i}"
        joins.append(
            f"LEFT JOIN (SELECT DISTINCT {_quote(ref.target_column)} AS _key FROM staged.{ref.target_source}) {alias} "
            f"ON t.{_quote(ref.column)} = {alias}._key"
        )
        ref_reasons.append(
            f"CASE WHEN t.{_quote(ref.column)} IS NOT NULL AND {alias}._key IS NULL THEN "
            f"'{ref.column}: \"' || t.{_quote(ref.column)} || '\" is not a known {ref.target_source}.{ref.target_column}' END"
        )
    prior = "NULL"
    if prior_keys is not None:
        same = " AND ".join(f"t.{_quote(k)} = _prior.{_quote(k)}" for k in contract.key)
        shown = " || ', ' || ".join(f"coalesce(CAST(t.{_quote(k)} AS VARCHAR), '')" for k in contract.key)
        # Staged keys are unique, so the join adds no row.
        joins.append(f"LEFT JOIN (SELECT {', '.join(_quote(k) for k in contract.key)}, true AS _seen "
                     f"FROM ({prior_keys})) _prior ON {same}")
        prior = (f"CASE WHEN _prior._seen THEN 'duplicate key ({', '.join(contract.key)}) = ' || {shown} "
                 "|| ' already staged in another day''s partition' END")
    refs = f"NULLIF(concat_ws('; ', {', '.join(ref_reasons)}), '')" if ref_reasons else "NULL::VARCHAR"
    judged = (f"SELECT t.*, _k._h IS NOT NULL AS _repeats, {prior}::VARCHAR AS prior_reason, {refs} AS ref_reasons "
              f"FROM ({typed}) t {' '.join(joins)}")

    def text(name: str) -> str:
        return f"CAST({_raw(name)} AS VARCHAR)" if name in native else _raw(name)

    record = ", ".join(
        f"{_sql_str(c)}, {_sql_str(CONTACT_MASK) if _is_contact(contract, c) else text(c) if c in contract.column_names else _quote(c)}"
        for c in [*contract.column_names, *extras]
    )
    content = ", ".join(f"coalesce({text(c)}, '')" for c in contract.column_names)
    kept = [*([contract.key[0]] if contract.derived_key_from else []), "_file_rank", LINE_COLUMN,
            *(_quote(c.name) for c in contract.columns), *(_quote(e) for e in extras),
            "row_reasons", "_repeats", "prior_reason", "ref_reasons"]
    return (
        f"SELECT {', '.join(kept)}, "
        f"CASE WHEN _repeats OR {FLAGGED} THEN json_object({record})::VARCHAR END AS _record, "
        f"CASE WHEN _repeats THEN md5(concat_ws('|', {content})) END AS _content_hash FROM ({judged})"
    )


def _derived_key_text(contract: SourceContract, typed: dict[str, str]) -> str:
    """The text a derived key is the md5 of: the typed values of `derived_key_from`, joined by '|'.

    Timestamps enter as epoch microseconds: formatting an instant as text in a time zone costs far more
    than the rest of the key, and the integer names the same instant.
    """
    parts = []
    for name in contract.derived_key_from:
        value = f"epoch_us({typed[name]})" if contract.column(name).type == "timestamp" else typed[name]
        parts.append(f"coalesce(CAST({value} AS VARCHAR), '')")
    return f"concat_ws('|', {', '.join(parts)})"


def _raw_key_hash(contract: SourceContract, native: frozenset[str]) -> str:
    """A 64-bit hash of a row's typed key, computed straight from the raw row `r` (no other column typed)."""
    return _key_hash(contract, lambda name: _typed_value(contract.column(name), _raw_value(name, native),
                                                         name in native)[0])


def _key_hash(contract: SourceContract, value: Callable[[str], str]) -> str:
    """A 64-bit hash of a row's key, given the SQL of each key column's typed value.

    For a derived key it hashes the text the key is the md5 of: equal keys have equal text, so its hash
    is as good a filter.
    """
    if contract.derived_key_from:
        return f"hash({_derived_key_text(contract, {c: value(c) for c in contract.derived_key_from})})"
    return f"hash({', '.join(value(k) for k in contract.key)})"


def _chunks(conn: duckdb.DuckDBPyConnection, chunk_rows: int) -> list[tuple[str, str]]:
    """Consecutive ranges of landing files (by name) holding about `chunk_rows` rows each."""
    ranges, start, rows, last = [], None, 0, None
    for name, count in conn.sql(f"SELECT {FILE_COLUMN}, _rows FROM _files ORDER BY _file_rank").fetchall():
        start = name if start is None else start
        rows += count
        last = name
        if rows >= chunk_rows:
            ranges.append((start, last))
            start, rows = None, 0
    if start is not None:
        ranges.append((start, last))
    return ranges


def _typed_value(column: Column, raw: str, native: bool = False) -> tuple[str, str]:
    """SQL for (typed value, reason it is invalid or NULL); `raw` is text, or with `native` a value of a
    type that holds the contract type exactly (`ingest.landing.native_type`)."""
    if native:
        return _native_value(column, raw)
    name = column.name
    shown = f"'{name}: \"' || {raw} || '\"'"
    if column.type == "timestamp":
        value = f"TRY_CAST({raw} AS TIMESTAMPTZ)"
        sane = _in_bounds("timestamp", value)
        reason = f"CASE WHEN {raw} IS NOT NULL AND ({value} IS NULL OR NOT {sane}) THEN {shown} || ' is not an ISO 8601 timestamp' END"
        value = f"CASE WHEN {sane} THEN {value} END"
    elif column.type == "date":
        value = f"TRY_CAST({raw} AS DATE)"
        sane = _in_bounds("date", value)
        reason = f"CASE WHEN {raw} IS NOT NULL AND ({value} IS NULL OR NOT {sane}) THEN {shown} || ' is not an ISO 8601 date' END"
        value = f"CASE WHEN {sane} THEN {value} END"
    elif column.type == "money":
        ok = f"regexp_full_match({raw}, '{MONEY_PATTERN}')"
        value = f"CASE WHEN {ok} THEN TRY_CAST({raw} AS DECIMAL(18, 2)) END"
        reason = (f"CASE WHEN {raw} IS NOT NULL AND NOT {ok} THEN {shown} || ' is not an amount with at most two decimals' "
                  f"WHEN {raw} IS NOT NULL AND {value} IS NULL THEN {shown} || ' does not fit DECIMAL(18, 2)' END")
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

    checks = [reason, *_constraint_checks(column, raw, value, shown)]
    return value, f"coalesce({', '.join(checks)})" if len(checks) > 1 else checks[0]


def _constraint_checks(column: Column, raw: str, value: str, shown: str) -> list[str]:
    """Reasons for a missing required value and a value outside the contract's minimum or maximum."""
    checks = []
    if column.required:
        checks.append(f"CASE WHEN {raw} IS NULL THEN '{column.name}: required value is missing' END")
    if column.min_value is not None:
        checks.append(f"CASE WHEN {value} < {column.min_value} THEN {shown} || ' is below the minimum {column.min_value:g}' END")
    if column.max_value is not None:
        checks.append(f"CASE WHEN {value} > {column.max_value} THEN {shown} || ' is above the maximum {column.max_value:g}' END")
    return checks


def _in_bounds(column_type: str, value: str) -> str | None:
    """SQL true when a typed date, timestamp or float is a plausible value (None: no bound for the type).

    Bounds are constants in the session's time zone: year() on every timestamp costs far more.
    """
    if column_type == "timestamp":
        return f"{value} >= TIMESTAMPTZ '{MIN_YEAR}-01-01' AND {value} < TIMESTAMPTZ '{MAX_YEAR + 1}-01-01'"
    if column_type == "date":
        return f"{value} >= DATE '{MIN_YEAR}-01-01' AND {value} < DATE '{MAX_YEAR + 1}-01-01'"
    if column_type == "float":
        return f"isfinite({value})"
    return None


def _native_value(column: Column, raw: str) -> tuple[str, str]:
    """SQL for (typed value, reason) of a value already typed in the landing file: only its range is
    checked (a value that does not fit the contract type, such as a decimal beyond 18 digits, is a reason)."""
    shown = f"'{column.name}: \"' || CAST({raw} AS VARCHAR) || '\"'"
    target = {"timestamp": "TIMESTAMPTZ", "date": "DATE", "money": "DECIMAL(18, 2)", "int": "BIGINT",
              "float": "DOUBLE", "bool": "BOOLEAN"}[column.type]
    value = f"TRY_CAST({raw} AS {target})"
    checks = [f"CASE WHEN {raw} IS NOT NULL AND {value} IS NULL THEN {shown} || ' does not fit {target}' END"]
    sane = _in_bounds(column.type, value)
    if sane is not None:
        checks.append(f"CASE WHEN {value} IS NOT NULL AND NOT ({sane}) THEN {shown} || ' is out of range' END")
        value = f"CASE WHEN {sane} THEN {value} END"
    checks += _constraint_checks(column, raw, value, shown)
    return value, f"coalesce({', '.join(checks)})"


def _duplicates_select(contract: SourceContract) -> str:
    """Rows that repeat the key of an earlier otherwise-good row, with the reason.

    Only rows whose key hash repeats (`_dup_candidates`, with their original text's hash) are grouped
    and ranked, so the window sorts the handful of duplicates instead of every row; the text hash tells
    an exact copy from a conflicting one.
    """
    key = ", ".join(_quote(k) for k in contract.key)
    same_key = " AND ".join(f"c.{_quote(k)} IS NOT DISTINCT FROM k.{_quote(k)}" for k in contract.key)
    members = (
        f"SELECT c._file_rank, c.{LINE_COLUMN}, {', '.join(f'c.{_quote(k)}' for k in contract.key)}, "
        f"f.{FILE_COLUMN}, c._content_hash "
        f"FROM (SELECT * FROM _dup_candidates WHERE row_reasons IS NULL) c "
        f"SEMI JOIN (SELECT {key} FROM _dup_candidates WHERE row_reasons IS NULL GROUP BY ALL HAVING count(*) > 1) k "
        f"ON {same_key} "
        f"JOIN _files f USING (_file_rank)"
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


def _is_remote(path: str) -> bool:
    return "://" in path


def _rejected_select() -> str:
    """File rank, line, every reason and the original record of each rejected row: its own problems,
    duplicate key, key staged on another day, unknown reference.

    References are only reported on rows that are otherwise fine, so each row gets its first problem.
    """
    reasons = (f"SELECT _file_rank, {LINE_COLUMN}, concat_ws('; ', f.row_reasons, d.reason, f.prior_reason, "
               "CASE WHEN f.row_reasons IS NULL AND d.reason IS NULL AND f.prior_reason IS NULL THEN f.ref_reasons END) "
               f"AS reasons, f._record AS _flagged_record FROM _flagged f FULL OUTER JOIN _duplicates d "
               f"USING (_file_rank, {LINE_COLUMN})")
    return (f"SELECT q._file_rank, q.{LINE_COLUMN}, q.reasons, coalesce(q._flagged_record, c._record) AS _record "
            f"FROM ({reasons}) q LEFT JOIN _dup_candidates c USING (_file_rank, {LINE_COLUMN}) WHERE q.reasons <> ''")


def _raw_value(name: str, native: frozenset[str]) -> str:
    """A contract column's value in the raw table `r` as staging types it: cleaned text, or the typed value."""
    column = f"r.{_quote(name)}"
    return column if name in native else _cleaned(column)


def _cleaned(text: str) -> str:
    """SQL for a raw text with surrounding spaces removed and blank made NULL.

    Most values have no surrounding space, and testing for one costs a fraction of trimming every value
    (fifty million events have eight text columns each).
    """
    return (f"CASE WHEN {text} LIKE ' %' OR {text} LIKE '% ' OR {text} = '' THEN NULLIF(trim({text}), '') "
            f"ELSE {text} END")


def _is_contact(contract: SourceContract, name: str) -> bool:
    return name in contract.column_names and contract.column(name).contact


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _raw(name: str) -> str:
    """The column holding a contract or extra column's original text."""
    return _quote(f"raw_{name}")


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def quarantine_reasons(conn: duckdb.DuckDBPyConnection, source: str, run_id: str, limit: int = 10) -> list[tuple[str, int]]:
    """The commonest reasons a run rejected rows of a source, with their counts."""
    return conn.execute(
        f"SELECT reasons, count(*) AS n FROM {quarantine_table(source)} WHERE run_id = ? GROUP BY reasons "
        "ORDER BY n DESC, reasons LIMIT ?", [run_id, limit]).fetchall()

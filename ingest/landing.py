"""Read a source's landing files as text, with file and line kept, in SQL that DuckDB runs in one pass.

Values are read as text here and typed in staging, so a malformed value becomes a finding or a
quarantined row instead of a failed read. The exception is a Parquet column whose type already is its
contract type (`native_type`): it is read as it is, and staging only checks its range.

- CSV goes through DuckDB's own reader (parallel, all columns as text), one scan for all files of a
  source that share a header and a dialect. A line the reader cannot take (too few or too many fields, a
  broken quote) is recorded with its line in a rejects table instead of stopping the read; staging
  quarantines it. Staging numbers the records by their place in the scan, which DuckDB keeps in order
  while it reads in parallel, and turns the number into the file's physical line (`line_mapping`) for
  the rows it shows, exactly even when a file has blank lines or line breaks inside quoted values.
- JSON lines are read as one text per physical line in one scan (blank lines included, so the line
  numbers are exact; a BOM is dropped), then parsed with `from_json`; a line that is not a JSON object
  keeps its error. The keys to read are the contract's columns and the extras already known; staging
  collects any other key it meets (`NEW_KEYS_COLUMN`) and reads the chunk again with it.
- Parquet is read by DuckDB directly, with each file's row number.

Internal columns start with `__fg_`; a landing column may not.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ingest.contracts import SourceContract
from ingest.landing_files import (
    ContractError,
    LandingFile,
    SourceOptions,
    check_encoding,
    find_source_files,
    open_bytes,
    physical_lines,
    transcoded,
    unknown_landing_entries,
)

__all__ = ["ContractError", "LandingFile", "LandingRelation", "find_source_files", "landing_relation",
           "unknown_landing_entries"]

FILE_COLUMN = "__fg_file"
# In staging, rows carry their file's number instead of its name (`LandingRelation.files` in that order).
FILE_ID_COLUMN = "__fg_file_id"
LINE_COLUMN = "__fg_line"
ERROR_COLUMN = "__fg_error"
# Keys of a JSON line that the relation did not read (NULL for other formats and for known keys only).
NEW_KEYS_COLUMN = "__fg_new_keys"
META_COLUMNS = (FILE_COLUMN, LINE_COLUMN, ERROR_COLUMN, NEW_KEYS_COLUMN)
STAGING_META_COLUMNS = (FILE_ID_COLUMN, ERROR_COLUMN, NEW_KEYS_COLUMN)
RESERVED_PREFIX = "__fg_"
# The error of a blank JSON line: kept in the scan so line numbers stay exact, never a row.
BLANK_LINE = "blank line"
# Columns staging adds to a staged table; a landing column of the same name would be overwritten.
DERIVED_COLUMNS = {"users": ("birth_year",), "events": ("event_date",), "touchpoints": ("event_date", "touchpoint_id"),
                   "transactions": ("event_date",)}
MAX_LINE_BYTES = 64 * 2**20
HEADER_BYTES = 1 * 2**20
SAMPLE_BYTES = 32 * 2**10
DELIMITERS = (",", ";", "\t", "|")


@dataclass(frozen=True)
class LandingRelation:
    """SQL reading some files of a source: contract columns and extras as text (or native Parquet types),
    with `__fg_file`, `__fg_line`, `__fg_error` and `__fg_new_keys`.

    With `per_file_lines` (a raw view), `__fg_file` is the file's name relative to the landing folder and
    `__fg_line` the Parquet row, the CSV record plus one (the header) or the JSON line. In staging,
    `__fg_file_id` numbers the file instead (`files`, `first_id`) and there is no line: staging numbers
    rows by their place in the scan, which is their files' order and the rows' order within each file
    (DuckDB keeps it, even when it reads in parallel).
    """

    sql: str
    columns: tuple[str, ...]
    native: dict[str, str]
    csv_files: tuple[LandingFile, ...] = ()
    jsonl_files: tuple[LandingFile, ...] = ()
    rejects_table: str | None = None
    # In staging: file k of this tuple is number `first_id + k` in `__fg_file_id`, in the order read.
    files: tuple[LandingFile, ...] = ()
    first_id: int = 0


def landing_relation(
    conn: duckdb.DuckDBPyConnection, files: Sequence[LandingFile], contract: SourceContract, landing: Path,
    options: SourceOptions | None = None, scratch: Path | None = None, rejects_table: str | None = None,
    columns: Sequence[str] | None = None, mask: Sequence[str] = (), keep_native: bool = True,
    per_file_lines: bool = False, first_id: int = 0,
) -> LandingRelation:
    """The SQL reading `files` (all of one source), every contract column present.

    Args:
        conn: where the reading runs (used to read Parquet footers).
        files: the files, all of `contract`'s source.
        contract: the source's contract.
        landing: the landing folder (file names are kept relative to it).
        options: the source's declared options (encoding).
        scratch: where files in another encoding are transcoded to UTF-8.
        rejects_table: name of the temporary table DuckDB records CSV lines it cannot read in (staging);
            None leaves such lines out (a view for people to look at).
        columns: the columns to expose, in order (default: the contract's, then every extra a CSV header
            or Parquet schema has; JSON keys beyond the contract's are found by staging).
        mask: columns whose text is replaced by `***` (contact details in a raw view).
        keep_native: keep typed Parquet columns typed when every file is Parquet.
        per_file_lines: name and number rows per file (a raw view). A row number computed while reading
            makes DuckDB read and parse on one thread, and a name per row costs memory; staging numbers
            files (from `first_id`) and rows afterwards instead.

    Raises:
        ContractError: naming the file for a missing required column, a column name staging reserves,
            or bytes that are not in the declared encoding.
    """
    options = options or SourceOptions()
    by_format: dict[str, list[LandingFile]] = {"csv": [], "jsonl": [], "parquet": []}
    for file in files:
        by_format[file.format].append(file)
    parts: list[tuple[str, dict[str, str]]] = []
    native: dict[str, str] = {}
    found_columns: list[str] = []
    ordered_files: list[LandingFile] = []

    def file_of(members: Sequence[tuple[LandingFile, Path]]) -> str:
        expression = _file_expression(members, first_id + len(ordered_files), per_file_lines)
        ordered_files.extend(f for f, _ in members)
        return expression

    if by_format["parquet"]:
        members = [(f, f.path) for f in by_format["parquet"]]
        sql, found, native = _parquet_part(conn, members, contract, file_of(members), per_file_lines,
                                           keep_native and len(by_format["parquet"]) == len(files))
        parts.append((sql, found))
        found_columns += list(found)
    groups: dict[tuple, list[tuple[LandingFile, Path]]] = {}
    empty: list[LandingFile] = []  # no header at all: read as no rows, still numbered and accounted for
    for file in by_format["csv"]:
        readable = _readable_path(file, options, scratch)
        header, delimiter = _csv_header(file, readable)
        check_columns(file, contract, header, rows=1 if header else 0)
        if header:
            groups.setdefault((tuple(header), delimiter, _gzipped(readable)), []).append((file, readable))
        else:
            empty.append(file)
        found_columns += header
    for (header, delimiter, gzipped), members in groups.items():
        parts.append((_csv_part(members, file_of(members), list(header), delimiter, gzipped, rejects_table,
                                per_file_lines), {h: "VARCHAR" for h in header}))
    if by_format["jsonl"]:
        readable = [(f, _readable_path(f, options, scratch)) for f in by_format["jsonl"]]
        usual: list[str] = []
        if columns is not None:
            known = list(columns)
        else:
            known = list(contract.column_names)
        for file, path in readable:
            keys, objects = _jsonl_sample(file, path)
            if columns is None:
                check_columns(file, contract, keys, rows=objects)
                known += [k for k in keys if k not in known]
            usual = usual or keys
        for gzipped in (False, True):
            members = [(f, p) for f, p in readable if _gzipped(p) == gzipped]
            if members:
                parts.append((_jsonl_part(members, file_of(members), known, usual, gzipped, per_file_lines),
                              {k: "VARCHAR" for k in known}))
        found_columns += known
    ordered_files.extend(empty)
    wanted = list(columns) if columns is not None else _ordered(contract, found_columns)
    meta = META_COLUMNS if per_file_lines else STAGING_META_COLUMNS
    selects = []
    for sql, found in parts:
        exprs = []
        for name in wanted:
            value = _ident(name)
            if name not in found:
                exprs.append(f"NULL::{native.get(name, 'VARCHAR')} AS {value}")
            elif name in mask:
                exprs.append(f"CASE WHEN {value} IS NOT NULL THEN '***' END AS {value}")
            else:
                exprs.append(value)
        selects.append(f"SELECT {', '.join(exprs)}, {', '.join(meta)} FROM ({sql})")
    if not selects:
        empty = ", ".join(f"NULL::VARCHAR AS {_ident(name)}" for name in wanted)
        selects.append(f"SELECT {empty + ', ' if empty else ''}{_no_meta(per_file_lines)} WHERE false")
    return LandingRelation(" UNION ALL ".join(selects), tuple(wanted), native, tuple(by_format["csv"]),
                           tuple(by_format["jsonl"]), rejects_table, tuple(ordered_files), first_id)


def _no_meta(per_file_lines: bool) -> str:
    file = (f"NULL::VARCHAR AS {FILE_COLUMN}, NULL::BIGINT AS {LINE_COLUMN}" if per_file_lines
            else f"NULL::BIGINT AS {FILE_ID_COLUMN}")
    return f"{file}, NULL::VARCHAR AS {ERROR_COLUMN}, NULL::VARCHAR[] AS {NEW_KEYS_COLUMN}"


def _ordered(contract: SourceContract, found: Sequence[str]) -> list[str]:
    extras = []
    for name in found:
        if name not in contract.column_names and name not in extras:
            extras.append(name)
    return [*contract.column_names, *extras]


def check_columns(file: LandingFile, contract: SourceContract, found: Sequence[str], rows: int) -> None:
    """Stop on a repeated column name, a name staging reserves, or a missing required column.

    Raises:
        ContractError: naming the file and the column.
    """
    present = set(found)
    if len(present) != len(found):
        twice = sorted({name for name in found if list(found).count(name) > 1})
        raise ContractError(f"{file.relative}: column {twice[0]!r} appears more than once in the header")
    reserved = [n for n in found if n.startswith(RESERVED_PREFIX) or n in DERIVED_COLUMNS.get(contract.name, ())]
    if reserved:
        raise ContractError(f"{file.relative}: column {reserved[0]!r} has a name staging uses for a column it adds; "
                            "rename it in the file")
    missing = [c.name for c in contract.columns if c.required and c.name not in present]
    if missing and rows > 0:
        shown = ", ".join(n for n in found if n not in META_COLUMNS) or "none"
        raise ContractError(f"{file.relative}: required column {missing[0]!r} of source {contract.name!r} is missing "
                            f"(columns found: {shown})")



def _readable_path(file: LandingFile, options: SourceOptions, scratch: Path | None) -> Path:
    """The path DuckDB reads: the file itself (UTF-8), or its UTF-8 copy (another declared encoding)."""
    if options.encoding in ("utf-8", "utf-8-sig"):
        return file.path
    if scratch is None:
        raise ValueError("a scratch folder is needed to read files that are not UTF-8")
    return transcoded(file, options.encoding, scratch)


def _gzipped(path: Path) -> bool:
    return path.name.lower().endswith(".gz")


def _file_expression(members: Sequence[tuple[LandingFile, Path]], first_id: int, per_file_lines: bool) -> str:
    """SQL of the scanned file's name (a raw view) or number (staging); `file_index` is its place in the list."""
    if not per_file_lines:
        return f"file_index::BIGINT + {first_id} AS {FILE_ID_COLUMN}"
    return f"[{', '.join(_sql_str(f.relative) for f, _ in members)}][file_index::BIGINT + 1] AS {FILE_COLUMN}"


def _paths(members: Sequence[tuple[LandingFile, Path]]) -> str:
    # Absolute paths: a raw view must still find the files from another working directory.
    return f"[{', '.join(_sql_str(str(p.absolute())) for _, p in members)}]"


# ---------------------------------------------------------------------------------------------------- CSV

def _csv_header(file: LandingFile, path: Path) -> tuple[list[str], str]:
    """The header's column names and the delimiter (the one of `,;\t|` that splits the header most)."""
    with (open_bytes(file) if path == file.path else open(path, "rb")) as handle:
        head = handle.read(HEADER_BYTES)
    if not head.strip():
        return [], ","
    text = head.decode("utf-8-sig", errors="replace")
    first = text.replace("\r\n", "\n").replace("\r", "\n").split("\n", 1)[0]
    best, header = ",", [first]
    for delimiter in DELIMITERS:
        fields = next(csv.reader(io.StringIO(first), delimiter=delimiter, quotechar='"'), [])
        if len(fields) > len(header):
            best, header = delimiter, fields
    return [name.strip() for name in header], best


def _csv_part(members: list[tuple[LandingFile, Path]], file: str, header: list[str], delimiter: str, gzipped: bool,
              rejects: str | None, per_file_lines: bool) -> str:
    columns = "{" + ", ".join(f"{_sql_str(h)}: 'VARCHAR'" for h in header) + "}"
    errors = (f"store_rejects = true, rejects_table = {_sql_str(rejects)}, rejects_scan = {_sql_str(rejects + '_scans')}"
              if rejects else "ignore_errors = true")
    reader = (f"read_csv({_paths(members)}, columns = {columns}, header = true, delim = {_sql_str(delimiter)}, "
              f"quote = '\"', escape = '\"', auto_detect = false, strict_mode = true, null_padding = false, "
              f"max_line_size = {MAX_LINE_BYTES}, compression = {_sql_str('gzip' if gzipped else 'none')}, {errors})")
    names = ", ".join(_ident(h) for h in header)
    if not per_file_lines:
        # Staging numbers the rows by their place in the table it writes them to (the scan's order).
        return (f"SELECT {names}, {file}, NULL::VARCHAR AS {ERROR_COLUMN}, NULL::VARCHAR[] AS {NEW_KEYS_COLUMN} "
                f"FROM {reader}")
    # row_number() over an empty window keeps the reader's order (DuckDB guarantees it); the record number
    # in its file plus one for the header is the line, when no record spans lines.
    scan = (f"SELECT {names}, {file}, row_number() OVER () AS {LINE_COLUMN}, "
            f"NULL::VARCHAR AS {ERROR_COLUMN}, NULL::VARCHAR[] AS {NEW_KEYS_COLUMN} FROM {reader}")
    return (f"SELECT * REPLACE ({LINE_COLUMN} - min({LINE_COLUMN}) OVER (PARTITION BY {FILE_COLUMN}) + 2 "
            f"AS {LINE_COLUMN}) FROM ({scan})")


def csv_rejects(conn: duckdb.DuckDBPyConnection, relation: LandingRelation, contract: SourceContract) -> None:
    """Add the CSV lines DuckDB could not read in the relation's scan to `_csv_rejected` (file number, line,
    reason, record).

    Stops when a line is not valid UTF-8: the file is not in its declared encoding.

    Raises:
        ContractError: naming the file and the first bad byte's offset.
    """
    if not relation.rejects_table or not relation.csv_files:
        return
    exists = conn.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?",
                          [relation.rejects_table]).fetchone()[0]
    if not exists:
        return
    ids = {file.relative: relation.first_id + number for number, file in enumerate(relation.files)}
    by_path = {str(file.path.absolute()): file for file in relation.csv_files}
    # DuckDB may record a line more than once (once per surplus field): the last, with the full count, is kept.
    rows = conn.execute(
        f"SELECT s.file_path, e.line, arg_max(e.error_type, e.column_idx), arg_max(e.error_message, e.column_idx), "
        f"any_value(e.csv_line), arg_max(e.column_name, e.column_idx) "
        f"FROM {relation.rejects_table} e JOIN {relation.rejects_table}_scans s USING (scan_id, file_id) "
        f"GROUP BY ALL ORDER BY s.file_path, e.line").fetchall()
    contact = any(c.contact for c in contract.columns)
    out = []
    for path, line, kind, message, text, column in rows:
        # A transcoded file is read from its copy, named after the original.
        file = by_path.get(path) or next((f for f in relation.csv_files if Path(path).name.endswith(f.path.name)), None)
        if file is None:
            raise RuntimeError(f"DuckDB rejected a line of {path}, which is none of the files read")
        if kind == "INVALID ENCODING":
            check_encoding(file, "utf-8")
        reason = _reject_reason(kind, message, column)
        # A line with the wrong number of fields cannot be mapped to columns: where the source holds contact
        # details, the line is withheld rather than stored with an address in an unmasked field.
        record = None if contact else json.dumps({"line": text}, ensure_ascii=False)
        out.append((ids[file.relative], line,
                    reason + (" (line withheld: the source holds contact details)" if contact else ""), record))
    if out:
        conn.executemany("INSERT INTO _csv_rejected VALUES (?, ?, ?, ?)", out)
    conn.execute(f"DROP TABLE IF EXISTS {relation.rejects_table}; DROP TABLE IF EXISTS {relation.rejects_table}_scans")


def _reject_reason(kind: str, message: str, column: str | None) -> str:
    counts = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", message or "")
    if kind in ("MISSING COLUMNS", "TOO MANY COLUMNS") and counts:
        return f"expected {counts.group(1)} fields, found {counts.group(2)}"
    if kind == "UNQUOTED VALUE":
        return "a quoted value is not closed, or text follows its closing quote"
    if kind == "LINE SIZE OVER MAXIMUM":
        return f"line longer than {MAX_LINE_BYTES // 2**20} MiB"
    return f"{kind.lower()}: {message}" + (f" (column {column})" if column else "")


def line_mapping(conn: duckdb.DuckDBPyConnection, csv_files: dict[int, LandingFile], records: dict[int, int]) -> None:
    """Build `_line_map(__fg_file_id, record, line)` and `_reject_steps` for the CSV files given.

    Only files with a row or a value to show need their lines. A regular file (one line per record, no
    blank line) maps record k to line k + 1 plus the rejected lines before it (`mapped_line`, an as-of
    lookup on the rejects); any other file is re-read line by line in Python to find where each record
    starts, and where each line DuckDB rejected starts (exact, slower, only for such files).

    Args:
        csv_files: the CSV files with something to show, by number.
        records: the number of records DuckDB read per file number.
    """
    conn.execute("CREATE OR REPLACE TEMP TABLE _line_map (__fg_file_id BIGINT, record BIGINT, line BIGINT)")
    conn.execute("CREATE OR REPLACE TEMP TABLE _reject_steps (__fg_file_id BIGINT, step BIGINT, rejects BIGINT)")
    rejected = dict(conn.sql("SELECT __fg_file_id, count(*) FROM _csv_rejected GROUP BY ALL").fetchall())
    for number, file in csv_files.items():
        lines = physical_lines(file)
        if not lines or lines == 1 + records.get(number, 0) + rejected.get(number, 0):
            continue
        starts, bad_starts = _record_starts(file)
        if starts:
            conn.executemany("INSERT INTO _line_map VALUES (?, ?, ?)",
                             [(number, record, line) for record, line in enumerate(starts, start=1)])
        if not bad_starts:
            continue
        # DuckDB numbers a rejected line by records, not lines, in such a file: the k-th bad record is it.
        kept = conn.execute("SELECT __fg_line, reasons, record FROM _csv_rejected WHERE __fg_file_id = ? "
                            "ORDER BY __fg_line", [number]).fetchall()
        if len(kept) == len(bad_starts):
            conn.execute("DELETE FROM _csv_rejected WHERE __fg_file_id = ?", [number])
            conn.executemany("INSERT INTO _csv_rejected VALUES (?, ?, ?, ?)",
                             [(number, line, reasons, record) for line, (_, reasons, record) in zip(bad_starts, kept)])
    # Regular files: the i-th rejected line of a file (1-based), at line r, follows r - 1 - i records.
    conn.execute("INSERT INTO _reject_steps SELECT __fg_file_id, __fg_line - 1 - row_number() OVER "
                 "(PARTITION BY __fg_file_id ORDER BY __fg_line), row_number() OVER (PARTITION BY __fg_file_id "
                 "ORDER BY __fg_line) FROM _csv_rejected")


def mapped_line(record: str, file: str) -> str:
    """SQL of the physical line of CSV record `record` of file number `file` (after `line_mapping`)."""
    return (f"coalesce((SELECT m.line FROM _line_map m WHERE m.__fg_file_id = {file} AND m.record = {record}), "
            f"{record} + 1 + coalesce((SELECT max(s.rejects) FROM _reject_steps s WHERE s.__fg_file_id = {file} "
            f"AND s.step < {record}), 0))")


def _record_starts(file: LandingFile) -> tuple[list[int], list[int]]:
    """The line each well-formed record of a CSV file starts on (records DuckDB takes, in order), and the
    line each record with the wrong number of fields starts on."""
    with open_bytes(file) as handle:
        text = handle.read().decode("utf-8-sig", errors="replace")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_csv_header(file, file.path)[1])
    header = next(reader, [])
    starts, bad, line = [], [], reader.line_num + 1
    for record in reader:
        if record and len(record) == len(header):
            starts.append(line)
        elif record:
            bad.append(line)
        line = reader.line_num + 1
    return starts, bad


# ---------------------------------------------------------------------------------------------- JSON lines

def _jsonl_sample(file: LandingFile, path: Path) -> tuple[list[str], int]:
    """The keys of the JSON objects in the first `SAMPLE_BYTES` of a file, and how many objects there were.

    Enough to stop early on a file that lacks a required key and to show the extras a raw view has;
    staging still reads every line's keys.
    """
    with (open_bytes(file) if path == file.path else open(path, "rb")) as handle:
        head = handle.read(SAMPLE_BYTES)
    lines = head.decode("utf-8-sig", errors="replace").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if len(head) == SAMPLE_BYTES:
        lines = lines[:-1]  # the last line may be cut
    keys: list[str] = []
    objects = 0
    for line in lines:
        try:
            document = json.loads(line)
        except ValueError:
            continue
        if isinstance(document, dict):
            objects += 1
            keys += [k for k in document if k not in keys]
    return keys, objects


def _jsonl_part(members: list[tuple[LandingFile, Path]], file: str, keys: list[str], usual: list[str], gzipped: bool,
                per_file_lines: bool) -> str:
    """SQL of JSON lines: `keys` read as text; `usual` is the key list most lines have (written in one order
    by one program), which spares looking for other keys line by line."""
    name = FILE_COLUMN if per_file_lines else FILE_ID_COLUMN
    number = f", row_number() OVER () AS {LINE_COLUMN}" if per_file_lines else ""
    lines = (f"SELECT {file}{number}, _json "
             f"FROM read_csv({_paths(members)}, columns = {{'_json': 'VARCHAR'}}, header = false, delim = chr(1), "
             f"quote = '', escape = '', auto_detect = false, strict_mode = false, max_line_size = {MAX_LINE_BYTES}, "
             f"compression = {_sql_str('gzip' if gzipped else 'none')})")
    if per_file_lines:
        lines = (f"SELECT * REPLACE ({LINE_COLUMN} - min({LINE_COLUMN}) OVER (PARTITION BY {FILE_COLUMN}) + 1 "
                 f"AS {LINE_COLUMN}) FROM ({lines})")
    carried = f"{name}{', ' + LINE_COLUMN if per_file_lines else ''}"
    known = "[" + ", ".join(_sql_str(k) for k in keys) + "]"
    # from_json reads every key in one parse of each line (values as text, JSON null as NULL); it runs only
    # on valid objects (json_valid is cheap, and a failed parse caught row by row is not).
    structure = _sql_str(json.dumps({k: "VARCHAR" for k in keys}))
    parsed = (f"SELECT {carried}, _json, _object, CASE WHEN _object THEN from_json(_json, {structure}) "
              f"END AS _fields, CASE WHEN _object THEN json_keys(_json) END AS _keys FROM (SELECT *, json_valid(_json) "
              f"AND starts_with(ltrim(_json, ' \t'), '{{') AS _object FROM ({lines}))")
    error = (f"CASE WHEN _object THEN NULL WHEN _json IS NULL OR trim(_json, ' \t\r\n') = '' THEN {_sql_str(BLANK_LINE)} "
             "WHEN json_valid(_json) THEN 'line is not a JSON object' ELSE 'line is not valid JSON' END")
    # A line with the usual keys in the usual order has no other key: one list comparison, no lambda.
    usual_list = "[" + ", ".join(_sql_str(k) for k in usual) + "]::VARCHAR[]"
    new_keys = f"CASE WHEN _keys <> {usual_list} THEN list_filter(_keys, k -> NOT list_contains({known}, k)) END"
    fields = ", ".join(f"_fields.{_ident(k)} AS {_ident(k)}" for k in keys)
    documents = (f"SELECT {fields}, {carried}, {error} AS {ERROR_COLUMN}, {new_keys} AS "
                 f"{NEW_KEYS_COLUMN} FROM ({parsed})")
    if per_file_lines:
        documents = f"SELECT * FROM ({documents}) WHERE {ERROR_COLUMN} IS DISTINCT FROM {_sql_str(BLANK_LINE)}"
    return documents


# ------------------------------------------------------------------------------------------------- Parquet

def _parquet_part(conn: duckdb.DuckDBPyConnection, members: list[tuple[LandingFile, Path]], contract: SourceContract,
                  file: str, per_file_lines: bool, keep_native: bool) -> tuple[str, dict[str, str], dict[str, str]]:
    """SQL reading every Parquet file, its columns with their types, and the contract columns kept native."""
    files = [f for f, _ in members]
    # Absolute paths: the raw view must still find the files from another working directory.
    paths = [str(f.path.absolute()) for f in files]
    # Required columns are checked per file from the footers alone, before any row is read.
    per_file = conn.execute(
        "SELECT s.file_name, list(s.name), any_value(m.num_rows) FROM parquet_schema(?) s "
        "JOIN parquet_file_metadata(?) m USING (file_name) WHERE s.num_children IS NULL OR s.num_children = 0 "
        "GROUP BY s.file_name", [paths, paths]).fetchall()
    by_file = {name: (columns, rows) for name, columns, rows in per_file}
    for landing_file in files:
        columns, rows = by_file.get(str(landing_file.path.absolute()), ([], 0))
        check_columns(landing_file, contract, [c for c in columns if c != "schema"], rows)
    described = conn.sql(
        "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet(?, union_by_name = true, "
        "hive_partitioning = false))", params=[paths]).fetchall()
    native = {}
    if keep_native:
        native = {name: dtype for name, dtype in described
                  if name in contract.column_names and native_type(contract.column(name).type, dtype)}
    texts = [_ident(name) if name in native else _parquet_text(name, dtype) for name, dtype in described]
    line = f"file_row_number + 1 AS {LINE_COLUMN}, " if per_file_lines else ""
    sql = (f"SELECT {', '.join(texts)}, {file}, {line}NULL::VARCHAR AS {ERROR_COLUMN}, "
           f"NULL::VARCHAR[] AS {NEW_KEYS_COLUMN} FROM read_parquet([{', '.join(_sql_str(p) for p in paths)}], "
           f"union_by_name = true, {'file_row_number = true, ' if per_file_lines else ''}hive_partitioning = false)")
    found = {name: native.get(name, "VARCHAR") for name, _ in described}
    return sql, found, native


INTEGER_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER")


def native_type(column_type: str, dtype: str) -> bool:
    """Whether a Parquet column of DuckDB type `dtype` holds a contract type's values exactly as they are.

    Money must be an integer or a decimal: a decimal with more than two places is read natively too, and
    staging rejects a value that is not exact to the cent (a float goes through text).
    """
    if column_type == "date":
        return dtype == "DATE"
    if column_type == "timestamp":
        # A timestamp without a zone is read in the business time zone, as its text would be.
        return dtype in ("TIMESTAMP WITH TIME ZONE", "TIMESTAMP")
    if column_type == "int":
        return dtype in INTEGER_TYPES
    if column_type == "float":
        return dtype in ("DOUBLE", "FLOAT", *INTEGER_TYPES)
    if column_type == "bool":
        return dtype == "BOOLEAN"
    if column_type == "money":
        return dtype in INTEGER_TYPES or re.fullmatch(r"DECIMAL\(\d+,\d+\)", dtype.replace(" ", "")) is not None
    return False


def _parquet_text(name: str, dtype: str) -> str:
    column = _ident(name)
    if dtype == "VARCHAR":
        return column
    if dtype == "TIMESTAMP WITH TIME ZONE":
        # An instant is written in UTC with its offset, so it means the same whatever the session zone.
        return f"strftime({column} AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%f+00:00') AS {column}"
    return f"CAST({column} AS VARCHAR) AS {column}"


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'

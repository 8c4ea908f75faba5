"""Find a source's files in the landing folder and read them, with file and line kept.

Values are read as text here, and typed in staging, so a malformed value becomes a quarantined row
instead of a failed read. The exception is a Parquet column whose type already is its contract type
(`native_type`): it is read as it is, and staging only checks its range.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from ingest.contracts import SourceContract

FORMATS = (".csv", ".parquet", ".jsonl")
FILE_COLUMN = "_source_file"
LINE_COLUMN = "_line"
ERROR_COLUMN = "_read_error"
META_COLUMNS = (FILE_COLUMN, LINE_COLUMN, ERROR_COLUMN)


class ContractError(ValueError):
    """The landing data breaks the input contract in a way that stops the run."""


@dataclass(frozen=True)
class LandingFile:
    path: Path
    relative: str

    @property
    def format(self) -> str:
        return self.path.suffix.lower()


def find_source_files(landing: Path, source: str) -> list[LandingFile]:
    """All files of one source: `NAME.csv|parquet|jsonl`, or any such file under a folder `NAME/`.

    Folders may be Hive-partitioned (`date=YYYY-MM-DD/`); hidden and `_`-prefixed entries are ignored.
    """
    found: list[Path] = [landing / f"{source}{ext}" for ext in FORMATS if (landing / f"{source}{ext}").is_file()]
    folder = landing / source
    if folder.is_dir():
        found.extend(
            p
            for p in folder.rglob("*")
            if p.is_file()
            and p.suffix.lower() in FORMATS
            and not any(part.startswith((".", "_")) for part in p.relative_to(folder).parts)
        )
    return [LandingFile(p, p.relative_to(landing).as_posix()) for p in sorted(found)]


def unknown_landing_entries(landing: Path, known: set[str]) -> list[str]:
    """Entries in the landing folder that name no source of the contract (reported, not read)."""
    names = []
    for entry in sorted(landing.iterdir()):
        if entry.name.startswith((".", "_")):
            continue
        stem = entry.name if entry.is_dir() else entry.stem
        if stem not in known:
            names.append(entry.name)
    return names


def load_landing_files(
    conn: duckdb.DuckDBPyConnection, files: list[LandingFile], contract: SourceContract, landing: Path, table: str
) -> int:
    """Replace `table` with every file's rows as text, plus `_source_file`, `_line` and `_read_error`.

    Parquet and JSON-lines files are read by DuckDB straight into the table, so tens of millions of rows
    never pass through Python; CSV files (small reference sources) go through Polars, whose reader
    reports ragged rows per line. `_line` is the line number for CSV and JSON lines, and the 1-based row
    number for Parquet. Every contract column exists even when no file has it. Returns the row count.
    """
    by_format = {fmt: [f for f in files if f.format == fmt] for fmt in FORMATS}
    registered, native, parquet_sql = [], {}, None
    if by_format[".parquet"]:
        # Typed Parquet columns stay typed only when no text file joins them in the same relation.
        parquet_sql, native = _parquet_select(conn, by_format[".parquet"], contract, landing,
                                              keep_native=len(by_format[".parquet"]) == len(files))
    skeleton = ", ".join(f"NULL::{native.get(c.name, 'VARCHAR')} AS {_ident(c.name)}" for c in contract.columns)
    parts = [
        (f"SELECT {skeleton}, NULL::VARCHAR AS {FILE_COLUMN}, NULL::BIGINT AS {LINE_COLUMN}, "
         f"NULL::VARCHAR AS {ERROR_COLUMN} WHERE false")
    ]
    if parquet_sql is not None:
        parts.append(parquet_sql)
    if by_format[".jsonl"]:
        json_sql = _jsonl_select(conn, by_format[".jsonl"], contract, landing)
        if json_sql is None:
            # A file with bytes that are not UTF-8: the Python reader marks them instead of failing.
            frames = _read_jsonl_files([f.path for f in by_format[".jsonl"]])
            csv_like = [_checked_frame(frame, f, contract) for frame, f in zip(frames, by_format[".jsonl"])]
            registered.append(("_landing_jsonl", pl.concat(csv_like, how="diagonal_relaxed")))
        else:
            parts.append(json_sql)
    if by_format[".csv"]:
        frames = [_checked_frame(_read_csv(f.path), f, contract) for f in by_format[".csv"]]
        registered.append(("_landing_csv", pl.concat(frames, how="diagonal_relaxed")))
    for name, frame in registered:
        conn.register(name, frame.to_arrow())
        parts.append(f"SELECT * FROM {name}")
    schema = table.split(".")[0]
    conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    _drop_relation(conn, table)
    # Parquet alone is not copied: the raw relation is a view that reads the landing files as text when
    # staging scans it, so fifty million rows are read once instead of written and read back.
    kind = "VIEW" if files and len(files) == len(by_format[".parquet"]) else "TABLE"
    try:
        conn.execute(f"CREATE {kind} {table} AS {' UNION ALL BY NAME '.join(parts)}")
    finally:
        for name, _ in registered:
            conn.unregister(name)
        conn.execute("DROP TABLE IF EXISTS _json_parsed")
    return conn.sql(f"SELECT count(*) FROM {table}").fetchone()[0]


def _drop_relation(conn: duckdb.DuckDBPyConnection, table: str) -> None:
    """Drop `schema.name` whether it is a table or a view (a raw relation may be either)."""
    schema, name = table.split(".")
    kinds = conn.execute(
        "SELECT table_type FROM information_schema.tables WHERE table_schema = ? AND table_name = ?", [schema, name]
    ).fetchall()
    for (kind,) in kinds:
        conn.execute(f"DROP {'VIEW' if kind == 'VIEW' else 'TABLE'} {table}")


def _parquet_select(
    conn: duckdb.DuckDBPyConnection, files: list[LandingFile], contract: SourceContract, landing: Path,
    keep_native: bool = False,
) -> tuple[str, dict[str, str]]:
    """SQL reading every Parquet file, and the contract columns it keeps in their Parquet type.

    With `keep_native`, a column whose Parquet type already is its contract type (`native_type`) is
    read as it is, so staging checks its range instead of formatting it as text and parsing it back;
    every other column is read as text.
    """
    # Absolute paths: the raw view must still find the files from another working directory.
    paths = [str(f.path.absolute()) for f in files]
    # Required columns are checked per file from the footers alone, before any row is read.
    conn.execute(
        "CREATE OR REPLACE TEMP TABLE _parquet_columns AS "
        "SELECT s.file_name, s.name, m.num_rows FROM parquet_schema(?) s "
        "JOIN parquet_file_metadata(?) m USING (file_name) WHERE s.num_children IS NULL OR s.num_children = 0",
        [paths, paths],
    )
    columns_by_file: dict[str, list[str]] = {}
    rows_by_file: dict[str, int] = {}
    for file_name, name, rows in conn.sql("SELECT * FROM _parquet_columns").fetchall():
        columns_by_file.setdefault(file_name, []).append(name)
        rows_by_file[file_name] = rows
    conn.execute("DROP TABLE _parquet_columns")
    for file in files:
        _check_required(file, contract, columns_by_file.get(str(file.path.absolute()), []), rows_by_file.get(str(file.path.absolute()), 0))
    described = conn.sql(
        "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet(?, union_by_name = true, hive_partitioning = false))",
        params=[paths],
    ).fetchall()
    native = {}
    if keep_native:
        native = {name: dtype for name, dtype in described
                  if name in contract.column_names and native_type(contract.column(name).type, dtype)}
    texts = [_ident(name) if name in native else _parquet_text(name, dtype) for name, dtype in described]
    prefix = len(str(landing.absolute())) + 2
    return (
        f"SELECT {', '.join(texts)}, substr(filename, {prefix}) AS {FILE_COLUMN}, "
        f"file_row_number + 1 AS {LINE_COLUMN}, NULL::VARCHAR AS {ERROR_COLUMN} "
        f"FROM read_parquet([{', '.join(_sql_str(p) for p in paths)}], union_by_name = true, "
        "filename = true, file_row_number = true, hive_partitioning = false)"
    ), native


INTEGER_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER")


def native_type(column_type: str, dtype: str) -> bool:
    """Whether a Parquet column of DuckDB type `dtype` holds a contract type's values exactly as they are.

    Money must be a decimal with at most two places (or an integer): a float or a finer decimal goes
    through text, where an amount that is not exact to the cent is quarantined.
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
        scale = re.fullmatch(r"DECIMAL\((\d+),(\d+)\)", dtype.replace(" ", ""))
        return dtype in INTEGER_TYPES or (scale is not None and int(scale.group(2)) <= 2)
    return False


def _parquet_text(name: str, dtype: str) -> str:
    column = _ident(name)
    if dtype == "VARCHAR":
        return column
    if dtype == "TIMESTAMP WITH TIME ZONE":
        # An instant is written in UTC with its offset, so it means the same whatever the session zone.
        return f"strftime({column} AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%f+00:00') AS {column}"
    return f"CAST({column} AS VARCHAR) AS {column}"


def _jsonl_select(
    conn: duckdb.DuckDBPyConnection, files: list[LandingFile], contract: SourceContract, landing: Path
) -> str | None:
    """SQL for every line of the files, parsed in DuckDB; None when a file is not valid UTF-8."""
    paths = [str(f.path) for f in files]
    prefix = len(str(landing)) + 2
    try:
        conn.execute(
            "CREATE OR REPLACE TEMP TABLE _json_lines AS "
            f"SELECT substr(filename, {prefix}) AS {FILE_COLUMN}, "
            f"unnest(generate_series(1, len(lines))) AS {LINE_COLUMN}, unnest(lines) AS _json "
            "FROM (SELECT filename, string_split(content, chr(10)) AS lines FROM read_text(?))",
            [paths],
        )
    except duckdb.InvalidInputException as error:
        if "UTF-8" not in str(error):
            raise
        return None
    # Fields are read only from lines that are valid JSON objects; other lines keep an error.
    conn.execute(
        f"CREATE OR REPLACE TEMP TABLE _json_parsed AS SELECT {FILE_COLUMN}, {LINE_COLUMN}, "
        "CASE WHEN NOT json_valid(_json) THEN 'line is not valid JSON' "
        "WHEN json_type(_json) <> 'OBJECT' THEN 'line is not a JSON object' END AS _read_error, "
        "CASE WHEN json_valid(_json) AND json_type(_json) = 'OBJECT' THEN _json END AS doc "
        "FROM _json_lines WHERE trim(_json, ' \t\r\n') <> ''"
    )
    conn.execute("DROP TABLE _json_lines")
    keys_by_file = {
        file: keys for file, keys in conn.sql(
            f"SELECT {FILE_COLUMN}, list(DISTINCT k) FROM (SELECT {FILE_COLUMN}, unnest(json_keys(doc)) AS k "
            "FROM _json_parsed WHERE doc IS NOT NULL) GROUP BY ALL"
        ).fetchall()
    }
    line_counts = dict(conn.sql(f"SELECT {FILE_COLUMN}, count(*) FROM _json_parsed GROUP BY ALL").fetchall())
    for file in files:
        _check_required(file, contract, keys_by_file.get(file.relative, []), line_counts.get(file.relative, 0))
    keys = sorted({k for file_keys in keys_by_file.values() for k in file_keys})
    if not keys:
        return f"SELECT {FILE_COLUMN}, {LINE_COLUMN}, {ERROR_COLUMN} FROM _json_parsed"
    # from_json reads every key in one parse of each document (values as text, JSON null as NULL).
    structure = _sql_str(json.dumps({k: "VARCHAR" for k in keys}))
    fields = ", ".join(f"_fields.{_ident(k)} AS {_ident(k)}" for k in keys)
    return (
        f"SELECT {fields}, {FILE_COLUMN}, {LINE_COLUMN}, {ERROR_COLUMN} FROM ("
        f"SELECT {FILE_COLUMN}, {LINE_COLUMN}, {ERROR_COLUMN}, from_json(doc, {structure}) AS _fields FROM _json_parsed)"
    )


def _check_required(file: LandingFile, contract: SourceContract, found: list[str], rows: int) -> None:
    present = set(found)
    missing = [c.name for c in contract.columns if c.required and c.name not in present]
    if missing and rows > 0:
        raise ContractError(
            f"{file.relative}: required column {missing[0]!r} of source {contract.name!r} is missing "
            f"(columns found: {', '.join(c for c in found if c not in META_COLUMNS)})"
        )


def _checked_frame(frame: pl.DataFrame, file: LandingFile, contract: SourceContract) -> pl.DataFrame:
    frame = frame.with_columns(pl.lit(file.relative).alias(FILE_COLUMN))
    if ERROR_COLUMN not in frame.columns:
        frame = frame.with_columns(pl.lit(None, pl.Utf8).alias(ERROR_COLUMN))
    present = set(frame.columns)
    missing = [c.name for c in contract.columns if c.required and c.name not in present]
    if missing and frame.height > 0:
        found = ", ".join(c for c in frame.columns if c not in META_COLUMNS)
        raise ContractError(
            f"{file.relative}: required column {missing[0]!r} of source {contract.name!r} is missing "
            f"(columns found: {found})"
        )
    return frame.with_columns(pl.col(LINE_COLUMN).cast(pl.Int64))


def _read_csv(path: Path) -> pl.DataFrame:
    data = path.read_bytes()
    try:
        frame = pl.read_csv(
            io.BytesIO(data),
            infer_schema=False,
            encoding="utf8-lossy",
            row_index_name=LINE_COLUMN,
            row_index_offset=2,
        )
    except pl.exceptions.ComputeError:
        return _read_csv_line_by_line(data)
    # Quoted line breaks shift line numbers; the exact reader then counts them properly.
    newline_count = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    if frame.height != newline_count - 1:
        return _read_csv_line_by_line(data)
    return frame


def _read_csv_line_by_line(data: bytes) -> pl.DataFrame:
    """Exact line numbers and ragged rows reported per row (slow path, only for irregular files)."""
    reader = csv.reader(io.StringIO(data.decode("utf-8-sig", errors="replace"), newline=""))
    header = next(reader, [])
    rows: list[list[str | None]] = []
    lines: list[int] = []
    errors: list[str | None] = []
    first_line = reader.line_num + 1
    for record in reader:
        if record:
            lines.append(first_line)
        first_line = reader.line_num + 1
        if not record:
            continue
        if len(record) != len(header):
            errors.append(f"expected {len(header)} fields, found {len(record)}")
            record = (record + [None] * len(header))[: len(header)]
        else:
            errors.append(None)
        rows.append([v if v != "" else None for v in record])
    columns = {name: [r[i] for r in rows] for i, name in enumerate(header)}
    frame = pl.DataFrame(columns, schema={name: pl.Utf8 for name in header})
    return frame.with_columns(
        pl.Series(LINE_COLUMN, lines, pl.Int64), pl.Series(ERROR_COLUMN, errors, pl.Utf8)
    )


def _read_jsonl_files(paths: list[Path]) -> list[pl.DataFrame]:
    """Parse JSON-lines files; each frame has only the keys that occur in its own file."""
    frames = []
    for index, path in enumerate(paths):
        text = path.read_bytes().decode("utf-8", errors="replace")
        frames.append(
            pl.DataFrame({"_json": text.split("\n")})
            .with_row_index(LINE_COLUMN, offset=1)
            .with_columns(pl.lit(index, pl.Int32).alias("_file_index"))
        )
    lines = pl.concat(frames).filter(pl.col("_json").str.strip_chars() != "")
    with duckdb.connect() as conn:
        conn.register("json_lines", lines.to_arrow())
        # Fields are read only from lines that are valid JSON objects; other lines keep an error.
        conn.execute(
            "CREATE TEMP TABLE parsed AS SELECT _file_index, _line, "
            "CASE WHEN NOT json_valid(_json) THEN 'line is not valid JSON' "
            "WHEN json_type(_json) <> 'OBJECT' THEN 'line is not a JSON object' END AS _read_error, "
            "CASE WHEN json_valid(_json) AND json_type(_json) = 'OBJECT' THEN _json END AS doc "
            "FROM json_lines"
        )
        keys_by_file = {
            index: sorted(keys)
            for index, keys in conn.sql(
                "SELECT _file_index, list(DISTINCT k) FROM "
                "(SELECT _file_index, unnest(json_keys(doc)) AS k FROM parsed WHERE doc IS NOT NULL) GROUP BY ALL"
            ).fetchall()
        }
        keys = sorted({k for file_keys in keys_by_file.values() for k in file_keys})
        fields = ""
        if keys:
            # One list-valued extraction parses each document once instead of once per key.
            paths_sql = "[" + ", ".join(_sql_str(_json_path(k)) for k in keys) + "]"
            fields = "".join(
                f", CASE WHEN types[{i}] = 'NULL' THEN NULL ELSE vals[{i}] END AS {_ident(k)}"
                for i, k in enumerate(keys, start=1)
            )
            conn.execute(
                f"CREATE TEMP TABLE extracted AS SELECT _file_index, _line, _read_error, "
                f"json_extract_string(doc, {paths_sql}) AS vals, json_type(doc, {paths_sql}) AS types FROM parsed"
            )
        else:
            conn.execute("CREATE TEMP TABLE extracted AS SELECT _file_index, _line, _read_error FROM parsed")
        everything = conn.sql(
            f"SELECT _file_index, _line, _read_error{fields} FROM extracted ORDER BY _file_index, _line"
        ).pl()
    by_file = everything.partition_by("_file_index", as_dict=True)
    return [
        by_file.get((index,), everything.clear()).select(LINE_COLUMN, ERROR_COLUMN, *keys_by_file.get(index, []))
        for index in range(len(paths))
    ]


def _read_parquet(path: Path) -> pl.DataFrame:
    frame = pl.read_parquet(path)
    as_text = []
    for name, dtype in frame.schema.items():
        column = pl.col(name)
        if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
            column = column.dt.convert_time_zone("UTC").dt.to_string("%Y-%m-%dT%H:%M:%S%.f+00:00")
        elif dtype != pl.Utf8:
            column = column.cast(pl.Utf8)
        as_text.append(column.alias(name))
    return frame.select(as_text).with_row_index(LINE_COLUMN, offset=1)


def _json_path(key: str) -> str:
    return '$."' + key.replace('"', '\\"') + '"'


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'

"""Find a source's files in the landing folder and read them as text, with file and line kept.

Every value is read as text here; typing happens in staging, so a malformed value becomes a
quarantined row instead of a failed read.
"""

from __future__ import annotations

import csv
import io
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


def read_landing_files(files: list[LandingFile], contract: SourceContract) -> list[pl.DataFrame]:
    """Every file as an all-text frame with `_source_file`, `_line` and `_read_error` columns.

    `_line` is the line number for CSV and JSON lines, and the 1-based row number for Parquet.
    JSON-lines files are parsed together in one DuckDB pass: per-file connections cost more than the parsing.
    """
    json_files = [f for f in files if f.format == ".jsonl"]
    parsed_json = dict(zip(json_files, _read_jsonl_files([f.path for f in json_files]))) if json_files else {}
    readers = {".csv": _read_csv, ".parquet": _read_parquet}
    return [
        _checked_frame(parsed_json[f] if f.format == ".jsonl" else readers[f.format](f.path), f, contract)
        for f in files
    ]


def read_landing_file(file: LandingFile, contract: SourceContract) -> pl.DataFrame:
    """One file as an all-text frame; see `read_landing_files`."""
    return read_landing_files([file], contract)[0]


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

"""Raw → staged: type every value, deduplicate by key, check references, quarantine the rest.

Every landing row ends in exactly one place: its staged table, or `quarantine.<source>` with its file,
line and every reason it was rejected (`ingest.findings`). A bad value in an optional column does not
reject its row: the value is staged as null and the finding kept (`ingest.value_checks`). `rows_in =
rows_staged + rows_quarantined` holds by construction and is recorded per source and run in
`quarantine.row_accounting` (`ingest.accounting`).

The landing files are read once: every row is typed and judged in one pass (`ingest.row_typing`) into a
temporary table, from which the good rows are written, the rejected ones collected, and the keys that
repeat found. A source too big for one pass (more than `CHUNK_ROWS` rows, estimated from the file sizes)
is read a chunk of files at a time, so memory follows the chunk; its keys are then read once more
beforehand, to know which repeat across chunks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb

from ingest.contracts import CONTRACTS, SourceContract
from ingest.findings import (
    collect_candidates,
    collect_chunk,
    collect_findings,
    create_collections,
    create_quarantine_table,
    drop_collections,
    duplicates_select,
    record_findings,
)
from ingest.landing import (
    FILE_ID_COLUMN,
    NEW_KEYS_COLUMN,
    ContractError,
    LandingFile,
    LandingRelation,
    check_columns,
    csv_rejects,
    find_source_files,
    landing_relation,
    line_mapping,
)
from ingest.landing_files import SourceOptions, check_encoding, read_manifest
from ingest.row_typing import FLAGGED, UNFLAGGED, RowTyping, quote
from ingest.staged_files import (
    PARTITION_KEY,
    PartitionTarget,
    drop_relation,
    export_reference_keys,
)
from ingest.value_maps import ValueMaps, load_value_maps

DEFAULT_HORIZON = timedelta(days=1)
# Rows per pass, estimated from file sizes: a bigger source is read a chunk of files at a time.
CHUNK_ROWS = 16_000_000
BYTES_PER_ROW = {"parquet": 25, "csv": 110, "jsonl": 200}


@dataclass(frozen=True)
class RawLoad:
    source: str
    present: bool
    files: tuple[str, ...]
    bytes: int
    empty_files: tuple[str, ...] = ()  # 0-byte files: read as no rows


@dataclass(frozen=True)
class StageCounts:
    source: str
    present: bool
    rows_in: int
    rows_staged: int
    rows_quarantined: int
    values_nulled: int = 0
    values_mapped: int = 0

    @property
    def balanced(self) -> bool:
        return self.rows_in == self.rows_staged + self.rows_quarantined


@dataclass(frozen=True)
class StagingOptions:
    """What staging needs besides the rows: the source's declared options, the spellings to map, the
    latest plausible instant, and a scratch folder for transcoded files."""

    source: SourceOptions = SourceOptions()
    value_maps: ValueMaps | None = None
    # The latest plausible instant (default: a day after staging starts): data cannot come from the future.
    horizon: datetime | None = None
    scratch: Path | None = None

    def latest_plausible(self) -> datetime:
        return self.horizon or datetime.now(UTC) + DEFAULT_HORIZON


def source_options(landing: Path, source: str, value_maps: Path | None = None,
                   scratch: Path | None = None) -> StagingOptions:
    """The staging options of one source of a landing folder: what its `_sources.yaml` declares, the value
    maps (the shipped ones, extended by `value_maps`), and where to transcode files.

    Raises:
        FileSchemaError: `_sources.yaml` or the value maps file is malformed (naming file and line).
    """
    manifest = read_manifest(landing, {c.name for c in CONTRACTS})
    return StagingOptions(source=manifest.sources.get(source) or SourceOptions(),
                          value_maps=load_value_maps(value_maps), scratch=scratch)


def load_raw(conn: duckdb.DuckDBPyConnection, contract: SourceContract, landing: Path,
             options: StagingOptions | None = None, columns: Sequence[str] | None = None) -> RawLoad:
    """Make `raw.<source>` a view over every landing file of the source, as text, contact details masked.

    The view reads the files themselves (nothing is copied); a CSV line DuckDB cannot read is left out of
    it (staging quarantines it). An absent source gets an empty view with the contract's columns.

    Raises:
        ContractError: naming the file for a missing required column, an unsupported file in the source's
            folder, a column name staging reserves, or bytes that are not in the declared encoding.
    """
    options = options or StagingOptions()
    files = find_source_files(landing, contract.name)
    relation = landing_relation(conn, files, contract, landing, options.source, options.scratch, columns=columns,
                                mask=[c.name for c in contract.columns if c.contact], per_file_lines=True)
    conn.execute("CREATE SCHEMA IF NOT EXISTS raw")
    drop_relation(conn, f"raw.{contract.name}")
    conn.execute(f"CREATE VIEW raw.{contract.name} AS {relation.sql}")
    return RawLoad(contract.name, bool(files), tuple(f.relative for f in files), sum(f.size for f in files),
                   tuple(f.relative for f in files if f.size == 0))


class _NewKeys(Exception):
    def __init__(self, keys: list[str]) -> None:
        self.keys = keys


def stage_source(
    conn: duckdb.DuckDBPyConnection,
    contract: SourceContract,
    landing: Path,
    run_id: str,
    staged_sources: set[str],
    options: StagingOptions | None = None,
    files: Sequence[LandingFile] | None = None,
    parquet_dir: str | None = None,
    only_day: date | None = None,
    prior_keys: str | None = None,
) -> StageCounts:
    """Build `staged.<source>` from the source's landing files and record every finding in `quarantine.<source>`.

    Args:
        conn: warehouse connection whose TimeZone setting is the business time zone (naive timestamps
            are read in it).
        contract: the source's contract.
        landing: the landing folder.
        run_id: identifies this run in the quarantine table.
        staged_sources: sources already staged with data, whose keys references are checked against.
        options: declared encoding, value maps (default: the shipped ones), the horizon (latest plausible
            instant; default a day from now), scratch folder.
        files: the files to stage (default: every file of the source); the columns are those of
            `raw.<source>` when it exists, and any JSON key met while reading.
        parquet_dir: for event-like sources (with an event time column), a folder (or object-store URL)
            where the staged rows are written as daily Parquet partitions
            `<parquet_dir>/<source>/event_date=YYYY-MM-DD/*.parquet` (the day is the landing file's
            `date=` partition, else the row's local date); `staged.<source>` is then a view over them
            (`ingest.staged_files`). None keeps a DuckDB table.
        only_day: with `parquet_dir`, the files are one landing day's and replace just that day's
            partition; `staged.<source>` is then a view over that partition alone.
        prior_keys: SQL of the keys already staged elsewhere (other days' partitions); a row repeating
            one is quarantined as a duplicate.

    Raises:
        ContractError: a file is not in its declared encoding, or breaks the contract (see `load_raw`).
    """
    options = options or StagingOptions()
    files = list(find_source_files(landing, contract.name) if files is None else files)
    columns = _raw_columns(conn, contract)
    while True:
        try:
            return _stage(conn, contract, landing, run_id, staged_sources, options, files, columns, parquet_dir,
                          only_day, prior_keys)
        except _NewKeys as found:
            # JSON keys the raw step's sample did not show: read again with them, and show them in raw.
            columns = [*(columns or _columns_of(conn, contract, landing, files, options)), *found.keys]
            if _raw_columns(conn, contract) is not None:
                load_raw(conn, contract, landing, options, columns=columns)


def _stage(conn: duckdb.DuckDBPyConnection, contract: SourceContract, landing: Path, run_id: str,
           staged_sources: set[str], options: StagingOptions, files: list[LandingFile], columns: list[str] | None,
           parquet_dir: str | None, only_day: date | None, prior_keys: str | None) -> StageCounts:
    maps = options.value_maps or load_value_maps()
    create_quarantine_table(conn, contract.name)
    conn.execute("CREATE SCHEMA IF NOT EXISTS staged; CREATE SCHEMA IF NOT EXISTS private")
    rejects = f"_rejects_{contract.name}"

    def relation(subset: Sequence[LandingFile], with_rejects: bool, first_id: int = 0) -> LandingRelation:
        return landing_relation(conn, subset, contract, landing, options.source, options.scratch,
                                rejects_table=rejects if with_rejects else None, columns=columns, first_id=first_id)

    chunks = _chunks(files) or [[]]
    everything = relation(files, with_rejects=len(chunks) == 1)
    extras = [c for c in everything.columns if c not in contract.column_names]
    typing = RowTyping(contract, frozenset(everything.native), maps, options.latest_plausible())
    # The relation of each chunk, its files numbered on from the previous chunk's.
    parts = [everything] if len(chunks) == 1 else []
    for chunk in chunks if len(chunks) > 1 else []:
        parts.append(relation(chunk, with_rejects=True, first_id=sum(len(p.files) for p in parts)))
    ordered = [f for part in parts for f in part.files]
    rank = {f.relative: r for r, f in enumerate(sorted(files, key=lambda f: f.relative), start=1)}
    create_collections(conn, [(number, f.relative, rank[f.relative], _landing_day(f.relative))
                              for number, f in enumerate(ordered)])
    if len(chunks) > 1:
        # Keys whose 64-bit hash repeats anywhere (a small superset of the repeated keys), from the keys
        # alone: their rows are held back while the chunks are written, then ranked together.
        _guarded(files, options, lambda: conn.execute(
            f"CREATE OR REPLACE TEMP TABLE _key_hashes AS SELECT {typing.key_hash()} AS __fg_h "
            f"FROM ({everything.sql}) r GROUP BY __fg_h HAVING count(*) > 1"))

    staged_columns = [quote(c.name) for c in contract.columns if not c.contact] + [quote(e) for e in extras]
    if contract.derived_key_from:
        staged_columns = [*(quote(k) for k in contract.key), *staged_columns]
    if contract.name == "users":
        staged_columns.insert(staged_columns.index('"gender"'), "year(birth_date)::INTEGER AS birth_year")
    contact_columns = [c.name for c in contract.columns if c.contact]
    partitioned = parquet_dir is not None and contract.event_time_column is not None
    target = PartitionTarget(conn, contract, staged_columns, parquet_dir, only_day) if partitioned else None
    mapped = {name: (typing.mapped_column(name), contract.column(name).contact) for name in typing.mapped}

    def write_good(good: str, number: int) -> None:
        if target is not None:
            target.write(good, number)
        else:
            select = f"SELECT {', '.join(staged_columns)} {good} ORDER BY __fg_pos"
            if number == 0:
                drop_relation(conn, f"staged.{contract.name}")
                conn.execute(f"CREATE TABLE staged.{contract.name} AS {select}")
            else:
                conn.execute(f"INSERT INTO staged.{contract.name} {select}")
        if contact_columns:
            contacts = f"SELECT {', '.join(quote(c) for c in (*contract.key, *contact_columns))} {good}"
            if number == 0:
                conn.execute(f"CREATE OR REPLACE TABLE private.user_contacts AS {contacts}")
            else:
                conn.execute(f"INSERT INTO private.user_contacts {contacts}")

    typed_record = typing.typed_record(extras)
    base = 0
    for number, (chunk, part) in enumerate(zip(chunks, parts)):
        select = typing.select(part.sql, extras)
        _guarded(chunk, options, lambda: conn.execute(f"CREATE OR REPLACE TEMP TABLE _typed AS {select}"))
        csv_rejects(conn, part, contract)
        _check_new_keys(conn, contract, ordered)
        problems = None
        if typing.checks_across_rows(staged_sources, prior_keys):
            conn.execute(f"CREATE OR REPLACE TEMP TABLE _problems AS "
                         f"{typing.problems('_typed', staged_sources, prior_keys)}")
            problems = "_problems"
        judged = typing.judged("_typed", problems, base, staged_sources)
        if len(chunks) == 1:
            # One pass: the keys that repeat are found among the typed rows themselves.
            conn.execute(f"CREATE OR REPLACE TEMP TABLE _key_hashes AS SELECT __fg_h FROM ({judged}) WHERE {UNFLAGGED} "
                         "GROUP BY __fg_h HAVING count(*) > 1")
        collect_chunk(conn, judged, FLAGGED, typed_record)
        collect_candidates(conn, f"SELECT j.*, {typed_record} AS __fg_dup_record, {typing.content_hash(extras)} AS "
                                 f"__fg_dup_hash FROM ({judged}) j SEMI JOIN _key_hashes USING (__fg_h) WHERE {UNFLAGGED}",
                           first=number == 0)
        good = f"FROM (SELECT j.* FROM ({judged}) j ANTI JOIN _key_hashes USING (__fg_h) WHERE {UNFLAGGED}) _good"
        collect_findings(conn, good, mapped, local_lines=False)
        write_good(good, number)
        base += conn.sql("SELECT count(*) FROM _typed").fetchone()[0]
    conn.execute("DROP TABLE _typed; DROP TABLE IF EXISTS _problems")
    conn.execute(f"CREATE OR REPLACE TEMP TABLE _duplicates AS {duplicates_select(contract)}")
    # The first of each repeated key (no write, and so no empty file, when no key repeats).
    if conn.sql("SELECT count(*) FROM _dup_candidates").fetchone()[0]:
        survivors = "FROM (SELECT * FROM _dup_candidates ANTI JOIN _duplicates USING (__fg_pos)) _good"
        collect_findings(conn, survivors, mapped, local_lines=True)
        write_good(survivors, len(chunks))
    if target is not None:
        target.finish()
    if parquet_dir is not None and not contract.event_time_column:
        export_reference_keys(conn, contract, parquet_dir)

    # The physical line of every CSV record shown (only files with something to show are looked at).
    csv_numbers = {number for number, f in enumerate(ordered) if f.format == "csv"}
    shown = {number for (number,) in conn.sql(
        "SELECT __fg_file_id FROM _flagged UNION SELECT __fg_file_id FROM _findings UNION SELECT __fg_file_id FROM "
        "_csv_rejected UNION SELECT first_file FROM _duplicates UNION SELECT __fg_file_id FROM _duplicates "
        "JOIN _dup_candidates USING (__fg_pos)").fetchall()}
    records = dict(conn.sql("SELECT __fg_file_id, sum(records) FROM _read_counts GROUP BY ALL").fetchall())
    line_mapping(conn, {n: ordered[n] for n in sorted(shown & csv_numbers)}, records)
    rows_in, quarantined, nulled, mapped_values = record_findings(conn, contract.name, run_id, csv_numbers)
    staged = conn.sql(f"SELECT count(*) FROM staged.{contract.name}").fetchone()[0]
    drop_collections(conn)
    return StageCounts(contract.name, bool(files), rows_in, staged, quarantined, nulled, mapped_values)


def _check_new_keys(conn: duckdb.DuckDBPyConnection, contract: SourceContract, files: list[LandingFile]) -> None:
    """Stop on a JSON key staging reserves; start again with any other key the relation did not read.

    Args:
        files: the files by number.
    """
    found = conn.sql(f"SELECT DISTINCT {FILE_ID_COLUMN}, key FROM (SELECT {FILE_ID_COLUMN}, unnest({NEW_KEYS_COLUMN}) "
                     f"AS key FROM _typed WHERE {NEW_KEYS_COLUMN} IS NOT NULL) ORDER BY 2, 1").fetchall()
    if not found:
        return
    for number, key in found:
        check_columns(files[number], contract, [key], rows=0)
    raise _NewKeys(sorted({key for _, key in found}))


def _columns_of(conn: duckdb.DuckDBPyConnection, contract: SourceContract, landing: Path, files: list[LandingFile],
                options: StagingOptions) -> list[str]:
    return list(landing_relation(conn, files, contract, landing, options.source, options.scratch).columns)


def _guarded(files: Sequence[LandingFile], options: StagingOptions, run: Callable[[], object]) -> None:
    """Run a read of `files`; when DuckDB finds bytes that are not UTF-8, name the file and the first bad byte."""
    try:
        run()
    except duckdb.InvalidInputException as error:
        text = str(error).lower()
        if "utf-8" not in text and "unicode" not in text:
            raise
        if options.source.encoding in ("utf-8", "utf-8-sig"):
            for file in files:
                if file.format != "parquet":
                    check_encoding(file, "utf-8")
        raise ContractError(f"a landing file of this source is not valid UTF-8 ({str(error).splitlines()[0]})") from None


def _raw_columns(conn: duckdb.DuckDBPyConnection, contract: SourceContract) -> list[str] | None:
    """The columns of `raw.<source>` (contract columns, then extras), or None when there is no raw view."""
    exists = conn.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'raw' "
                          "AND table_name = ?", [contract.name]).fetchone()[0]
    if not exists:
        return None
    return [name for name, *_ in conn.sql(f"DESCRIBE raw.{contract.name}").fetchall()
            if not name.startswith("__fg_")]


def _landing_day(relative: str) -> date | None:
    for part in relative.split("/")[:-1]:
        if part.startswith(f"{PARTITION_KEY}="):
            try:
                return date.fromisoformat(part.split("=", 1)[1])
            except ValueError:
                return None
    return None


def _chunks(files: Sequence[LandingFile]) -> list[list[LandingFile]]:
    """Consecutive runs of files holding about CHUNK_ROWS rows each (estimated from their sizes)."""
    chunks, current, rows = [], [], 0
    for file in files:
        current.append(file)
        rows += file.size // BYTES_PER_ROW.get(file.format, 100) * (5 if file.compressed else 1)
        if rows >= CHUNK_ROWS:
            chunks.append(current)
            current, rows = [], 0
    if current:
        chunks.append(current)
    return chunks



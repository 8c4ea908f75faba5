"""Stage one landing day of an event-like source into its Parquet partition, away from the warehouse file.

`stage_day` reads `<landing>/<source>/date=YYYY-MM-DD/*` in an in-memory DuckDB, types and checks every
row exactly as the full staging does (`ingest.staging.stage_source`), and writes

- the good rows to `<staged_dir>/<source>/event_date=YYYY-MM-DD/part-0.parquet` (the partition the
  `staged.<source>` view reads),
- the day's findings (rejected rows with file, line, reasons and the masked record; values stored as
  null; mapped spellings; files read), the rows of `quarantine.<source>`, to
  `<staged_dir>/_quarantine/<source>/event_date=YYYY-MM-DD/part-0.parquet`,
- the day's row accounting (the columns of `quarantine.row_accounting`) to
  `<staged_dir>/_accounting/<source>/event_date=YYYY-MM-DD/part-0.parquet`.

Keys are checked for duplicates within the day and against every other day's partition; references
against the key files the full staging of users and products exports (`<staged_dir>/_keys/`). The
DuckDB warehouse file is never opened, so any number of days (and sources) can be staged at once in
separate processes.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ingest.accounting import row_accounting_query
from ingest.contracts import SourceContract
from ingest.landing import find_source_files
from ingest.findings import quarantine_table
from ingest.staged_files import PARTITION_KEY, STAGED_PARTITION, keys_file, partition_glob
from ingest.staging import StageCounts, StagingOptions, stage_source
from warehouse import connect


@dataclass(frozen=True)
class DayStaged:
    counts: StageCounts
    day: dt.date
    files: tuple[str, ...]
    quarantine_file: str
    reasons: list[tuple[str, int]]
    validation: object | None = None  # quality.suites.ValidationOutcome of the day's partition


def landing_days(landing: Path, source: str) -> list[dt.date]:
    """The days that have a `date=YYYY-MM-DD` folder under the source's landing folder."""
    folder = Path(landing) / source
    days = []
    if folder.is_dir():
        for entry in folder.iterdir():
            if entry.is_dir() and entry.name.startswith(f"{PARTITION_KEY}="):
                try:
                    days.append(dt.date.fromisoformat(entry.name.split("=", 1)[1]))
                except ValueError:
                    continue
    return sorted(days)


def stage_day(contract: SourceContract, landing: Path, day: dt.date, staged_dir: str, run_id: str,
              timezone: str = "Asia/Shanghai", memory_limit: str | None = None,
              validate: Callable[[duckdb.DuckDBPyConnection, str], object] | None = None,
              options: StagingOptions | None = None) -> DayStaged:
    """Type, check and stage one landing day of `contract` into its partition (see the module doc).

    `validate(conn, source)`, when given, then checks the day's staged rows (the caller passes the
    source's Great Expectations suite, `quality.suites.validate_staged_table`, which reads every row).
    `options` are the staging options of the full staging (encoding, value maps, horizon).
    """
    if not contract.event_time_column:
        raise ValueError(f"{contract.name} is not an event-like source; only those are staged by day")
    landing = Path(landing)
    prefix = f"{contract.name}/{PARTITION_KEY}={day.isoformat()}/"
    files = [f for f in find_source_files(landing, contract.name) if f.relative.startswith(prefix)]
    root = staged_dir.rstrip("/")
    partition = f"{STAGED_PARTITION}={day.isoformat()}"
    with connect(":memory:", timezone, memory_limit=memory_limit) as conn:
        conn.execute("CREATE SCHEMA staged")
        targets = set()
        for ref in contract.references:
            keys = keys_file(root, ref.target_source)
            if _exists(keys):
                conn.execute(f"CREATE OR REPLACE VIEW staged.{ref.target_source} AS SELECT * FROM read_parquet('{keys}')")
                targets.add(ref.target_source)
        prior = None
        others = [f for f in _glob(conn, partition_glob(root, contract.name)) if f"/{partition}/" not in f]
        if others:
            listed = ", ".join(f"'{f}'" for f in others)
            prior = f"SELECT {', '.join(contract.key)} FROM read_parquet([{listed}])"
        counts = stage_source(conn, contract, landing, run_id, targets, options, files=files, parquet_dir=root,
                              only_day=day, prior_keys=prior)
        quarantine = f"{root}/_quarantine/{contract.name}/{partition}/part-0.parquet"
        accounting = f"{root}/_accounting/{contract.name}/{partition}/part-0.parquet"
        for file in (quarantine, accounting):
            if "://" not in file:
                shutil.rmtree(Path(file).parent, ignore_errors=True)
                Path(file).parent.mkdir(parents=True, exist_ok=True)
        rejected = quarantine_table(contract.name)
        conn.execute(f"COPY (SELECT * FROM {rejected} ORDER BY source_file, line) TO '{quarantine}' (FORMAT parquet)")
        conn.execute(f"COPY ({row_accounting_query([contract])}) TO '{accounting}' (FORMAT parquet)",
                     {"run_id": run_id})
        validation = validate(conn, contract.name) if validate is not None else None
        reasons = conn.sql(f"SELECT reasons, count(*) AS n FROM {rejected} WHERE kind = 'row' GROUP BY reasons "
                           "ORDER BY n DESC LIMIT 10").fetchall()
    return DayStaged(counts, day, tuple(f.relative for f in files), quarantine, reasons, validation)


def _glob(conn: duckdb.DuckDBPyConnection, pattern: str) -> list[str]:
    return [row[0] for row in conn.execute("SELECT file FROM glob(?)", [pattern]).fetchall()]


def _exists(path: str) -> bool:
    return Path(path).is_file() if "://" not in path else True

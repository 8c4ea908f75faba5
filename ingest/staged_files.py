"""Where staged rows go: daily Parquet partitions of event-like sources, key files, and table helpers.

Event-like sources (with an event time column) are staged as `<staged_dir>/<source>/event_date=DAY/*.parquet`
and `staged.<source>` is a view over them: unsorted partitions cost far less to write than a sorted
table, and one day can be restaged alone (`ingest.daily_staging`). Users and products also export the
keys other sources reference to `<staged_dir>/_keys/<source>.parquet`, so a day staged in another
process checks its references without opening the warehouse file.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import duckdb

from ingest.contracts import CONTRACTS, SourceContract

# The landing day of a file: its Hive partition folder `date=YYYY-MM-DD/`.
PARTITION_KEY = "date"
# The staged partition column (not `date`, which would clash with a source's own `date` column).
STAGED_PARTITION = "event_date"
# Staged Parquet: snappy, and dictionaries only for columns of at most 1,000 distinct values per row
# group. By default the writer also tries one for ids and JSON text, all but unique, before giving it up,
# which cost a quarter of the write time for files of the same size.
PARQUET_WRITE = "FORMAT parquet, COMPRESSION snappy, DICTIONARY_SIZE_LIMIT 1000"


def partition_glob(parquet_dir: str, source: str) -> str:
    """Every staged Parquet file of an event-like source."""
    return f"{parquet_dir.rstrip('/')}/{source}/*/*.parquet"


def staged_view_sql(parquet_dir: str, source: str) -> str:
    """The `staged.<source>` view over its daily partitions (the partition column is left out)."""
    return (
        f"SELECT * EXCLUDE ({STAGED_PARTITION}) FROM read_parquet({_sql_str(partition_glob(parquet_dir, source))}, "
        "hive_partitioning = true, hive_types = {'" + STAGED_PARTITION + "': DATE})"
    )


class PartitionTarget:
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
        if not is_remote(self.target):
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
        day = f"coalesce(__fg_day, CAST({_quote(self.contract.event_time_column)} AS DATE))"
        self.conn.execute(
            f"COPY (SELECT {', '.join(self.columns)}, {day} AS {STAGED_PARTITION} {good} JOIN _files USING (__fg_file_id)) "
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


def export_reference_keys(conn: duckdb.DuckDBPyConnection, contract: SourceContract, parquet_dir: str) -> None:
    """Write the keys event-like sources reference (users, products) next to their partitions.

    A day staged in another process checks its references against this file instead of opening the
    DuckDB warehouse, which allows one writer only.
    """
    columns = sorted({ref.target_column for c in CONTRACTS if c.event_time_column for ref in c.references
                      if ref.target_source == contract.name})
    if contract.name == "users":
        columns.append("signup_at")
    if not columns:
        return
    file = keys_file(parquet_dir, contract.name)
    if not is_remote(file):
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


def is_remote(path: str) -> bool:
    return "://" in path


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"

"""Open the DuckDB warehouse and move Polars frames in and out of it through Arrow."""

from __future__ import annotations

import functools
import os
from pathlib import Path

import duckdb
import polars as pl


def connect(path: str | Path, timezone: str = "Asia/Shanghai", read_only: bool = False,
            memory_limit: str | None = None, threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """A connection whose session time zone is the business time zone.

    Naive timestamps in the landing data are read in that zone, and local dates are taken in it.
    DuckDB gets `memory_limit` (default: half the machine's memory, so Python and Polars keep the
    rest; DuckDB spills to disk beyond it) and `threads` (default: every core).
    """
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    config: dict[str, object] = {"memory_limit": memory_limit or default_memory_limit()}
    if threads:
        config["threads"] = threads
    conn = duckdb.connect(str(path), read_only=read_only, config=config)
    # TimeZone cannot be passed to connect(): the ICU extension is only loaded after connecting.
    conn.execute(f"SET TimeZone = '{_validated_zone(conn, timezone)}'")
    return conn


@functools.cache
def default_memory_limit() -> str:
    """Half the physical memory, in MiB (DuckDB's own default is 80%)."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return "4GiB"
    return f"{max(256, total // 2 // 2**20)}MiB"


def write_frame(conn: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> int:
    """Replace `schema.table` with the frame's rows; returns the row count."""
    _ensure_schema(conn, table)
    conn.register("_frame_to_write", frame.to_arrow())
    try:
        conn.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM _frame_to_write")
    finally:
        conn.unregister("_frame_to_write")
    return frame.height


def replace_rows(conn: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame, column: str) -> int:
    """Replace the rows of `table` whose `column` takes a value found in `frame` (other rows stay).

    For tables that keep history, such as one row per user per as-of date: a rerun for the same date
    replaces that date's rows. The table is created from the frame's schema when it does not exist yet.
    """
    _ensure_schema(conn, table)
    conn.register("_rows_to_write", frame.to_arrow())
    try:
        conn.execute(f"CREATE TABLE IF NOT EXISTS {table} AS SELECT * FROM _rows_to_write WHERE false")
        conn.execute(f"DELETE FROM {table} WHERE {column} IN (SELECT DISTINCT {column} FROM _rows_to_write)")
        conn.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _rows_to_write")
    finally:
        conn.unregister("_rows_to_write")
    return frame.height


def create_table_as(conn: duckdb.DuckDBPyConnection, table: str, query: str,
                    params: dict | list | None = None) -> int:
    """Replace `schema.table` with the rows of a query, computed inside DuckDB; returns the row count."""
    _ensure_schema(conn, table)
    conn.execute(f"CREATE OR REPLACE TABLE {table} AS {query}", params or [])
    return row_count(conn, table)


def read_frame(conn: duckdb.DuckDBPyConnection, sql: str, params: dict | list | None = None) -> pl.DataFrame:
    """Run a query and return its result as a Polars frame, every instant in UTC.

    DuckDB hands out TIMESTAMPTZ in the session zone; libraries get one zone so comparisons never mix.
    """
    frame = pl.from_arrow(conn.execute(sql, params or []).to_arrow_table())
    return frame.with_columns(pl.col(pl.Datetime(time_zone="*")).dt.convert_time_zone("UTC"))


def table_exists(conn: duckdb.DuckDBPyConnection, table: str) -> bool:
    schema, name = table.split(".") if "." in table else ("main", table)
    return conn.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?", [schema, name]
    ).fetchone()[0] > 0


def row_count(conn: duckdb.DuckDBPyConnection, table: str) -> int:
    return conn.sql(f"SELECT count(*) FROM {table}").fetchone()[0]


def _ensure_schema(conn: duckdb.DuckDBPyConnection, table: str) -> None:
    schema = table.split(".")[0] if "." in table else "main"
    conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")


def _validated_zone(conn: duckdb.DuckDBPyConnection, timezone: str) -> str:
    if not _known_zone(timezone):
        raise ValueError(f"unknown time zone {timezone!r}: use an IANA name such as 'Asia/Shanghai'")
    return timezone


@functools.cache
def _known_zone(timezone: str) -> bool:
    # Listing DuckDB's zones costs ~0.4 s, and every asset step opens a connection: ask once per zone.
    with duckdb.connect() as probe:
        return probe.execute("SELECT count(*) FROM pg_timezone_names() WHERE name = ?", [timezone]).fetchone()[0] > 0

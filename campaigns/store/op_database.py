"""Open the operational store by URL and run short transactions on it.

`OpStore(url)` connects lazily: nothing is opened (and no SQLite file created) until the first
transaction, so a caller that refuses a request first never touches the store. Every transaction is
short and atomic:

- SQLite: WAL journal (readers never block the writer), `BEGIN IMMEDIATE` (a transaction takes the write
  lock up front, so two processes never deadlock upgrading a read lock), and a busy timeout: another
  process's transaction is waited for, never failed on.
- Postgres: ordinary transactions; the ledger's state changes are conditional `UPDATE … WHERE state = …`
  statements whose row count says whether this process won the change, so two launchers can never both
  send a batch.

A store that cannot be reached raises `StoreUnavailable` (the message names the kind of failure, never
the URL, which may carry a password).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import Connection, Engine, Select, Table, create_engine, event, func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from campaigns.campaign_errors import StoreUnavailable
from campaigns.store.op_tables import OP_TABLES, audit_log, metadata, outbox, polars_schema

SQLITE_BUSY_SECONDS = 60.0


class OpStore:
    """The operational database of the campaign service (SQLite file or Postgres server)."""

    def __init__(self, url: str) -> None:
        self._url = make_url(url)
        if self._url.get_backend_name() not in ("sqlite", "postgresql"):
            raise ValueError(f"the campaign store must be SQLite or Postgres, got {self._url.get_backend_name()!r}")
        self._engine: Engine | None = None
        self._created = False
        self._lock = threading.Lock()

    @property
    def dialect(self) -> str:
        return self._url.get_backend_name()

    @property
    def display_url(self) -> str:
        """The URL without its password, for messages."""
        return self._url.render_as_string(hide_password=True)

    @property
    def sqlite_path(self) -> Path | None:
        """The SQLite file (None for Postgres or an in-memory database)."""
        if self.dialect != "sqlite" or not self._url.database or self._url.database == ":memory:":
            return None
        return Path(self._url.database)

    def exists(self) -> bool:
        """Whether the store holds data already (a SQLite file that exists; a Postgres server always counts)."""
        path = self.sqlite_path
        return path.is_file() if path is not None else True

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One atomic transaction: committed when the block ends, rolled back if it raises."""
        engine = self._ready()
        try:
            with engine.begin() as conn:
                yield conn
        except OperationalError as error:
            raise StoreUnavailable(f"the campaign store cannot be used now ({_kind(error)})") from None

    def frame(self, statement: Select, schema: dict[str, pl.DataType] | None = None) -> pl.DataFrame:
        """The rows of a select as a Polars frame (typed by `schema`, else by the selected columns)."""
        with self.transaction() as conn:
            return rows_frame(conn, statement, schema)

    def table_frame(self, table: Table) -> pl.DataFrame:
        """Every row of one table, typed by its definition (instants as UTC)."""
        return self.frame(table.select(), polars_schema(table))

    def snapshot(self) -> dict[str, pl.DataFrame]:
        """Every table of the store as a typed frame, read in one consistent transaction (name → frame)."""
        engine = self._ready()
        try:
            with engine.connect() as conn:
                if self.dialect == "postgresql":
                    conn = conn.execution_options(isolation_level="REPEATABLE READ")
                with conn.begin():
                    return {table.name: rows_frame(conn, table.select(), polars_schema(table)) for table in OP_TABLES}
        except OperationalError as error:
            raise StoreUnavailable(f"the campaign store cannot be read now ({_kind(error)})") from None

    def open_batches(self) -> int:
        """How many batches are `sending` or `unknown` (0 when the store does not exist yet)."""
        if not self.exists():
            return 0
        with self.transaction() as conn:
            return conn.execute(select(func.count()).where(outbox.c.state.in_(["sending", "unknown"]))).scalar_one()

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()

    def _ready(self) -> Engine:
        with self._lock:
            if self._engine is None:
                self._engine = _engine(self._url)
            if not self._created:
                try:
                    metadata.create_all(self._engine, checkfirst=True)
                except OperationalError as error:
                    raise StoreUnavailable(f"the campaign store cannot be opened ({_kind(error)})") from None
                self._created = True
            return self._engine


def rows_frame(conn: Connection, statement: Select, schema: dict[str, pl.DataType] | None = None) -> pl.DataFrame:
    """Run a select on an open connection and return its rows as a typed Polars frame."""
    result = conn.execute(statement)
    names = list(result.keys())
    rows = result.all()
    schema = schema or {}
    typed = {name: schema.get(name, pl.String()) for name in names} if schema else None
    if typed is None:
        return pl.DataFrame([tuple(row) for row in rows], schema=names, orient="row")
    return pl.DataFrame([tuple(row) for row in rows], schema=typed, orient="row")


def insert_ignoring_duplicates(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> int:
    """Insert rows, skipping any that would break a unique key; returns how many were inserted."""
    if not rows:
        return 0
    builder = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    inserted = 0
    for row in rows:
        statement = builder(table).values(**row).on_conflict_do_nothing().returning(*table.primary_key.columns)
        inserted += len(conn.execute(statement).all())
    return inserted


def insert_rows(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> int:
    """Insert many rows in one statement batch (nothing for an empty list)."""
    if not rows:
        return 0
    conn.execute(insert(table), list(rows))
    return len(rows)


def lock_audit_chain(conn: Connection) -> None:
    """Serialise appends to the hash chain across processes (SQLite transactions already hold the write lock)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"LOCK TABLE {audit_log.name} IN SHARE ROW EXCLUSIVE MODE")


def _engine(url) -> Engine:
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_SECONDS, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_connection, _record) -> None:
            # Let SQLAlchemy's "begin" event below issue BEGIN IMMEDIATE instead of pysqlite's deferred BEGIN.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_SECONDS * 1000)}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


def _kind(error: OperationalError) -> str:
    original = getattr(error, "orig", None)
    return type(original).__name__ if original is not None else type(error).__name__

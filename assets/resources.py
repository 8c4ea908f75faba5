"""Resource types the assets need; `pipelines/` builds them from the settings."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb

from campaigns.store.op_database import OpStore
from warehouse import connect


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB warehouse file. One writer at a time: runs use the in-process executor."""

    path: str
    timezone: str = "Asia/Shanghai"
    # Daily Parquet partitions of staged event-like sources (a folder or an object-store URL); None keeps
    # every staged source in the DuckDB file.
    staged_dir: str | None = None
    memory_limit: str | None = None  # DuckDB memory_limit, e.g. "4GB"; default half the machine's memory
    threads: int | None = None  # DuckDB threads; default every core

    @property
    def scratch_dir(self) -> Path:
        """Where files are transcoded to UTF-8 and other working copies go: beside the warehouse file."""
        path = Path(self.path)
        return path.parent / f"{path.stem}_scratch"

    @contextmanager
    def connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        conn = connect(self.path, self.timezone, memory_limit=self.memory_limit, threads=self.threads)
        try:
            yield conn
        finally:
            conn.close()


class CampaignStoreResource(dg.ConfigurableResource):
    """The operational campaign store (SQLAlchemy URL: a SQLite file, or Postgres); runs only read it."""

    url: str

    def store(self) -> OpStore:
        return OpStore(self.url)

    def open_batches(self) -> int:
        store = self.store()
        try:
            return store.open_batches()
        finally:
            store.dispose()


class LandingResource(dg.ConfigurableResource):
    """The landing folder holding one entry per source (see the input contract)."""

    path: str
    # A YAML file of more spellings to map (ingest/value_maps.py); the shipped map alone when None.
    value_maps: str | None = None

    @property
    def folder(self) -> Path:
        return Path(self.path)


class AnalysisResource(dg.ConfigurableResource):
    """Knobs of one analysis run: the fields of `pipelines.settings.Settings` with the same names."""

    as_of: str | None = None  # ISO date; default: the latest timestamp in the data
    clv_horizon_days: int = 365
    holdout_weeks: int | None = None  # lifetime-value holdout check; default half the history, at most 39
    attribution_lookback_days: int = 30
    conversion: str = "first_transaction"  # or first_credit (first funded loan), first_wealth (first fund purchase)
    min_group_size: int = 10
    language: str = "en"
    campaigns_dir: str | None = None  # default: the example campaigns shipped with the package
    rule_segments: str | None = None  # analysts' YAML segments; default the shipped examples
    targets: str | None = None  # YAML of executive KPI targets; none shown without it

    @property
    def as_of_date(self) -> date | None:
        return date.fromisoformat(self.as_of) if self.as_of else None


class ReportsResource(dg.ConfigurableResource):
    """Where dashboards are written."""

    path: str

    @property
    def folder(self) -> Path:
        return Path(self.path)

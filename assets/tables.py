"""Warehouse tables as assets: one asset key per table, declared with its grain and integrity rules.

Each asset module declares the tables it writes as `WarehouseTable`s beside the asset function. The
declaration gives the asset's key, group, upstream keys and description (its first words are the
grain, "One row per …"), the table name as `dagster/table_name` metadata (so the Dagster UI and the
tests can map every warehouse table to its asset), and the primary-key, foreign-key and money rules
that `materialized()` checks right after the table is written (blocking: a broken rule fails the step,
so nothing downstream reads the table).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import dagster as dg
import duckdb

from warehouse.integrity import (
    ForeignKey,
    IntegrityOutcome,
    MoneyTotal,
    TableContract,
    check_foreign_keys,
    check_money,
    check_primary_key,
)

__all__ = ["ForeignKey", "MoneyTotal", "WarehouseTable", "materialized", "table_asset", "table_specs"]

PRIMARY_KEY_CHECK = "primary_key_is_unique"
FOREIGN_KEY_CHECK = "references_resolve"
MONEY_CHECK = "money_reconciles"


@dataclass(frozen=True)
class WarehouseTable:
    """A table of the warehouse and the asset that stands for it."""

    key: str
    table: str
    group: str
    grain: str
    detail: str = ""
    deps: tuple[str, ...] = ()
    kinds: frozenset[str] = frozenset({"duckdb"})
    primary_key: tuple[str, ...] = ()
    nullable_key: tuple[str, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    money: tuple[MoneyTotal, ...] = ()
    single_row: bool = False

    def __post_init__(self) -> None:
        if not self.grain.startswith("One row per") and not self.grain.startswith("One "):
            raise ValueError(f"{self.key}: the grain must say what one row is ('One row per …'), got {self.grain!r}")

    @property
    def contract(self) -> TableContract:
        return TableContract(self.table, self.primary_key, self.nullable_key, self.foreign_keys, self.money,
                             self.single_row)

    @property
    def description(self) -> str:
        text = f"{self.grain.rstrip('.')} (`{self.table}`)."
        return f"{text} {self.detail}" if self.detail else text

    def check_specs(self) -> list[dg.AssetCheckSpec]:
        specs = []
        if self.primary_key or self.single_row:
            key = "exactly one row" if self.single_row else f"({', '.join(self.primary_key)}) is unique"
            specs.append(dg.AssetCheckSpec(PRIMARY_KEY_CHECK, asset=self.key, blocking=True,
                                           description=f"{self.table}: {key}."))
        if self.foreign_keys:
            targets = "; ".join(f"{', '.join(k.columns)} → {k.table}" for k in self.foreign_keys)
            specs.append(dg.AssetCheckSpec(FOREIGN_KEY_CHECK, asset=self.key, blocking=True,
                                           description=f"{self.table}: every reference resolves ({targets})."))
        if self.money:
            totals = "; ".join(f"Σ {m.column} = Σ {m.other_table}.{m.other_column}" for m in self.money)
            specs.append(dg.AssetCheckSpec(MONEY_CHECK, asset=self.key, blocking=True,
                                           description=f"{self.table}: {totals}."))
        return specs

    def spec(self) -> dg.AssetSpec:
        return dg.AssetSpec(
            self.key, group_name=self.group, deps=list(self.deps), kinds=set(self.kinds),
            description=self.description, metadata={"dagster/table_name": self.table})


def table_specs(tables: Iterable[WarehouseTable]) -> list[dg.AssetSpec]:
    return [table.spec() for table in tables]


def table_asset(*tables: WarehouseTable, name: str | None = None, description: str | None = None,
                **kwargs) -> dg.multi_asset:
    """The decorator of a step that writes `tables`: one asset key and its integrity checks per table."""
    return dg.multi_asset(
        name=name or tables[0].key,
        specs=table_specs(tables),
        check_specs=[spec for table in tables for spec in table.check_specs()],
        description=description,
        **kwargs,
    )


def materialized(conn: duckdb.DuckDBPyConnection, table: WarehouseTable, rows: int | None = None,
                 notes: Sequence[str] | None = None, count: bool = True, **metadata: object) -> dg.MaterializeResult:
    """The result of writing `table`: row count, metadata, notes, and the table's integrity checks run now.

    `notes` says what the step skipped or approximated (collected into `marts.pipeline_notes`). Without
    `count` (a view over landing files, which counting would read once more) no row count is given.
    """
    if rows is None and count:
        rows = conn.sql(f"SELECT count(*) FROM {table.table}").fetchone()[0]
    values: dict[str, object] = {**({"dagster/row_count": rows} if count else {}), **metadata}
    if notes is not None:
        values["notes"] = dg.MetadataValue.json(list(notes))
    return dg.MaterializeResult(asset_key=table.key, metadata=values, check_results=_check_results(conn, table))


def _check_results(conn: duckdb.DuckDBPyConnection, table: WarehouseTable) -> list[dg.AssetCheckResult]:
    contract = table.contract
    outcomes: list[tuple[str, IntegrityOutcome]] = []
    if table.primary_key or table.single_row:
        outcomes.append((PRIMARY_KEY_CHECK, check_primary_key(conn, contract)))
    if table.foreign_keys:
        outcomes.append((FOREIGN_KEY_CHECK, check_foreign_keys(conn, contract)))
    if table.money:
        outcomes.append((MONEY_CHECK, check_money(conn, contract)))
    return [
        dg.AssetCheckResult(asset_key=table.key, check_name=name, passed=outcome.passed,
                            description=outcome.description,
                            metadata={k: dg.MetadataValue.json(v) if isinstance(v, dict) else v
                                      for k, v in outcome.metadata.items()})
        for name, outcome in outcomes
    ]

"""Integrity rules of a warehouse table — primary key, foreign keys, money totals — and their checks.

A table's rules are declared once, beside the asset that writes it (`TableContract`); the checks here
run them against the DuckDB file and say what failed in numbers. They are plain functions of a
connection, so tests call them directly and the asset layer wraps them as Dagster asset checks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import duckdb


@dataclass(frozen=True)
class ForeignKey:
    """`columns` of this table name a row of `table` (its `referenced` columns, by default the same names).

    Rows whose key columns are all null reference nothing and pass.
    """

    columns: tuple[str, ...]
    table: str
    referenced: tuple[str, ...] | None = None

    @property
    def target_columns(self) -> tuple[str, ...]:
        return self.referenced or self.columns


@dataclass(frozen=True)
class MoneyTotal:
    """The sum of `column` here equals the sum of `other_column` over `other_table`.

    Attributes:
        where: SQL condition on the other table's rows (which of them count).
        on: join columns: only the other table's rows whose key appears in this table count.
        per: columns of this table that each hold the whole total (e.g. `attribution_model` in a table
            with one block of rows per model): the total must hold within every group.
        per_both: the other table has the `per` columns too and is grouped by them as well: each group
            here equals the same group there (e.g. spend per model summed over cohorts = spend per model).
        tolerance: allowed absolute difference, for money rounded to the cent in several places (sums of
            floating-point columns may also differ by `FLOAT_RELATIVE_TOLERANCE` of their size).
    """

    column: str
    other_table: str
    other_column: str
    where: str | None = None
    on: tuple[str, ...] = ()
    per: tuple[str, ...] = ()
    per_both: bool = False
    tolerance: float = 0.0


@dataclass(frozen=True)
class TableContract:
    """What must hold of a table's rows whatever the data: its grain as a key, its references, its money."""

    table: str
    primary_key: tuple[str, ...] = ()
    # Key columns that may be null (the key is still unique, nulls counting as one value).
    nullable_key: tuple[str, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    money: tuple[MoneyTotal, ...] = ()
    single_row: bool = False


@dataclass(frozen=True)
class IntegrityOutcome:
    passed: bool
    description: str
    metadata: dict[str, object] = field(default_factory=dict)


def check_primary_key(conn: duckdb.DuckDBPyConnection, contract: TableContract) -> IntegrityOutcome:
    """The primary key is unique and its non-nullable columns have no nulls (or the table has one row)."""
    table = contract.table
    if contract.single_row:
        rows = _count(conn, f"SELECT count(*) FROM {table}")
        return IntegrityOutcome(rows == 1, f"{table} holds {rows} row(s); exactly one expected", {"rows": rows})
    key = ", ".join(_quote(c) for c in contract.primary_key)
    required = [c for c in contract.primary_key if c not in contract.nullable_key]
    nulls = " OR ".join(f"{_quote(c)} IS NULL" for c in required) or "false"
    # Distinct 64-bit hashes are far cheaper to count than distinct keys; only when two hashes meet is the
    # exact count needed (a collision of different keys would otherwise read as a duplicate).
    rows, hashes, null_keys = conn.sql(
        f"SELECT count(*), count(DISTINCT hash({key})), count(*) FILTER (WHERE {nulls}) FROM {table}").fetchone()
    duplicates = 0
    if hashes < rows:
        duplicates = _count(conn, f"SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM {table} "
                                  f"GROUP BY {key} HAVING count(*) > 1)")
    passed = duplicates == 0 and null_keys == 0
    return IntegrityOutcome(
        passed,
        f"{table}: {rows} rows, key ({', '.join(contract.primary_key)}): {duplicates} duplicate(s), "
        f"{null_keys} null key(s)",
        {"rows": rows, "duplicate_keys": duplicates, "null_keys": null_keys},
    )


def check_foreign_keys(conn: duckdb.DuckDBPyConnection, contract: TableContract) -> IntegrityOutcome:
    """Every foreign key of the table names an existing row of the referenced table."""
    orphans: dict[str, int] = {}
    for key in contract.foreign_keys:
        mine = ", ".join(f"{_quote(c)} AS _k{i}" for i, c in enumerate(key.columns))
        theirs = ", ".join(f"{_quote(c)} AS _k{i}" for i, c in enumerate(key.target_columns))
        joined = ", ".join(f"_k{i}" for i in range(len(key.columns)))
        present = " OR ".join(f"{_quote(c)} IS NOT NULL" for c in key.columns)
        orphans[f"{','.join(key.columns)} -> {key.table}"] = _count(
            conn,
            f"SELECT count(*) FROM (SELECT {mine} FROM {contract.table} WHERE {present}) a "
            f"ANTI JOIN (SELECT DISTINCT {theirs} FROM {key.table}) b USING ({joined})")
    failed = {name: n for name, n in orphans.items() if n}
    description = (f"{contract.table}: every reference resolves" if not failed else
                   f"{contract.table}: " + "; ".join(f"{n} row(s) with {name} unresolved" for name, n in failed.items()))
    return IntegrityOutcome(not failed, description, {"unresolved": orphans})


def check_money(conn: duckdb.DuckDBPyConnection, contract: TableContract) -> IntegrityOutcome:
    """Every money total of the table equals its source's total (to the cent, or within the tolerance)."""
    problems, totals = [], {}
    for total in contract.money:
        theirs = _other_totals(conn, contract.table, total)
        if total.per:
            columns = ", ".join(_quote(c) for c in total.per)
            groups = conn.sql(f"SELECT {columns}, sum({_quote(total.column)}) FROM {contract.table} "
                              f"GROUP BY {columns} ORDER BY {columns}").fetchall()
        else:
            groups = [conn.sql(f"SELECT sum({_quote(total.column)}) FROM {contract.table}").fetchone()]
        name = f"{total.column} = {total.other_table}.{total.other_column}"
        for row in groups:
            group = tuple(row[:-1])
            ours, label = _number(row[-1]), "/".join(str(v) for v in group)
            other = theirs.get(group, Decimal(0)) if total.per_both else theirs[()]
            totals[f"{name}{f' [{label}]' if label else ''}"] = f"{ours} vs {other}"
            if not _equal(ours, other, total.tolerance):
                problems.append(f"{name}{f' for {label}' if label else ''}: {ours} vs {other}")
    description = (f"{contract.table}: money totals reconcile" if not problems
                   else f"{contract.table}: " + "; ".join(problems))
    return IntegrityOutcome(not problems, description, {"totals": totals})


def _other_totals(conn: duckdb.DuckDBPyConnection, table: str, total: MoneyTotal) -> dict[tuple, Decimal | float]:
    """The other table's total, keyed by the group (the empty tuple when it is not grouped)."""
    source = f"{total.other_table} o"
    if total.on:
        columns = ", ".join(_quote(c) for c in total.on)
        source += f" SEMI JOIN (SELECT DISTINCT {columns} FROM {table}) k USING ({columns})"
    where = f" WHERE {total.where}" if total.where else ""
    if total.per_both:
        keys = ", ".join(f"o.{_quote(c)}" for c in total.per)
        rows = conn.sql(f"SELECT {keys}, sum(o.{_quote(total.other_column)}) FROM {source}{where} "
                        f"GROUP BY {keys}").fetchall()
        return {tuple(row[:-1]): _number(row[-1]) for row in rows}
    return {(): _number(conn.sql(f"SELECT sum(o.{_quote(total.other_column)}) FROM {source}{where}").fetchone()[0])}


def _number(value: object) -> Decimal | float:
    return Decimal(0) if value is None else value  # type: ignore[return-value]


# Sums of floating-point columns (model values) are added up in different orders on either side: beyond
# the absolute tolerance, they may differ by this share of their size (a double holds ~16 digits).
FLOAT_RELATIVE_TOLERANCE = 1e-12


def _equal(ours: Decimal | float, theirs: Decimal | float, tolerance: float) -> bool:
    if isinstance(ours, Decimal) and isinstance(theirs, Decimal):
        return ours == theirs if tolerance == 0 else abs(ours - theirs) <= Decimal(str(tolerance))
    size = max(abs(float(ours)), abs(float(theirs)))
    return abs(float(ours) - float(theirs)) <= max(tolerance, FLOAT_RELATIVE_TOLERANCE * size)


def _count(conn: duckdb.DuckDBPyConnection, sql: str) -> int:
    return int(conn.sql(sql).fetchone()[0] or 0)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'

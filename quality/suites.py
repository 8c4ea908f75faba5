"""Great Expectations suites generated from the input contract, validated over every row.

GX's SQL data source over duckdb-engine returns no rows, so tables are streamed out of DuckDB as Arrow
batches and each batch is validated as a pandas DataFrame. Row-level expectations run per batch;
table-level ones (uniqueness, row count, references) run once over the key columns of all rows, so a
duplicate split across two batches is still caught.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Iterator

import duckdb
import pandas as pd
import pyarrow as pa

import great_expectations as gx
import great_expectations.expectations as gxe
from great_expectations.data_context.types.base import ProgressBarsConfig
from great_expectations.execution_engine import pandas_execution_engine

from ingest.contracts import CONTRACTS_BY_NAME, Reference, SourceContract

# Rows per validated batch: GX's fixed cost per batch (building its metric graph) outweighed the checks
# themselves at 500k rows; a batch of 2M rows with the few checked columns holds about 200 MB.
BATCH_ROWS = 2_000_000
logging.getLogger("great_expectations").setLevel(logging.WARNING)
# GX fingerprints every in-memory batch by hashing all of it, only to label the batch; on Arrow-backed
# text that hashing took about 70% of validation time. Every row is still validated.
pandas_execution_engine.HASH_THRESHOLD = 0


@dataclass(frozen=True)
class SuitePlan:
    """The expectations for one staged table, split by how they must be evaluated."""

    table: str
    row_expectations: list = field(default_factory=list)
    table_expectations: list = field(default_factory=list)
    table_columns: tuple[str, ...] = ()
    references: tuple = ()


@dataclass
class ValidationOutcome:
    table: str
    success: bool = True
    rows_checked: int = 0
    batches: int = 0
    expectations: int = 0
    failures: list[dict] = field(default_factory=list)

    def summary(self) -> str:
        if self.success:
            return f"{self.table}: {self.expectations} expectations passed on {self.rows_checked} rows"
        failed = "; ".join(f"{f['expectation']}({f.get('column') or ''}): {f['detail']}" for f in self.failures[:5])
        return f"{self.table}: {len(self.failures)} expectation(s) failed: {failed}"


def plan_suite(contract: SourceContract, checked_targets: set[str] | None = None, min_rows: int = 0) -> SuitePlan:
    """Expectations for `staged.<contract.name>` from its contract.

    Args:
        contract: the source contract.
        checked_targets: sources whose staged keys references are checked against (those with rows).
        min_rows: the least number of rows the table must have (volume).
    """
    row: list = []
    table: list = []
    staged_columns = [c for c in contract.columns if not c.contact]
    for column in staged_columns:
        row.append(gxe.ExpectColumnToExist(column=column.name))
        if column.required:
            row.append(gxe.ExpectColumnValuesToNotBeNull(column=column.name))
        if column.allowed:
            row.append(gxe.ExpectColumnValuesToBeInSet(column=column.name, value_set=list(column.allowed)))
        if column.min_value is not None or column.max_value is not None:
            row.append(gxe.ExpectColumnValuesToBeBetween(
                column=column.name, min_value=column.min_value, max_value=column.max_value))
    table_columns = list(contract.key)
    if len(contract.key) == 1:
        table.append(gxe.ExpectColumnValuesToBeUnique(column=contract.key[0]))
    else:
        table.append(gxe.ExpectCompoundColumnsToBeUnique(column_list=list(contract.key)))
    references = tuple(r for r in contract.references if r.target_source in (checked_targets or set()))
    for ref in references:
        # A value set of every user id would be copied by GX on each access; instead DuckDB finds the
        # values missing from the target and the suite expects that column to be empty.
        table.append(gxe.ExpectColumnValuesToBeNull(column=unknown_reference_column(ref)))
    table.append(gxe.ExpectTableRowCountToBeBetween(min_value=min_rows))
    return SuitePlan(contract.name, row, table, tuple(dict.fromkeys(table_columns)), references)


def unknown_reference_column(ref: Reference) -> str:
    return f"{ref.column}_not_in_{ref.target_source}"


def validate_staged_table(conn: duckdb.DuckDBPyConnection, source: str, min_rows: int = 0,
                          batch_rows: int = BATCH_ROWS) -> ValidationOutcome:
    """Validate `staged.<source>` against its contract's suite, over every row, in batches."""
    contract = CONTRACTS_BY_NAME[source]
    targets = {
        ref.target_source for ref in contract.references
        if _table_exists(conn, "staged", ref.target_source) and _row_count(conn, f"staged.{ref.target_source}") > 0
    }
    plan = plan_suite(contract, targets, min_rows)
    outcome = ValidationOutcome(source, expectations=len(plan.row_expectations) + len(plan.table_expectations))
    batch_definition = _batch_definition(source)

    # Column existence is a property of the schema, judged once on a frame with every column and no row;
    # the value expectations run on every row, in batches holding only the columns they read (a wide
    # text column such as event properties would otherwise dominate the time).
    exists = [e for e in plan.row_expectations if isinstance(e, gxe.ExpectColumnToExist)]
    values = [e for e in plan.row_expectations if not isinstance(e, gxe.ExpectColumnToExist)]
    value_columns = list(dict.fromkeys(e.column for e in values))
    schema_suite = gx.ExpectationSuite(name=f"staged_{source}_schema", expectations=exists)
    empty = conn.sql(f"{_numeric_select(conn, source)} LIMIT 0").to_arrow_table().to_pandas()
    _collect(outcome, batch_definition.get_batch(batch_parameters={"dataframe": empty}).validate(schema_suite))
    present = set(empty.columns)
    row_suite = gx.ExpectationSuite(name=f"staged_{source}_rows", expectations=values)
    selected = [c for c in value_columns if c in present]
    missing = [c for c in value_columns if c not in present]
    # The table-level rows are found by DuckDB on its own connection while GX, which holds Python's
    # lock, validates the batches; the two overlap instead of taking turns.
    def find_suspicious() -> pd.DataFrame:
        with conn.cursor() as cursor:
            return _table_frame(cursor, source, plan)

    with ThreadPoolExecutor(max_workers=1) as pool:
        table_frame = pool.submit(find_suspicious)
        rows_sql = _numeric_select(conn, source, selected) if values and not missing else None
        _validate_rows(conn, rows_sql, outcome, batch_definition, row_suite, empty, batch_rows)
        suspicious = table_frame.result()

    volume = [e for e in plan.table_expectations if isinstance(e, gxe.ExpectTableRowCountToBeBetween)]
    table_suite = gx.ExpectationSuite(
        name=f"staged_{source}_table", expectations=[e for e in plan.table_expectations if e not in volume])
    _collect(outcome, batch_definition.get_batch(
        batch_parameters={"dataframe": suspicious}).validate(table_suite))
    # The volume is judged on a frame with the table's row count and no columns, which costs nothing.
    rows = pd.DataFrame(index=pd.RangeIndex(_row_count(conn, f"staged.{source}")))
    volume_suite = gx.ExpectationSuite(name=f"staged_{source}_volume", expectations=volume)
    _collect(outcome, batch_definition.get_batch(batch_parameters={"dataframe": rows}).validate(volume_suite))
    return outcome


def _validate_rows(conn: duckdb.DuckDBPyConnection, rows_sql: str | None, outcome: ValidationOutcome,
                   batch_definition, row_suite, empty: pd.DataFrame, batch_rows: int) -> None:
    """Run the row-level suite over every row of `rows_sql` in batches (or, when a checked column is
    missing and `rows_sql` is None, once on the empty frame, so GX reports it)."""
    if rows_sql is not None:
        for frame in _batches(conn, rows_sql, batch_rows):
            outcome.rows_checked += len(frame)
            outcome.batches += 1
            _collect(outcome, batch_definition.get_batch(batch_parameters={"dataframe": frame}).validate(row_suite))
    if row_suite.expectations and (rows_sql is None or outcome.batches == 0):
        _collect(outcome, batch_definition.get_batch(batch_parameters={"dataframe": empty}).validate(row_suite))


def _table_frame(conn: duckdb.DuckDBPyConnection, source: str, plan: SuitePlan) -> pd.DataFrame:
    """The rows the uniqueness and reference expectations can fail on.

    DuckDB narrows the table to rows whose key's 64-bit hash repeats (every repeated key is among them,
    with the odd unequal key whose hash collides) or whose reference is unknown (usually none), and GX
    judges those rows exactly: the verdicts and unexpected counts are the same as over every row, while
    shipping every key of fifty million rows to pandas cost gigabytes, and grouping hashes costs less
    than grouping the keys themselves.
    """
    keys = [f"s.{_ident(c)}" for c in plan.table_columns]
    key_hash = f"hash({', '.join(keys)})"
    # Hash joins on both sides instead of IN-subqueries joined by OR, which DuckDB cannot plan as joins.
    repeated = (f"LEFT JOIN (SELECT {key_hash} AS _h, true AS _repeated FROM staged.{source} s GROUP BY _h "
                f"HAVING count(*) > 1) _repeated ON {key_hash} = _repeated._h")
    columns, joins, suspicious = list(keys), [repeated], ["_repeated._repeated"]
    for i, ref in enumerate(plan.references):
        alias = f"_target{i}"
        joins.append(f'LEFT JOIN (SELECT DISTINCT "{ref.target_column}" AS _k FROM staged.{ref.target_source}) {alias} '
                     f'ON s."{ref.column}" = {alias}._k')
        unknown = f's."{ref.column}" IS NOT NULL AND {alias}._k IS NULL'
        columns.append(f'CASE WHEN {unknown} THEN s."{ref.column}" END AS "{unknown_reference_column(ref)}"')
        suspicious.append(f"({unknown})")
    return conn.sql(
        f"SELECT {', '.join(columns)} FROM staged.{source} s {' '.join(joins)} WHERE {' OR '.join(suspicious)}"
    ).to_arrow_table().to_pandas()


def _batch_definition(source: str):
    context = _context()
    name = f"staged_{source}"
    try:
        return context.data_sources.get("frames").get_asset(name).get_batch_definition("all_rows")
    except (KeyError, LookupError, ValueError):
        pass
    try:
        data_source = context.data_sources.get("frames")
    except (KeyError, LookupError, ValueError):
        data_source = context.data_sources.add_pandas("frames")
    return data_source.add_dataframe_asset(name).add_batch_definition_whole_dataframe("all_rows")


_CONTEXT = None


def _context():
    # One ephemeral context per process: creating it costs more than validating a table.
    global _CONTEXT
    if _CONTEXT is None:
        _CONTEXT = gx.get_context(mode="ephemeral")
        # GX draws a progress bar per validation; in pipeline logs that is noise.
        _CONTEXT.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    return _CONTEXT


def _batches(conn: duckdb.DuckDBPyConnection, sql: str, batch_rows: int) -> Iterator:
    reader: pa.RecordBatchReader = conn.execute(sql).to_arrow_reader(batch_rows)
    for batch in reader:
        if batch.num_rows:
            yield batch.to_pandas()


def _numeric_select(conn: duckdb.DuckDBPyConnection, source: str, columns: list[str] | None = None) -> str:
    """Decimals become doubles so GX compares them as numbers; `columns` narrows the selection."""
    described = conn.sql(f"DESCRIBE staged.{source}").fetchall()
    parts = [
        f"CAST({_ident(name)} AS DOUBLE) AS {_ident(name)}" if dtype.startswith("DECIMAL") else _ident(name)
        for name, dtype, *_ in described
        if columns is None or name in columns
    ]
    return f"SELECT {', '.join(parts)} FROM staged.{source}"


def _ident(name: str) -> str:
    """A quoted identifier: extra landing columns may hold any character, a double quote included."""
    return '"' + name.replace('"', '""') + '"'


def _collect(outcome: ValidationOutcome, result) -> None:
    for item in result.results:
        if item.success:
            continue
        outcome.success = False
        config = item.expectation_config
        detail = item.result or {}
        outcome.failures.append({
            "expectation": config.type,
            "column": config.kwargs.get("column") or ",".join(config.kwargs.get("column_list") or []),
            "detail": _describe(detail),
        })


def _describe(result: dict) -> str:
    if "unexpected_count" in result:
        sample = result.get("partial_unexpected_list") or []
        return f"{result['unexpected_count']} unexpected value(s), e.g. {sample[:3]}"
    if "observed_value" in result:
        return f"observed {result['observed_value']}"
    return "failed"


def _table_exists(conn: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return conn.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?", [schema, table]
    ).fetchone()[0] > 0


def _row_count(conn: duckdb.DuckDBPyConnection, table: str) -> int:
    return conn.sql(f"SELECT count(*) FROM {table}").fetchone()[0]


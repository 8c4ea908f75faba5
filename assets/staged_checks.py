"""Asset checks on the staged layer: Great Expectations suites over every row, and row accounting."""

import dagster as dg

from assets.resources import WarehouseResource
from ingest.accounting import row_accounting_query
from ingest.contracts import CONTRACTS, SourceContract
from quality.suites import validate_staged_table
from warehouse import read_frame


def _expectations_check(contract: SourceContract) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=f"stg_{contract.name}",
        name="passes_expectations",
        blocking=True,
        description=(
            f"Great Expectations suite for staged.{contract.name} (schema, nulls, uniqueness, allowed values, "
            "ranges, references, volume), validated over every row."
        ),
    )
    def passes_expectations(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.connection() as conn:
            outcome = validate_staged_table(conn, contract.name, min_rows=1 if contract.required else 0)
        return dg.AssetCheckResult(
            passed=outcome.success,
            description=outcome.summary(),
            metadata={
                "rows_checked": outcome.rows_checked,
                "batches": outcome.batches,
                "expectations": outcome.expectations,
                "failures": dg.MetadataValue.json(outcome.failures),
            },
        )

    return passes_expectations


def _accounting_check(contract: SourceContract) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=f"stg_{contract.name}",
        name="rows_accounted_for",
        blocking=True,
        description="Every landing row is staged or quarantined: rows in = rows staged + rows quarantined.",
    )
    def rows_accounted_for(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.connection() as conn:
            rows_in, rows_staged, rows_quarantined, balanced = read_frame(
                conn, f"SELECT rows_in, rows_staged, rows_quarantined, balanced FROM ({row_accounting_query([contract])})",
                {"run_id": context.run.run_id}).row(0)
        return dg.AssetCheckResult(
            passed=bool(balanced),
            description=f"{rows_in} in = {rows_staged} staged + {rows_quarantined} quarantined",
            metadata={"rows_in": rows_in, "rows_staged": rows_staged, "rows_quarantined": rows_quarantined},
        )

    return rows_accounted_for


staged_checks = [check for c in CONTRACTS for check in (_expectations_check(c), _accounting_check(c))]

"""Asset checks on the staged layer: Great Expectations suites over every row, and row accounting."""

import dagster as dg

from assets.resources import WarehouseResource
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
    def rows_accounted_for(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.connection() as conn:
            latest = read_frame(
                conn,
                "SELECT run_id, rows_in, rows_staged, rows_quarantined FROM quarantine.row_accounting "
                "WHERE source = ? ORDER BY recorded_at DESC LIMIT 1",
                [contract.name],
            )
            run_id, rows_in, rows_staged, rows_quarantined = latest.row(0)
            staged_now = conn.sql(f"SELECT count(*) FROM staged.{contract.name}").fetchone()[0]
            quarantined_now = conn.execute(
                "SELECT count(*) FROM quarantine.rejected_rows WHERE run_id = ? AND source = ?", [run_id, contract.name]
            ).fetchone()[0]
        passed = rows_in == staged_now + quarantined_now and staged_now == rows_staged
        return dg.AssetCheckResult(
            passed=passed,
            description=f"{rows_in} in = {staged_now} staged + {quarantined_now} quarantined",
            metadata={"rows_in": rows_in, "rows_staged": staged_now, "rows_quarantined": quarantined_now},
        )

    return rows_accounted_for


staged_checks = [check for c in CONTRACTS for check in (_expectations_check(c), _accounting_check(c))]

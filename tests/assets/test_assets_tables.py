"""A declared table's rules run right after it is written: a broken rule fails the step and stops downstream."""

import dagster as dg
import pytest

from assets.resources import WarehouseResource
from assets.tables import ForeignKey, MoneyTotal, WarehouseTable, materialized, table_asset
from warehouse import connect

SOURCE = WarehouseTable(key="source_rows", table="main.source_rows", group="test",
                        grain="One row per source row", primary_key=("id",))
TOTALS = WarehouseTable(key="totals", table="main.totals", group="test", deps=("source_rows",),
                        grain="One row per id: its amount", primary_key=("id",),
                        foreign_keys=(ForeignKey(("id",), "main.source_rows"),),
                        money=(MoneyTotal("amount", "main.source_rows", "amount"),))


def _graph(totals_sql: str):
    @table_asset(SOURCE)
    def source_rows(warehouse: WarehouseResource):
        with warehouse.connection() as conn:
            conn.execute("CREATE OR REPLACE TABLE main.source_rows AS SELECT * FROM (VALUES "
                         "('a', 1.50::DECIMAL(18, 2)), ('b', 2.25)) t(id, amount)")
            return materialized(conn, SOURCE)

    @table_asset(TOTALS)
    def totals(warehouse: WarehouseResource):
        with warehouse.connection() as conn:
            conn.execute(f"CREATE OR REPLACE TABLE main.totals AS {totals_sql}")
            return materialized(conn, TOTALS)

    @dg.asset(deps=["totals"])
    def downstream() -> None:
        return None

    return [source_rows, totals, downstream]


def _run(tmp_path, totals_sql: str):
    resources = {"warehouse": WarehouseResource(path=str(tmp_path / "w.duckdb"))}
    with dg.DagsterInstance.ephemeral() as instance:
        return dg.materialize(_graph(totals_sql), resources=resources, instance=instance, raise_on_error=False)


def test_sound_tables_pass_every_rule(tmp_path):
    result = _run(tmp_path, "SELECT * FROM main.source_rows")
    assert result.success
    evaluations = {(e.asset_key.to_user_string(), e.check_name): e.passed for e in result.get_asset_check_evaluations()}
    assert evaluations == {("source_rows", "primary_key_is_unique"): True, ("totals", "primary_key_is_unique"): True,
                           ("totals", "references_resolve"): True, ("totals", "money_reconciles"): True}
    with connect(tmp_path / "w.duckdb") as conn:
        assert conn.sql("SELECT count(*) FROM main.totals").fetchone()[0] == 2


@pytest.mark.parametrize(("sql", "check", "fragment"), [
    ("SELECT * FROM main.source_rows UNION ALL SELECT 'a', 0.00", "primary_key_is_unique", "1 duplicate(s)"),
    ("SELECT 'z' AS id, 3.75::DECIMAL(18, 2) AS amount", "references_resolve", "1 row(s) with id -> main.source_rows"),
    ("SELECT id, amount + 0.01 AS amount FROM main.source_rows", "money_reconciles", "3.77 vs 3.75"),
])
def test_a_broken_rule_fails_the_step_and_stops_downstream(tmp_path, sql, check, fragment):
    result = _run(tmp_path, sql)
    assert not result.success
    failed = [e for e in result.get_asset_check_evaluations() if not e.passed]
    assert [(e.asset_key.to_user_string(), e.check_name) for e in failed] == [("totals", check)]
    assert fragment in failed[0].description
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert "downstream" not in materialized


def test_a_grain_that_says_nothing_is_refused():
    with pytest.raises(ValueError, match="grain"):
        WarehouseTable(key="x", table="main.x", group="test", grain="The x table")

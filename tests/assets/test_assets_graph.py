"""The asset graph: its snapshot, every warehouse table declared by an asset, and runs over tiny landings."""

from pathlib import Path

import dagster as dg
import duckdb

from assets.graph import WAREHOUSE_TABLES

from pipelines.definitions import build_definitions
from pipelines.settings import Settings
from warehouse import connect


SNAPSHOT = Path(__file__).with_name("asset_graph.txt")


def graph_lines(defs: dg.Definitions) -> list[str]:
    """One line per asset (group, table, upstream keys) and per asset check, sorted."""
    graph = defs.resolve_asset_graph()
    lines = []
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        table = node.metadata.get("dagster/table_name")
        stored = f" = {getattr(table, 'value', table)}" if table is not None else ""
        deps = ", ".join(sorted(k.to_user_string() for k in node.parent_keys))
        kind = "asset" if node.is_materializable else "external"
        lines.append(f"{kind} {key.to_user_string()} [{node.group_name}]{stored}{f' <- {deps}' if deps else ''}")
    for check in sorted(graph.asset_check_keys, key=lambda k: (k.asset_key.to_user_string(), k.name)):
        blocking = "blocking" if graph.get_check_spec(check).blocking else "non-blocking"
        lines.append(f"check {check.asset_key.to_user_string()}.{check.name} ({blocking})")
    return lines


def test_the_asset_graph_matches_its_snapshot(tmp_path, request):
    """Keys, groups, tables, dependencies and checks: any change shows here and in review."""
    lines = graph_lines(build_definitions(Settings(warehouse=tmp_path / "w.duckdb")))
    if request.config.getoption("--update-graph-snapshot"):
        SNAPSHOT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    expected = SNAPSHOT.read_text(encoding="utf-8").splitlines()
    assert lines == expected, "the graph changed: review it, then run pytest --update-graph-snapshot"


def test_every_warehouse_table_belongs_to_a_declared_asset(sample_run, tmp_path):
    """The tables of a built warehouse and the graph's tables are the same set (campaign ledger included)."""
    graph = build_definitions(Settings(warehouse=tmp_path / "w.duckdb")).resolve_asset_graph()
    declared = {}
    for key in graph.get_all_asset_keys():
        table = graph.get(key).metadata.get("dagster/table_name")
        if table is not None:
            declared[str(getattr(table, "value", table))] = graph.get(key).is_materializable
    assert sorted(declared) == sorted(t.table for t in WAREHOUSE_TABLES)
    with duckdb.connect(str(sample_run.warehouse), read_only=True) as conn:
        held = {f"{s}.{t}" for s, t in conn.sql(
            "SELECT table_schema, table_name FROM information_schema.tables").fetchall()}
    assert held - set(declared) == set(), "tables no asset declares"
    built = {table for table, materializable in declared.items() if materializable}
    assert built - held == set(), "declared tables the run did not write"


def materialize_all(tmp_path, landing):
    settings = Settings(landing=landing, warehouse=tmp_path / "w.duckdb", out=tmp_path / "out")
    with dg.DagsterInstance.ephemeral() as instance:
        result = build_definitions(settings).resolve_job_def("analytics_job").execute_in_process(
            instance=instance, raise_on_error=False)
    return result, settings


def write_users_and_transactions(landing, transactions):
    landing.mkdir(parents=True)
    (landing / "users.csv").write_text(
        "user_id,signup_at\n" + "".join(f"u{i},2026-01-{1 + i % 20:02d}\n" for i in range(60)))
    (landing / "transactions.csv").write_text("txn_id,user_id,occurred_at,amount\n" + transactions)


def test_users_and_transactions_alone_build_the_marts(tmp_path):
    rows = "".join(f"t{i},u{i % 60},2026-02-{1 + i % 27:02d} 10:00:00,{10 + i % 7}.50\n" for i in range(400))
    write_users_and_transactions(tmp_path / "landing", rows)
    result, settings = materialize_all(tmp_path, tmp_path / "landing")
    assert result.success
    evaluations = result.get_asset_check_evaluations()
    assert evaluations and all(e.passed for e in evaluations)
    profile = result.asset_materializations_for_node("user_profile")[0]
    assert profile.metadata["dagster/row_count"].value == 60
    with connect(settings.warehouse) as conn:
        notes = dict(conn.sql("SELECT asset, note FROM marts.pipeline_notes").fetchall())
        assert "touchpoints" in notes["channel_roi"]
        assert "loan_performance" in notes["credit_loss"]
        assert "no launched campaign" in notes["campaign_lift"]
        assert conn.sql("SELECT count(*) FROM marts.campaign_lift").fetchone()[0] == 0
        assert conn.sql("SELECT count(*), sum(expected_credit_loss) FROM marts.user_value").fetchone() == (60, 0.0)
        assert conn.sql("SELECT sum(amount) FROM core.purchases").fetchone()[0] == sum(
            10 + i % 7 + 0.5 for i in range(400))
    assert (settings.dashboards_dir / "index.html").exists()


def test_a_blocking_check_failure_stops_everything_downstream(tmp_path):
    # Every transaction is malformed, so staged.transactions is empty and its volume expectation fails.
    rows = "".join(f"t{i},u{i % 60},not-a-date,{i}.50\n" for i in range(20))
    write_users_and_transactions(tmp_path / "landing", rows)
    result, settings = materialize_all(tmp_path, tmp_path / "landing")
    assert not result.success
    failed = [e for e in result.get_asset_check_evaluations() if not e.passed]
    assert [(e.asset_key.to_user_string(), e.check_name) for e in failed] == [("stg_transactions", "passes_expectations")]
    materialized = {m.asset_key.to_user_string() for m in result.get_asset_materialization_events() for m in [m.materialization]}
    assert "stg_transactions" in materialized
    assert "core_purchases" not in materialized and "user_profile" not in materialized
    with connect(settings.warehouse) as conn:
        assert conn.sql("SELECT count(*) FROM quarantine.rejected_rows WHERE source = 'transactions'").fetchone()[0] == 20

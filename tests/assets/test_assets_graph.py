"""The analytics job run in process over a temporary warehouse."""

import dagster as dg

from pipelines.definitions import build_definitions
from pipelines.settings import Settings
from warehouse import connect


def materialize_all(tmp_path, landing):
    settings = Settings(landing=landing, warehouse=tmp_path / "w.duckdb", out=tmp_path / "out")
    with dg.instance_for_test() as instance:
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

"""The Definitions load, group assets by layer, state every grain, and guard every staged table."""

import importlib
import json
from pathlib import Path

import dagster as dg
import yaml

from ingest.contracts import CONTRACTS
from pipelines.definitions import build_definitions
from pipelines.settings import Settings
from tests.campaigns.conftest import store_execute, store_rows
from tests.pipelines.campaign_warehouse import ROLES, build_warehouse, recent_send_at, store_of, write_campaign

LAYERS = ["raw", "staged", "quarantine", "core", "marts", "campaigns", "reporting"]


def definitions(tmp_path):
    return build_definitions(Settings(landing=tmp_path / "landing", warehouse=tmp_path / "w.duckdb", out=tmp_path / "out"))


def test_definitions_are_loadable(tmp_path):
    dg.Definitions.validate_loadable(definitions(tmp_path))


def test_the_workspace_loads_both_code_locations():
    workspace = yaml.safe_load((Path(__file__).parents[2] / "workspace.yaml").read_text())
    modules = {entry["python_module"]["location_name"]: entry["python_module"]["module_name"]
               for entry in workspace["load_from"]}
    assert modules == {"fingrowth": "pipelines.definitions", "fingrowth_partitions": "pipelines.partitioned"}
    jobs = set()
    for module in modules.values():
        defs = importlib.import_module(module).defs
        dg.Definitions.validate_loadable(defs)
        jobs |= {job.name for job in defs.resolve_all_job_defs()}
    assert {"analytics_job", "daily_refresh_job", "staging_partitions_job"} <= jobs


def test_assets_are_grouped_by_layer_and_state_their_grain(tmp_path):
    graph = definitions(tmp_path).resolve_asset_graph()
    groups = {}
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        groups.setdefault(node.group_name, []).append(key.to_user_string())
        assert node.description and node.description.startswith("One "), f"{key} does not start with its grain"
    assert set(groups) == set(LAYERS)
    for table in ["user_profile", "user_segment", "persona", "clv_model", "user_clv", "cohort_retention", "kpi_daily", "channel_roi"]:
        assert table in groups["marts"]
    assert sorted(groups["staged"]) == sorted([*(f"stg_{c.name}" for c in CONTRACTS), "user_contacts"])


def test_every_staged_table_has_blocking_expectation_and_accounting_checks(tmp_path):
    graph = definitions(tmp_path).resolve_asset_graph()
    checks = {(k.asset_key.to_user_string(), k.name) for k in graph.asset_check_keys}
    for contract in CONTRACTS:
        assert (f"stg_{contract.name}", "passes_expectations") in checks
        assert (f"stg_{contract.name}", "rows_accounted_for") in checks
    for key in graph.asset_check_keys:
        if key.asset_key.to_user_string().startswith("stg_"):
            assert graph.get_check_spec(key).blocking, key


def test_job_schedule_and_sensor(tmp_path):
    defs = definitions(tmp_path)
    job = defs.resolve_job_def("analytics_job")
    assert job is not None
    schedule = defs.resolve_schedule_def("daily_analytics_schedule")
    assert schedule.cron_schedule == "0 6 * * *" and schedule.execution_timezone == "Asia/Shanghai"
    assert defs.resolve_sensor_def("landing_files_sensor").job_name == "analytics_job"


def test_landing_sensor_requests_a_run_only_when_files_change(tmp_path):
    defs = definitions(tmp_path)
    sensor = defs.resolve_sensor_def("landing_files_sensor")
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "users.csv").write_text("user_id,signup_at\nu1,2026-01-01\n")
    with dg.DagsterInstance.ephemeral() as instance:
        context = dg.build_sensor_context(instance=instance, resources=defs.resources)
        first = sensor(context)
        assert isinstance(first, dg.RunRequest)
        context = dg.build_sensor_context(instance=instance, cursor=context.cursor, resources=defs.resources)
        assert isinstance(sensor(context), dg.SkipReason)
        (landing / "transactions.csv").write_text("txn_id,user_id,occurred_at,amount\nt1,u1,2026-01-02,1.00\n")
        context = dg.build_sensor_context(instance=instance, cursor=context.cursor, resources=defs.resources)
        second = sensor(context)
        assert isinstance(second, dg.RunRequest) and second.run_key != first.run_key


def test_only_the_campaign_send_job_starts_a_campaign_and_automation_only_finishes_launched_batches(tmp_path):
    defs = definitions(tmp_path)
    analytics = defs.resolve_job_def("analytics_job")
    sends = defs.resolve_job_def("campaign_send_job")
    send_ops = {node.name for node in sends.graph.node_defs}
    assert send_ops == {"launch_campaign_file"}
    # The refresh selects assets only; the send op is not an asset, so no selection can pick it up.
    assert not send_ops & {node.name for node in analytics.graph.node_defs}
    assert not any(node.tags.get("fingrowth/sends") for node in analytics.graph.node_defs)
    assert "launch_campaign_file" not in {key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()}
    assert [s.job_name for s in defs.schedules] == ["analytics_job"]
    # The only automatic trigger near sending is the reconcile sensor: its job resends batches a launch froze
    # (once each, after the wait) and never starts a campaign.
    assert sorted((s.name, s.job_name) for s in defs.sensors) == [
        ("campaign_reconcile_sensor", "campaign_reconcile_job"), ("landing_files_sensor", "analytics_job")]
    reconcile = defs.resolve_job_def("campaign_reconcile_job")
    assert {node.name for node in reconcile.graph.node_defs} == {"reconcile_campaigns"}
    assert reconcile.graph.node_defs[0].tags["fingrowth/sends"] == "resends-only"


def test_the_reconcile_sensor_runs_only_while_a_batch_is_open(tmp_path):
    defs = definitions(tmp_path)
    sensor = defs.resolve_sensor_def("campaign_reconcile_sensor")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    with dg.DagsterInstance.ephemeral() as instance:
        # No campaign store yet: nothing to do, and nothing created.
        assert isinstance(sensor(dg.build_sensor_context(instance=instance, resources=defs.resources)), dg.SkipReason)
        assert not (tmp_path / "campaigns.sqlite3").exists()
        build_warehouse(tmp_path / "w.duckdb")
        store = store_of(tmp_path / "w.duckdb")
        store_execute(store, "INSERT INTO outbox (campaign_id, batch_id, batch_key, template_key, member_count, "
                             "members_sha256, state, attempts, resends, planned_at, updated_at) VALUES ('c', '00000', "
                             "'c-00000-x', 't@1', 1, 'x', 'accepted', 1, 0, '2026-03-01 00:00:00', '2026-03-01 00:00:00')")
        assert isinstance(sensor(dg.build_sensor_context(instance=instance, resources=defs.resources)), dg.SkipReason)
        store_execute(store, "UPDATE outbox SET state = 'unknown'")
        assert isinstance(sensor(dg.build_sensor_context(instance=instance, resources=defs.resources)), dg.RunRequest)


def _send_run(tmp_path, monkeypatch, user: str, **config):
    warehouse = tmp_path / "w.duckdb"
    if not warehouse.exists():
        build_warehouse(warehouse)
    (tmp_path / "roles.yaml").write_text(ROLES, encoding="utf-8")
    for name in ("SENDGRID_API_KEY", "FINGROWTH_SENDGRID_API_KEY", "FINGROWTH_WAREHOUSE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FINGROWTH_USER", user)
    monkeypatch.setenv("FINGROWTH_ROLES", str(tmp_path / "roles.yaml"))
    campaign = write_campaign(tmp_path, "job_campaign", holdout_pct=20, send_at=recent_send_at())
    job = definitions(tmp_path).resolve_job_def("campaign_send_job")
    with dg.DagsterInstance.ephemeral() as instance:
        return job.execute_in_process(
            run_config={"ops": {"launch_campaign_file": {"config": {"campaign_file": str(campaign), **config}}}},
            instance=instance, raise_on_error=False)


def _store_rows(tmp_path, sql):
    return store_rows(store_of(tmp_path / "w.duckdb"), sql)


def test_campaign_send_job_dry_runs_by_default(tmp_path, monkeypatch):
    result = _send_run(tmp_path, monkeypatch, "mei")

    assert result.success
    plans = _store_rows(tmp_path, "SELECT kind, counts_json FROM plans WHERE campaign_id = 'job_campaign'")
    assert [kind for kind, _ in plans] == ["launch"]
    counts = json.loads(plans[0][1])
    assert counts["excluded"] == 5 and counts["send"] + counts["holdout"] == 25 and counts["holdout"] > 0
    # A dry run freezes no batches and sends nothing.
    assert _store_rows(tmp_path, "SELECT count(*) FROM outbox") == [(0,)]
    actions = [a for (a,) in _store_rows(tmp_path, "SELECT action FROM audit_log")]
    assert "campaign.launch_dry_run" in actions
    output = next(e for e in result.all_events if e.event_type_value == "STEP_OUTPUT")
    report = output.event_specific_data.metadata["report"].value
    assert "dry run (nothing sent" in report and "decisions excluded=5" in report and "@example.test" not in report


def test_campaign_send_job_refuses_live_without_a_key_and_honours_roles(tmp_path, monkeypatch):
    live = _send_run(tmp_path, monkeypatch, "mei", live=True)
    assert not live.success
    failure = next(e for e in live.all_events if e.event_type_value == "STEP_FAILURE")
    assert "SENDGRID_API_KEY" in str(failure.event_specific_data.error.message)

    analyst = _send_run(tmp_path, monkeypatch, "ann")
    assert not analyst.success
    failure = next(e for e in analyst.all_events if e.event_type_value == "STEP_FAILURE")
    assert "permission denied" in str(failure.event_specific_data.error.message)
    # Neither run got as far as deciding anyone, let alone freezing or sending a batch.
    assert _store_rows(tmp_path, "SELECT count(*) FROM plans") == [(0,)]
    assert _store_rows(tmp_path, "SELECT count(*) FROM outbox") == [(0,)]

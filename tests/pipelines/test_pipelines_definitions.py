"""The Definitions load, group assets by layer, state every grain, and guard every staged table."""

import dagster as dg

from ingest.contracts import CONTRACTS
from pipelines.definitions import build_definitions
from pipelines.settings import Settings

LAYERS = ["raw", "staged", "core", "marts", "campaigns", "reporting"]


def definitions(tmp_path):
    return build_definitions(Settings(landing=tmp_path / "landing", warehouse=tmp_path / "w.duckdb", out=tmp_path / "out"))


def test_definitions_are_loadable(tmp_path):
    dg.Definitions.validate_loadable(definitions(tmp_path))


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
    assert sorted(groups["staged"]) == sorted(f"stg_{c.name}" for c in CONTRACTS)


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
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(instance=instance, resources=defs.resources)
        first = sensor(context)
        assert isinstance(first, dg.RunRequest)
        context = dg.build_sensor_context(instance=instance, cursor=context.cursor, resources=defs.resources)
        assert isinstance(sensor(context), dg.SkipReason)
        (landing / "transactions.csv").write_text("txn_id,user_id,occurred_at,amount\nt1,u1,2026-01-02,1.00\n")
        context = dg.build_sensor_context(instance=instance, cursor=context.cursor, resources=defs.resources)
        second = sensor(context)
        assert isinstance(second, dg.RunRequest) and second.run_key != first.run_key

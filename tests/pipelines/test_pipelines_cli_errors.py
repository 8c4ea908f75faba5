"""Errors that stop a run name their cause; bad rows through a whole run are quarantined and accounted for.

Each cause is checked where it arises (the step that raises it, on a tiny or a copied warehouse); one run of
the real command in a subprocess checks the whole path from landing files to the printed summary.
"""

import shutil

import dagster as dg
import pytest

from assets.raw import raw_assets
from assets.reporting import dashboard_pages
from assets.segmentation import rule_segments
from ingest.contracts import CONTRACTS_BY_NAME
from ingest.landing import ContractError
from ingest.staging import load_raw
from pipelines.resource_factory import build_resources
from pipelines.settings import Settings
from tests.ingest.bad_landing import write_bad_landing
from tests.pipelines.cli_runner import analytics_in_process, query, run_analytics, run_in_process
from warehouse import connect


def write_minimal_landing(landing):
    landing.mkdir(parents=True)
    (landing / "users.csv").write_text("user_id,signup_at\nu1,2026-01-01\nu2,2026-01-02\n")
    (landing / "transactions.csv").write_text(
        "txn_id,user_id,occurred_at,amount\nt1,u1,2026-01-03,10.00\nt2,u2,2026-01-04,20.50\n")


def materialize(assets, settings, selection=None):
    with dg.DagsterInstance.ephemeral() as instance:
        return dg.materialize(assets, resources=build_resources(settings), instance=instance, raise_on_error=False,
                              selection=selection)


def failure_descriptions(result) -> list[str]:
    return [event.step_failure_data.user_failure_data.description for event in result.all_events
            if event.event_type_value == "STEP_FAILURE" and event.step_failure_data.user_failure_data]


def test_missing_required_source_stops_the_raw_step_naming_it(tmp_path):
    landing = tmp_path / "landing"
    write_minimal_landing(landing)
    (landing / "transactions.csv").unlink()
    result = materialize(raw_assets, Settings(landing=landing, warehouse=tmp_path / "w.duckdb"))
    assert not result.success
    [message] = failure_descriptions(result)
    assert "required source 'transactions' is missing" in message and "transactions.csv" in message


def test_missing_required_column_names_file_and_column(tmp_path):
    landing = tmp_path / "landing"
    write_minimal_landing(landing)
    (landing / "transactions.csv").write_text("txn_id,user_id,occurred_at\nt1,u1,2026-01-03\n")
    with connect(tmp_path / "w.duckdb") as conn, pytest.raises(ContractError) as error:
        load_raw(conn, CONTRACTS_BY_NAME["transactions"], landing)
    assert "transactions.csv" in str(error.value) and "'amount'" in str(error.value)


def test_the_command_line_prints_the_cause_and_exits_1(tmp_path):
    landing = tmp_path / "landing"
    write_minimal_landing(landing)
    (landing / "transactions.csv").write_text("txn_id,user_id,occurred_at\nt1,u1,2026-01-03\n")
    result = analytics_in_process(landing, tmp_path)
    assert result.code == 1
    assert "fingrowth run stopped after" in result.stderr and "transactions.csv" in result.stderr and "'amount'" in result.stderr


def test_missing_landing_folder_is_a_usage_error(tmp_path):
    result = run_in_process(["run", "--data", str(tmp_path / "nowhere")], tmp_path)
    assert result.code == 2 and "nowhere" in result.stderr and "does not exist" in result.stderr


def test_a_missing_targets_file_is_a_usage_error(tmp_path):
    landing = tmp_path / "landing"
    write_minimal_landing(landing)
    result = run_in_process(["run", "--data", str(landing), "--targets", str(tmp_path / "nope.yaml")], tmp_path)
    assert result.code == 2 and "nope.yaml" in result.stderr


def test_a_malformed_targets_file_fails_the_dashboards_naming_its_line(sample_run, tmp_path):
    shutil.copy(sample_run.warehouse, tmp_path / "w.duckdb")
    targets = tmp_path / "targets.yaml"
    targets.write_text("targets:\n  new_users: 10\n  revnue: 5\n")
    settings = Settings(landing=sample_run.landing, warehouse=tmp_path / "w.duckdb", out=tmp_path / "out",
                        targets=targets)
    [message] = failure_descriptions(materialize([dashboard_pages], settings))
    assert f"{targets}:3: unknown KPI 'revnue'" in message


def test_a_rule_segment_with_an_unknown_column_fails_naming_its_line(sample_run, tmp_path):
    shutil.copy(sample_run.warehouse, tmp_path / "w.duckdb")
    rules = tmp_path / "rules.yaml"
    rules.write_text("segments:\n  - name: big_spenders\n    where: \"total_amont > 10\"\n")
    settings = Settings(landing=sample_run.landing, warehouse=tmp_path / "w.duckdb", rule_segments=rules)
    [message] = failure_descriptions(materialize([rule_segments], settings))
    assert str(rules) in message and ":3" in message and "total_amount" in message


@pytest.mark.slow
def test_bad_rows_are_quarantined_and_accounted_for_through_the_command(tmp_path):
    """The one run of the real command in a subprocess: landing files to printed summary."""
    expected = write_bad_landing(tmp_path / "landing")
    result = run_analytics(tmp_path / "landing", tmp_path, "--as-of", "2026-03-31")
    assert result.code == 0, result.output
    warehouse = tmp_path / "w.duckdb"
    found = {(k, s, f, line): r for k, s, f, line, r in query(
        warehouse, "SELECT 'row', source, source_file, line, reasons FROM quarantine.rejected_rows UNION ALL "
                   "SELECT 'value', source, source_file, line, reasons FROM quarantine.value_findings")}
    for item in expected:
        key = (item.kind, item.source, item.source_file, item.line)
        assert key in found, f"{key} not found"
        assert item.reason in found[key]
    assert len(found) == len(expected)
    accounting = query(warehouse, "SELECT source, rows_in, rows_staged, rows_quarantined, balanced "
                                  "FROM quarantine.row_accounting")
    assert len(accounting) == 8
    for source, rows_in, staged, quarantined, balanced in accounting:
        assert balanced and rows_in == staged + quarantined, source
        assert f"{source:<18} {rows_in:>11,} = {staged:>11,} + {quarantined:>7,}" in result.stdout

"""The CLI stops with a message naming what is missing, and quarantines bad rows through a whole run."""

import pytest

from tests.ingest.bad_landing import write_bad_landing
from tests.pipelines.cli_runner import query, run_analytics, run_fingrowth


def write_minimal_landing(landing):
    landing.mkdir(parents=True)
    (landing / "users.csv").write_text("user_id,signup_at\nu1,2026-01-01\nu2,2026-01-02\n")
    (landing / "transactions.csv").write_text(
        "txn_id,user_id,occurred_at,amount\nt1,u1,2026-01-03,10.00\nt2,u2,2026-01-04,20.50\n")


def test_missing_required_source_stops_the_run_naming_it(tmp_path):
    landing = tmp_path / "landing"
    write_minimal_landing(landing)
    (landing / "transactions.csv").unlink()
    result = run_analytics(landing, tmp_path)
    assert result.code != 0
    assert "transactions" in result.stderr and "required" in result.stderr


def test_missing_required_column_stops_the_run_naming_file_and_column(tmp_path):
    landing = tmp_path / "landing"
    write_minimal_landing(landing)
    (landing / "transactions.csv").write_text("txn_id,user_id,occurred_at\nt1,u1,2026-01-03\n")
    result = run_analytics(landing, tmp_path)
    assert result.code != 0
    assert "transactions.csv" in result.stderr and "'amount'" in result.stderr


def test_missing_landing_folder_is_a_usage_error(tmp_path):
    result = run_fingrowth(["run", "--data", str(tmp_path / "nowhere")], tmp_path)
    assert result.code == 2 and "nowhere" in result.stderr and "does not exist" in result.stderr


@pytest.mark.slow
def test_bad_rows_are_quarantined_and_accounted_for_in_a_full_run(tmp_path):
    expected = write_bad_landing(tmp_path / "landing")
    result = run_analytics(tmp_path / "landing", tmp_path, "--as-of", "2026-03-31")
    warehouse = tmp_path / "w.duckdb"
    rejected = {(s, f, line): r for s, f, line, r in query(
        warehouse, "SELECT source, source_file, line, reasons FROM quarantine.rejected_rows")}
    for item in expected:
        key = (item.source, item.source_file, item.line)
        assert key in rejected, f"{key} not quarantined"
        assert item.reason in rejected[key]
    assert len(rejected) == len(expected)
    accounting = query(warehouse, "SELECT source, rows_in, rows_staged, rows_quarantined, balanced "
                                  "FROM quarantine.row_accounting")
    assert len(accounting) == 8
    for source, rows_in, staged, quarantined, balanced in accounting:
        assert balanced and rows_in == staged + quarantined, source
    # The summary prints the same accounting, whether the rest of this tiny run succeeds or not.
    assert "rows in = staged + quarantined" in result.output, result.output


def test_a_malformed_targets_file_fails_the_run_naming_its_line(tmp_path):
    landing = tmp_path / "landing"
    write_minimal_landing(landing)
    targets = tmp_path / "targets.yaml"
    targets.write_text("targets:\n  new_users: 10\n  revnue: 5\n")
    result = run_analytics(landing, tmp_path, "--targets", str(targets))
    assert result.code == 1
    assert f"{targets}:3: unknown KPI 'revnue'" in result.stderr


def test_a_missing_targets_file_is_a_usage_error(tmp_path):
    landing = tmp_path / "landing"
    write_minimal_landing(landing)
    result = run_analytics(landing, tmp_path, "--targets", str(tmp_path / "nope.yaml"))
    assert result.code == 2 and "nope.yaml" in result.stderr


def test_a_rule_segment_with_an_unknown_column_fails_the_run_naming_its_line(tmp_path):
    landing = tmp_path / "landing"
    write_minimal_landing(landing)
    rules = tmp_path / "rules.yaml"
    rules.write_text("segments:\n  - name: big_spenders\n    where: \"total_amont > 10\"\n")
    result = run_analytics(landing, tmp_path, extra_env={"FINGROWTH_RULE_SEGMENTS": str(rules)})
    assert result.code == 1
    assert str(rules) in result.stderr and ":3" in result.stderr and "total_amount" in result.stderr

"""Several landing days staged at once under the multiprocess executor, with the warehouse file locked."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ingest.contracts import CONTRACTS_BY_NAME
from ingest.daily_staging import landing_days
from ingest.staging import load_raw, stage_source
from sampledata.scale import generate_scale_data
from warehouse import connect


@pytest.fixture
def landing_and_warehouse(tmp_path):
    landing = tmp_path / "landing"
    generate_scale_data(landing, users=300, events=300 * 4, transactions=300 * 2, chunk_users=300)
    staged_dir = tmp_path / "staged"
    warehouse = tmp_path / "w.duckdb"
    with connect(warehouse) as conn:
        # The full staging of users and products exports the keys that day staging checks references against.
        for name in ("users", "products"):
            load_raw(conn, CONTRACTS_BY_NAME[name], landing)
            stage_source(conn, CONTRACTS_BY_NAME[name], landing, "setup", set(), parquet_dir=str(staged_dir))
    return landing, warehouse, staged_dir


# One run per landing day, each in its own process with its own Dagster home, as a run launcher would
# start them; inside each run the multiprocess executor gives every source its own process.
RUN_ONE_DAY = """
import json, sys
import dagster as dg
from pipelines.partitioned import staging_partitions_job_from_env

with dg.DagsterInstance.get() as instance:
    result = dg.execute_job(dg.reconstructable(staging_partitions_job_from_env), instance=instance,
                            tags={"dagster/partition": sys.argv[1]})
    logs = [f"{r.user_message} {r.dagster_event.event_type_value if r.dagster_event else ''}"
            for r in instance.all_logs(result.run_id)]
    print(json.dumps({
        "success": result.success,
        "steps": sorted(e.step_key for e in result.get_step_success_events()),
        "materialized": sorted({e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}),
        "logs": logs,
    }))
"""


def test_partitions_run_in_parallel_processes_without_touching_the_warehouse(landing_and_warehouse, tmp_path):
    landing, warehouse, staged_dir = landing_and_warehouse
    days = [d.isoformat() for d in landing_days(landing, "events")[1:3]]
    env = {key: value for key, value in os.environ.items() if not key.startswith(("FINGROWTH_", "DAGSTER_"))}
    env.update(FINGROWTH_LANDING=str(landing), FINGROWTH_WAREHOUSE=str(warehouse),
               FINGROWTH_STAGED_DIR=str(staged_dir), PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    # A read-write connection holds the DuckDB file's lock the whole time: a step that opened it would fail.
    with connect(warehouse):
        runs = []
        for i, day in enumerate(days):
            home = tmp_path / f"dagster_home_{i}"
            home.mkdir()
            (home / "dagster.yaml").write_text("")
            runs.append(subprocess.Popen([sys.executable, "-c", RUN_ONE_DAY, day], env={**env, "DAGSTER_HOME": str(home)},
                                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        outputs = [run.communicate(timeout=600) for run in runs]

    for day, run, (stdout, stderr) in zip(days, runs, outputs):
        assert run.returncode == 0, stderr[-2000:]
        result = json.loads(stdout.strip().splitlines()[-1])
        assert result["success"], day
        assert result["steps"] == ["stg_events_day", "stg_touchpoints_day", "stg_transactions_day"]
        assert result["materialized"] == result["steps"]
        logs = "\n".join(result["logs"])
        assert "multiprocess executor" in logs and "STEP_WORKER_STARTED" in logs
        assert "lock" not in (logs + stderr).lower(), day
        for source in ("events", "touchpoints", "transactions"):
            assert (staged_dir / source / f"event_date={day}" / "part-0.parquet").is_file()
        assert (staged_dir / "_quarantine" / "events" / f"event_date={day}" / "part-0.parquet").is_file()


def test_scale_out_settings_parse(tmp_path):
    from pipelines.settings import Settings

    settings = Settings.from_env({
        "FINGROWTH_WAREHOUSE": str(tmp_path / "w.duckdb"), "FINGROWTH_DUCKDB_MEMORY_LIMIT": "4GB",
        "FINGROWTH_DUCKDB_THREADS": "2"})
    assert settings.duckdb_memory_limit == "4GB" and settings.duckdb_threads == 2
    # Default: a folder of its own next to the warehouse file, so two warehouses in one folder never share it.
    assert settings.staged_location == str((tmp_path / "w_staged").absolute())
    remote = Settings.from_env({"FINGROWTH_STAGED_DIR": "s3://bucket/fingrowth/staged/"})
    assert remote.staged_location == "s3://bucket/fingrowth/staged"
    for environ, message in [({"FINGROWTH_DUCKDB_MEMORY_LIMIT": "lots"}, "MEMORY_LIMIT"),
                             ({"FINGROWTH_STAGED_DIR": "ftp://host/x"}, "STAGED_DIR"),
                             ({"FINGROWTH_DUCKDB_THREADS": "0"}, "THREADS")]:
        with pytest.raises(ValueError, match=message):
            Settings.from_env(environ)

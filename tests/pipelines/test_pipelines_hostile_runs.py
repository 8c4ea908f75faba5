"""Whole runs of the real command on landing folders written by hand, each planting defects an outside
tester found: what the run does with them, what it prints, and what it leaves where.

One run of a folder with many defects at once is shared by the module (in a subprocess, with a Dagster
home, so the run storage can be searched too); the other runs stop early and are cheap.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from tests.pipelines.cli_runner import analytics_in_process, run_analytics
from warehouse.ownership import claim_staged_folder, exclusive_run, lock_path

USERS = 200
EMAIL = re.compile(r"[a-z0-9]+@example\.(com|cn)")
MAX_AMOUNT = "9999999999999999.99"


def hostile_landing(folder: Path) -> None:
    """Users spelled as exports spell them, months of ordinary transactions, and the planted defects."""
    folder.mkdir(parents=True)
    genders = ["M", "F", "男", "女", "male"]
    students = ["是", "否", "0", "1", "no"]
    users = ["user_id,signup_at,gender,is_student,risk_level,birth_date,email,phone"]
    for i in range(USERS):
        birth = "1991-02-30" if i == 7 else f"19{70 + i % 30}-0{1 + i % 9}-1{i % 10}"
        users.append(f"u{i:03d},2026-01-0{1 + i % 9},{genders[i % 5]},{students[i % 5]},c{1 + i % 5},{birth},"
                     f"user{i}@example.com,1380000{i:04d}")
    (folder / "users.csv").write_text("\n".join(users) + "\n", encoding="utf-8")
    rows = ["txn_id,user_id,occurred_at,amount,status"]
    for i in range(USERS * 6):
        day = dt.date(2026, 1, 10) + dt.timedelta(days=i % 80)
        rows.append(f"t{i:05d},u{i % USERS:03d},{day}T1{i % 10}:00:00+08:00,{10 + i % 90}.50,completed")
    rows += [
        # One transaction dated in the future: quarantined, and the as-of date does not move to 2199.
        "f1,u001,2199-06-01T10:00:00+08:00,10.00,completed",
        # One months after the bulk of the data (but not in the future): left out as an outlier.
        "o1,u002,2026-11-20T10:00:00+08:00,10.00,completed",
        # Two legal maximum amounts for one user on one day: their sum does not fit DECIMAL(18, 2).
        f"m1,u003,2026-02-01T10:00:00+08:00,{MAX_AMOUNT},completed",
        f"m2,u003,2026-02-01T11:00:00+08:00,{MAX_AMOUNT},completed",
        # Before the user signed up.
        "b1,u004,2025-12-20T10:00:00+08:00,10.00,completed",
    ]
    (folder / "transactions.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("hostile")
    hostile_landing(workdir / "landing")
    result = run_analytics(workdir / "landing", workdir)
    assert result.code == 0, result.output
    return workdir, result


def warehouse_rows(workdir: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(workdir / "w.duckdb"), read_only=True) as conn:
        conn.execute("SET TimeZone = 'Asia/Shanghai'")
        return conn.sql(sql).fetchall()


def test_every_user_spelled_as_exports_spell_them_is_staged(hostile_run):
    workdir, _ = hostile_run
    assert warehouse_rows(workdir, "SELECT rows_in, rows_staged FROM quarantine.row_accounting WHERE source = 'users'"
                          ) == [(USERS, USERS)]
    assert warehouse_rows(workdir, "SELECT gender, count(*) FROM staged.users GROUP BY 1 ORDER BY 1") == [
        ("female", 80), ("male", 120)]
    assert warehouse_rows(workdir, "SELECT count(*) FROM staged.users WHERE is_student IS NULL OR risk_level IS NULL"
                          ) == [(0,)]


def test_a_lone_outlier_does_not_move_the_as_of_date_and_the_summary_says_so(hostile_run):
    workdir, result = hostile_run
    [(as_of, basis, outliers)] = warehouse_rows(workdir, "SELECT as_of, as_of_basis, outlier_rows FROM core.analysis_window")
    assert as_of == dt.date(2026, 3, 30) and outliers == 1
    assert "as of 2026-03-30 (latest timestamp in the data, leaving out 1 row(s) from 2026-" in result.stdout
    assert "the latest on 2026-11-20" in basis
    future = warehouse_rows(workdir, "SELECT reasons FROM quarantine.transactions WHERE kind = 'row' AND line = "
                                     f"{USERS * 6 + 2}")
    assert future and future[0][0].startswith('occurred_at: "2199-06-01T10:00:00+08:00" is in the future')
    assert warehouse_rows(workdir, "SELECT count(*) FROM marts.kpi_daily WHERE date > '2026-03-30'") == [(0,)]


def test_sums_of_maximum_amounts_stay_exact(hostile_run):
    workdir, _ = hostile_run
    day = warehouse_rows(workdir, "SELECT purchase_amount::VARCHAR FROM core.user_activity "
                                  "WHERE user_id = 'u003' AND activity_date = '2026-02-01'")
    assert day == [("19999999999999999.98",)]
    [(total, purchases)] = warehouse_rows(workdir, "SELECT total_amount, (SELECT sum(amount) FROM core.purchases "
                                                   "WHERE user_id = 'u003') FROM marts.user_profile WHERE user_id = 'u003'")
    assert total == purchases and total > 2 * Decimal(MAX_AMOUNT)


def test_a_transaction_before_its_users_sign_up_is_a_quarantine_row(hostile_run):
    workdir, _ = hostile_run
    assert warehouse_rows(workdir, "SELECT reasons FROM quarantine.transactions WHERE kind = 'row' "
                                   "AND reasons LIKE '%signed up%'") == [
        ("user_id: u004 signed up on 2026-01-05, after this transaction",)]


def test_no_contact_detail_is_kept_outside_private_nor_in_the_run_storage(hostile_run):
    workdir, _ = hostile_run
    with duckdb.connect(str(workdir / "w.duckdb"), read_only=True) as conn:
        columns = conn.sql("SELECT table_schema, table_name, column_name FROM information_schema.columns "
                           "WHERE table_schema <> 'private' AND data_type = 'VARCHAR'").fetchall()
        for schema, table, column in columns:
            name = f'"{schema}"."{table}"'
            found = conn.sql(f'SELECT count(*) FROM {name} WHERE regexp_matches("{column}", '
                             r"'[a-z0-9]+@example\.com|1380000[0-9]{4}|1991-02-30')").fetchone()[0]
            assert found == 0, f"{schema}.{table}.{column} holds a contact detail"
        assert conn.sql("SELECT count(*) FROM private.user_contacts WHERE email LIKE '%@example.com'").fetchone()[0] == USERS
    storage = [path for path in (workdir / "dagster_home").rglob("*") if path.suffix in (".db", ".sqlite")]
    assert storage, "no run storage was written"
    for path in storage:
        with sqlite3.connect(path) as db:
            for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
                for row in db.execute(f'SELECT * FROM "{table}"'):
                    text = " ".join(str(v) for v in row)
                    assert not EMAIL.search(text) and "1991-02-30" not in text, f"{path.name}:{table}"


def test_a_missing_required_column_stops_with_the_cause_first_and_alone(tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "users.csv").write_text("user_id,gender\nu1,M\n")
    (landing / "transactions.csv").write_text("txn_id,user_id,occurred_at,amount\nt1,u1,2026-01-01,1.00\n")
    result = analytics_in_process(landing, tmp_path)
    assert result.code == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    cause = "users.csv: required column 'signup_at' of source 'users' is missing (columns found: user_id, gender)"
    assert lines[-2].startswith("fingrowth run stopped after ") and lines[-2].endswith(f"raw_users: {cause}")
    assert re.fullmatch(r"\(\d+ later step\(s\) did not run because of it; .*\)", lines[-1])
    assert "Dependencies for step" not in result.output and "Not executing" not in result.output


def test_an_empty_users_file_stops_naming_it(tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "users.csv").write_bytes(b"")
    (landing / "transactions.csv").write_text("txn_id,user_id,occurred_at,amount\nt1,u1,2026-01-01,1.00\n")
    result = analytics_in_process(landing, tmp_path)
    assert result.code == 1
    assert "stg_users: required source 'users' has no rows: users.csv holds no data row" in result.stderr
    assert "Error" not in result.stderr


def test_a_second_run_on_a_busy_warehouse_is_refused_and_the_first_finishes(tmp_path):
    landing = tmp_path / "landing"
    hostile_landing(landing)
    first_dir, second_dir = tmp_path / "first", tmp_path / "second"
    first_dir.mkdir()
    second_dir.mkdir()
    warehouse = tmp_path / "shared.duckdb"
    env = {"DAGSTER_HOME": str(first_dir / "dagster_home"), "NO_PROXY": "127.0.0.1,localhost"}
    first = subprocess.Popen([sys.executable, "-m", "pipelines.cli", "run", "--data", str(landing), "--warehouse",
                              str(warehouse), "--out", str(first_dir / "out")], cwd=first_dir, env={**_base_env(), **env},
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not (lock_path(warehouse).is_file() and lock_path(warehouse).read_text().strip()):
            assert first.poll() is None and time.monotonic() < deadline, "the first run never took the warehouse"
            time.sleep(0.1)
        second = analytics_in_process(landing, second_dir, "--warehouse", str(warehouse))
        assert second.code == 1
        assert re.search(rf"^fingrowth run refused: warehouse {re.escape(str(warehouse))} is in use by fingrowth run "
                         r"\(process \d+ on .+, started .+\): wait for it to finish, or give this run another warehouse",
                         second.stderr, re.MULTILINE), second.stderr
        assert "done " not in second.stderr  # refused before any step
        out, err = first.communicate(timeout=600)
    finally:
        first.kill()
    assert first.returncode == 0, err
    assert "finished in" in out


def test_a_staged_folder_of_another_warehouse_is_refused_up_front(tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "users.csv").write_text("user_id,signup_at\nu1,2026-01-01\n")
    (landing / "transactions.csv").write_text("txn_id,user_id,occurred_at,amount\nt1,u1,2026-01-02,1.00\n")
    shared = tmp_path / "staged"
    claim_staged_folder(str(shared), tmp_path / "other.duckdb")
    result = analytics_in_process(landing, tmp_path, extra_env={"FINGROWTH_STAGED_DIR": str(shared)})
    assert result.code == 1
    assert f"fingrowth run refused: staged folder {shared} holds the staged data of warehouse " \
           f"{tmp_path / 'other.duckdb'}" in result.stderr
    # A warehouse that is not running is not refused: the lock went with the run that held it.
    with exclusive_run(tmp_path / "w.duckdb"):
        pass


def _base_env() -> dict[str, str]:
    import os

    return {key: value for key, value in os.environ.items() if not key.startswith(("FINGROWTH_", "DAGSTER_HOME"))}

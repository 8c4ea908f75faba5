"""Event-like sources staged as daily Parquet partitions, one day restaged alone, and the daily activity
layer refreshed for the changed days only, with the same result as a rebuild."""

import datetime as dt

import polars as pl
import pytest

from ingest.contracts import CONTRACTS, CONTRACTS_BY_NAME
from ingest.daily_staging import landing_days, stage_day
from quality.suites import validate_staged_table
from ingest.staging import load_raw, stage_source
from sampledata.scale import add_next_day, generate_scale_data
from warehouse import connect, read_frame
from activity.daily_activity import refresh_user_activity

ACTIVITY = "SELECT * FROM core.user_activity ORDER BY user_id, activity_date"
CHANNELS = "SELECT * FROM core.user_channel_months ORDER BY user_id, activity_month, channel"


@pytest.fixture(scope="module")
def landing(tmp_path_factory):
    folder = tmp_path_factory.mktemp("scale") / "landing"
    generate_scale_data(folder, users=600, events=600 * 5, transactions=600 * 3, chunk_users=300)
    return folder


def stage_all(conn, landing, staged_dir):
    staged, counts = set(), {}
    for contract in CONTRACTS:
        loaded = load_raw(conn, contract, landing)
        counts[contract.name] = stage_source(conn, contract, landing, "full", staged, parquet_dir=str(staged_dir))
        if loaded.present:
            staged.add(contract.name)
    return counts


def build_window_and_purchases(conn):
    conn.execute("CREATE SCHEMA IF NOT EXISTS core")
    conn.execute(
        "CREATE OR REPLACE TABLE core.analysis_window AS SELECT max(occurred_at)::DATE AS as_of, "
        "(max(occurred_at)::DATE + INTERVAL 1 DAY)::TIMESTAMP::TIMESTAMPTZ AS window_end FROM staged.events")
    conn.execute(
        "CREATE OR REPLACE TABLE core.purchases AS SELECT txn_id, user_id, occurred_at, "
        "CAST(occurred_at AS DATE) AS txn_date, amount FROM staged.transactions t, core.analysis_window w "
        "WHERE coalesce(status, 'completed') = 'completed' AND t.occurred_at < w.window_end")


def test_event_sources_are_staged_as_daily_partitions_and_every_row_is_accounted_for(landing, tmp_path):
    staged_dir = tmp_path / "staged"
    with connect(tmp_path / "w.duckdb") as conn:
        counts = stage_all(conn, landing, staged_dir)
        for source in ("events", "touchpoints", "transactions"):
            assert counts[source].balanced and counts[source].rows_quarantined > 0, source
            kind = conn.execute("SELECT table_type FROM information_schema.tables WHERE table_schema = 'staged' "
                                "AND table_name = ?", [source]).fetchone()[0]
            assert kind == "VIEW"
            days = sorted(p.name for p in (staged_dir / source).iterdir())
            assert days and all(d.startswith("event_date=") for d in days)
        # The landing day of each file is its staged partition.
        landed = {d.isoformat() for d in landing_days(landing, "events")}
        assert {p.name.split("=")[1] for p in (staged_dir / "events").iterdir()} <= landed
        assert (staged_dir / "_keys" / "users.parquet").is_file()
        # Raw Parquet sources are views over the landing files, not copies.
        assert conn.execute("SELECT table_type FROM information_schema.tables WHERE table_schema = 'raw' "
                            "AND table_name = 'events'").fetchone()[0] == "VIEW"
        rejected = read_frame(conn, "SELECT source_file, line, reasons FROM quarantine.events WHERE kind = 'row'")
        assert rejected["source_file"].str.starts_with("events/date=").all() and (rejected["line"] > 0).all()


def test_one_day_is_restaged_alone_without_the_warehouse(landing, tmp_path):
    staged_dir = tmp_path / "staged"
    with connect(tmp_path / "w.duckdb") as conn:
        stage_all(conn, landing, staged_dir)
        day = landing_days(landing, "events")[3]
        partition = staged_dir / "events" / f"event_date={day}"
        before = conn.execute(f"SELECT count(*) FROM read_parquet('{partition}/*.parquet')").fetchone()[0]
        total_before = conn.sql("SELECT count(*) FROM staged.events").fetchone()[0]
    # No warehouse connection is open or needed here.
    result = stage_day(CONTRACTS_BY_NAME["events"], landing, day, str(staged_dir), "day-run",
                       validate=validate_staged_table)
    counts = result.counts
    assert counts.balanced and counts.rows_in > 0
    assert counts.rows_staged == before  # the same rows again: nothing dropped, nothing doubled
    # Every file of the restaged partition holds rows: no empty file is left for a step that wrote nothing.
    with connect(tmp_path / "scratch.duckdb") as scratch:
        per_file = scratch.execute(f"SELECT file_name, num_rows FROM parquet_file_metadata('{partition}/*.parquet')").fetchall()
    assert per_file and all(rows > 0 for _, rows in per_file), per_file
    assert result.validation.success and result.validation.rows_checked == counts.rows_staged
    quarantine = pl.read_parquet(result.quarantine_file)
    assert quarantine.filter(pl.col("kind") == "row").height == counts.rows_quarantined
    assert set(quarantine.columns) >= {"source_file", "line", "reasons", "record"}
    accounting = pl.read_parquet(staged_dir / "_accounting" / "events" / f"event_date={day}" / "part-0.parquet")
    assert accounting["balanced"].all()
    with connect(tmp_path / "w.duckdb") as conn:
        assert conn.sql("SELECT count(*) FROM staged.events").fetchone()[0] == total_before


def test_a_day_repeating_staged_keys_is_quarantined_as_duplicates(landing, tmp_path):
    staged_dir = tmp_path / "staged"
    copy = tmp_path / "landing"
    import shutil

    shutil.copytree(landing, copy)
    with connect(tmp_path / "w.duckdb") as conn:
        stage_all(conn, copy, staged_dir)
    first, last = landing_days(copy, "events")[0], landing_days(copy, "events")[-1]
    new_day = last + dt.timedelta(days=1)
    target = copy / "events" / f"date={new_day}"
    target.mkdir()
    # An old day's file landed again under a new day: every good row repeats a staged key.
    shutil.copy(next((copy / "events" / f"date={first}").glob("*.parquet")), target / "again.parquet")
    counts = stage_day(CONTRACTS_BY_NAME["events"], copy, new_day, str(staged_dir), "day-run").counts
    assert counts.balanced and counts.rows_staged == 0 and counts.rows_quarantined == counts.rows_in


def test_a_new_day_refreshes_only_the_changed_days_and_matches_a_rebuild(landing, tmp_path):
    import shutil

    copy = tmp_path / "landing"
    shutil.copytree(landing, copy)
    staged_dir = tmp_path / "staged"
    with connect(tmp_path / "w.duckdb") as conn:
        stage_all(conn, copy, staged_dir)
        build_window_and_purchases(conn)
        assert refresh_user_activity(conn, str(staged_dir)).full
        again = refresh_user_activity(conn, str(staged_dir))
        assert not again.full and again.days == 0

    day, rows = add_next_day(copy)
    assert rows > 0
    staged = stage_day(CONTRACTS_BY_NAME["events"], copy, dt.date.fromisoformat(day), str(staged_dir), "day")
    assert staged.counts.balanced and staged.counts.rows_staged > 0
    with connect(tmp_path / "w.duckdb") as conn:
        build_window_and_purchases(conn)
        refresh = refresh_user_activity(conn, str(staged_dir))
        assert not refresh.full and 1 <= refresh.days <= 3, refresh
        incremental = read_frame(conn, ACTIVITY), read_frame(conn, CHANNELS)
        assert incremental[0]["activity_date"].max() == dt.date.fromisoformat(day)
        conn.execute("DROP TABLE core.user_activity_state")
        assert refresh_user_activity(conn, str(staged_dir)).full
        rebuilt = read_frame(conn, ACTIVITY), read_frame(conn, CHANNELS)
    for left, right in zip(incremental, rebuilt):
        assert left.equals(right)


def test_an_earlier_as_of_date_drops_the_later_days_and_matches_a_rebuild(landing, tmp_path):
    staged_dir = tmp_path / "staged"
    with connect(tmp_path / "w.duckdb") as conn:
        stage_all(conn, landing, staged_dir)
        build_window_and_purchases(conn)
        assert refresh_user_activity(conn, str(staged_dir)).full
        as_of = conn.sql("SELECT as_of FROM core.analysis_window").fetchone()[0]
        # Back to a day that is not the last of its month, so that month's channel counts must shrink.
        earlier = as_of - dt.timedelta(days=2)
        if (earlier + dt.timedelta(days=1)).day == 1:
            earlier -= dt.timedelta(days=1)
        conn.execute("UPDATE core.analysis_window SET as_of = ?, "
                     "window_end = (CAST(? AS DATE) + INTERVAL 1 DAY)::TIMESTAMP::TIMESTAMPTZ", [earlier, earlier])
        conn.execute("DELETE FROM core.purchases WHERE txn_date > ?", [earlier])
        refresh = refresh_user_activity(conn, str(staged_dir))
        assert not refresh.full, refresh
        moved = read_frame(conn, ACTIVITY), read_frame(conn, CHANNELS)
        assert moved[0]["activity_date"].max() == earlier
        conn.execute("DROP TABLE core.user_activity_state")
        assert refresh_user_activity(conn, str(staged_dir)).full
        rebuilt = read_frame(conn, ACTIVITY), read_frame(conn, CHANNELS)
    for left, right in zip(moved, rebuilt):
        assert left.equals(right)

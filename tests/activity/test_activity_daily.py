"""Per-user-per-day activity over staged Parquet partitions: local dates, sessions and partition spans."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import duckdb
import polars as pl
import pytest

from ingest.staged_files import STAGED_PARTITION, staged_view_sql
from activity import daily_activity
from activity.daily_activity import (
    SESSION_GAP_SECONDS,
    _partition_spans,
    refresh_user_activity,
)

ZONE = "Asia/Shanghai"
UTC = dt.UTC


def _events() -> pl.DataFrame:
    """Events whose file day (the landing partition, a UTC date here) often differs from the local day."""
    rows = []
    # u1 on local 2026-03-02: three events within 30 minutes (one session), then two after a 2-hour gap
    # (a second session), the last of them 29 minutes after the one before (same session).
    local = ZoneInfo(ZONE)
    base = dt.datetime(2026, 3, 2, 9, 0, tzinfo=local)
    for minutes in (0, 10, 25, 145, 174):
        rows.append(("u1", base + dt.timedelta(minutes=minutes), "app_open"))
    # u1 just after local midnight on 2026-03-03 (16:05 UTC on 2026-03-02, so in the 03-02 file).
    rows.append(("u1", dt.datetime(2026, 3, 3, 0, 5, tzinfo=local), "product_view"))
    # u2: gaps of exactly 30 minutes stay in one session; 30 minutes and 1 second open a new one.
    start = dt.datetime(2026, 3, 2, 20, 0, tzinfo=local)
    for seconds in (0, SESSION_GAP_SECONDS, 2 * SESSION_GAP_SECONDS + 1):
        rows.append(("u2", start + dt.timedelta(seconds=seconds), "loan_apply"))
    # Anonymous events never count.
    rows.append((None, start, "app_open"))
    frame = pl.DataFrame(
        {"user_id": [r[0] for r in rows], "occurred_at": [r[1].astimezone(UTC) for r in rows],
         "event_name": [r[2] for r in rows]},
        schema={"user_id": pl.String, "occurred_at": pl.Datetime("us", "UTC"), "event_name": pl.String},
    )
    return frame.with_columns(event_id=pl.format("e{}", pl.int_range(pl.len())), channel=pl.lit("direct"),
                              file_day=pl.col("occurred_at").dt.date())


def _staged_warehouse(staged, events: pl.DataFrame, as_of: dt.date) -> duckdb.DuckDBPyConnection:
    """A warehouse whose staged events are `events` written as daily partitions (by their `file_day`),
    with the analysis window ending after `as_of` and no purchases."""
    for (day,), part in events.group_by("file_day"):
        folder = staged / "events" / f"{STAGED_PARTITION}={day}"
        folder.mkdir(parents=True)
        part.drop("file_day").write_parquet(folder / "part-0.parquet")
    conn = duckdb.connect()
    conn.execute(f"SET TimeZone = '{ZONE}'")
    conn.execute("CREATE SCHEMA staged; CREATE SCHEMA core")
    conn.execute(f"CREATE VIEW staged.events AS {staged_view_sql(str(staged), 'events')}")
    conn.execute("CREATE TABLE core.analysis_window AS SELECT CAST(? AS DATE) AS as_of, "
                 "CAST(CAST(? AS DATE) + 1 AS TIMESTAMPTZ) AS window_end", [as_of, as_of])
    conn.execute("CREATE TABLE core.purchases (txn_id VARCHAR, user_id VARCHAR, occurred_at TIMESTAMPTZ, "
                 "txn_date DATE, amount DECIMAL(18, 2))")
    return conn


@pytest.fixture()
def warehouse(tmp_path):
    staged = tmp_path / "staged"
    events = _events()
    conn = _staged_warehouse(staged, events, dt.date(2026, 3, 3))
    yield conn, str(staged), events.drop("file_day")
    conn.close()


def _expected(events: pl.DataFrame) -> dict[tuple[str, dt.date], tuple[int, int]]:
    """(events, sessions) per user and local day, from the event times alone."""
    local = events.drop_nulls("user_id").with_columns(
        day=pl.col("occurred_at").dt.convert_time_zone(ZONE).dt.date()).sort("user_id", "occurred_at")
    gaps = local.with_columns(
        gap=(pl.col("occurred_at") - pl.col("occurred_at").shift(1)).over("user_id", "day").dt.total_seconds())
    per_day = gaps.group_by("user_id", "day").agg(
        pl.len().alias("events"), (pl.col("gap").is_null() | (pl.col("gap") > SESSION_GAP_SECONDS)).sum().alias("s"))
    return {(u, d): (n, s) for u, d, n, s in per_day.iter_rows()}


def test_days_are_local_and_sessions_split_on_thirty_minute_gaps(warehouse):
    conn, staged, events = warehouse
    refresh = refresh_user_activity(conn, staged)
    assert refresh.full
    got = {(u, d): (n, s) for u, d, n, s in conn.execute(
        "SELECT user_id, activity_date, events, sessions FROM core.user_activity").fetchall()}
    assert got == _expected(events)
    assert got[("u1", dt.date(2026, 3, 2))] == (5, 2)
    assert got[("u1", dt.date(2026, 3, 3))] == (1, 1)
    assert got[("u2", dt.date(2026, 3, 2))] == (3, 2)
    # Channel counts are per local month: u1's day after local midnight is still March.
    channels = conn.execute("SELECT user_id, activity_month, channel, events FROM core.user_channel_months "
                            "ORDER BY ALL").fetchall()
    assert channels == [("u1", dt.date(2026, 3, 1), "direct", 6), ("u2", dt.date(2026, 3, 1), "direct", 3)]


def test_without_partitions_the_same_activity_is_built(warehouse):
    conn, _, events = warehouse
    conn.execute("CREATE TABLE staged.events_copy AS SELECT * FROM staged.events; DROP VIEW staged.events; "
                 "ALTER TABLE staged.events_copy RENAME TO events")
    refresh_user_activity(conn, None)
    got = {(u, d): (n, s) for u, d, n, s in conn.execute(
        "SELECT user_id, activity_date, events, sessions FROM core.user_activity").fetchall()}
    assert got == _expected(events)


def test_partition_spans_come_from_parquet_statistics(warehouse):
    conn, staged, _ = warehouse
    spans = _partition_spans(conn, staged, ["event_date=2026-03-02", "event_date=2026-03-01"])
    # The 03-02 (UTC) file holds local 03-02 and the minutes after local midnight of 03-03.
    assert spans["event_date=2026-03-02"] == (dt.date(2026, 3, 2), dt.date(2026, 3, 3))
    assert spans["event_date=2026-03-01"] == (None, None)


def test_activity_columns_keep_their_types_and_funnel_flags(warehouse):
    conn, staged, _ = warehouse
    refresh_user_activity(conn, staged)
    types = dict(conn.execute("SELECT column_name, data_type FROM information_schema.columns "
                              "WHERE table_schema = 'core' AND table_name = 'user_activity'").fetchall())
    assert types["events"] == types["product_views"] == types["app_opens"] == types["sessions"] == "BIGINT"
    flags = conn.execute("SELECT user_id, activity_date, product_views, app_opens, applied, drawn "
                         "FROM core.user_activity ORDER BY ALL").fetchall()
    assert flags == [("u1", dt.date(2026, 3, 2), 0, 5, False, False), ("u1", dt.date(2026, 3, 3), 1, 0, False, False),
                     ("u2", dt.date(2026, 3, 2), 0, 0, True, False)]


def test_sessions_of_days_with_two_three_and_many_events_match_the_gaps(tmp_path):
    """Days of two and three events are counted from their first, middle and last times, busier days
    from their sorted times: every kind agrees with the gaps, including gaps of exactly 30 minutes."""
    import random

    chooser = random.Random(7)
    local = ZoneInfo(ZONE)
    rows = []
    for user in range(300):
        start = dt.datetime(2026, 3, 2, 8, 0, tzinfo=local)
        offsets = [0]
        for _ in range(chooser.choice([0, 1, 1, 2, 2, 3, 4, 6, 9])):
            # Gaps around the 30-minute boundary are the ones that matter.
            gap = chooser.choice([60, SESSION_GAP_SECONDS - 1, SESSION_GAP_SECONDS, SESSION_GAP_SECONDS + 1, 5400])
            offsets.append(offsets[-1] + gap)
        chooser.shuffle(offsets)  # the order within a file must not matter
        rows += [(f"u{user}", start + dt.timedelta(seconds=s), "app_open") for s in offsets]
    events = pl.DataFrame(
        {"user_id": [r[0] for r in rows], "occurred_at": [r[1].astimezone(UTC) for r in rows],
         "event_name": [r[2] for r in rows]},
        schema={"user_id": pl.String, "occurred_at": pl.Datetime("us", "UTC"), "event_name": pl.String},
    ).with_columns(event_id=pl.format("e{}", pl.int_range(pl.len())), channel=pl.lit("direct"),
                   file_day=pl.lit(dt.date(2026, 3, 2)))
    conn = _staged_warehouse(tmp_path, events, dt.date(2026, 3, 3))
    refresh_user_activity(conn, str(tmp_path))
    got = {(u, d): (n, s) for u, d, n, s in conn.execute(
        "SELECT user_id, activity_date, events, sessions FROM core.user_activity").fetchall()}
    expected = _expected(events)
    assert got == expected
    # Every kind of day is present, and some of each kind hold more than one session.
    for low, high in ((2, 2), (3, 3), (4, 10)):
        kinds = [s for (n, s) in expected.values() if low <= n <= high]
        assert kinds and max(kinds) > 1


@pytest.mark.parametrize("batch_events", [1, 3, 12_000_000], ids=["month_by_month", "two_months", "all_at_once"])
def test_a_rebuild_over_several_months_keeps_one_row_per_user_and_day(tmp_path, monkeypatch, batch_events):
    """The rebuild goes a batch of months at a time: days on both sides of a month end, a purchase-only
    day in a month without events and an event filed under the previous month's last UTC day each land
    once, whether each month is its own batch, months are paired, or all are one batch."""
    monkeypatch.setattr(daily_activity, "BATCH_EVENTS", batch_events)
    local = ZoneInfo(ZONE)
    times = [
        ("u1", dt.datetime(2026, 2, 28, 23, 50, tzinfo=local)),
        # 16:10 UTC on 02-28: filed under February, local day March 1.
        ("u1", dt.datetime(2026, 3, 1, 0, 10, tzinfo=local)),
        ("u1", dt.datetime(2026, 3, 31, 12, 0, tzinfo=local)),
        ("u2", dt.datetime(2026, 4, 1, 9, 0, tzinfo=local)),
        ("u2", dt.datetime(2026, 4, 1, 9, 5, tzinfo=local)),
    ]
    events = pl.DataFrame(
        {"user_id": [u for u, _ in times], "occurred_at": [t.astimezone(UTC) for _, t in times]},
        schema={"user_id": pl.String, "occurred_at": pl.Datetime("us", "UTC")},
    ).with_columns(event_id=pl.format("e{}", pl.int_range(pl.len())), event_name=pl.lit("app_open"),
                   channel=pl.lit("direct"), file_day=pl.col("occurred_at").dt.date())
    conn = _staged_warehouse(tmp_path, events, dt.date(2026, 4, 30))
    conn.execute("INSERT INTO core.purchases VALUES ('t1', 'u3', TIMESTAMPTZ '2026-01-15 10:00:00', "
                 "DATE '2026-01-15', 12.50)")
    refresh_user_activity(conn, str(tmp_path))
    rows = conn.execute("SELECT user_id, activity_date, events, purchases FROM core.user_activity ORDER BY ALL").fetchall()
    assert rows == [
        ("u1", dt.date(2026, 2, 28), 1, 0), ("u1", dt.date(2026, 3, 1), 1, 0), ("u1", dt.date(2026, 3, 31), 1, 0),
        ("u2", dt.date(2026, 4, 1), 2, 0), ("u3", dt.date(2026, 1, 15), 0, 1),
    ]
    months = conn.execute("SELECT user_id, activity_month, events FROM core.user_channel_months ORDER BY ALL").fetchall()
    assert months == [("u1", dt.date(2026, 2, 1), 1), ("u1", dt.date(2026, 3, 1), 2), ("u2", dt.date(2026, 4, 1), 2)]

"""Per-user-per-day activity, rebuilt only for the days whose inputs changed.

`core.user_activity` holds one row per user and local day up to the as-of date: events, product views,
app opens, the first and last event time, sessions that day, the funnel steps seen that day, purchases
and purchase amount. `core.user_channel_months` holds events per user, month (the local month's first
day) and channel: user profiles only add them up per channel, and a month holds a third as many rows as
its days would. User-level features (`marts.user_profile`) are recomputed from these two tables, never
from raw events.

A refresh recomputes only the days that changed since the last one:

- days covered by a staged events partition (`<staged_dir>/events/event_date=D/`) that is new, changed
  or removed (by file name, size and modification time), taken as the span of local dates its rows
  fall on before and after the change;
- days whose completed purchases changed (count, amount and a digest of the transaction ids);
- days that entered or left the window because the as-of date moved.

The channel counts of every month holding a recomputed day are recomputed whole. Both tables are
computed one month at a time, so the aggregation's hash table stays in memory.

Everything is rebuilt when there is no state yet, when staged events are not local Parquet partitions
(a DuckDB table, or an object store whose files cannot be fingerprinted cheaply), or when more than
half of the days changed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ingest.staged_files import STAGED_PARTITION, partition_glob

STATE_VERSION = "3"
SESSION_GAP_SECONDS = 30 * 60
# Events aggregated in one query at most (whole months): about 4M user-days, whose hash table stays in
# memory within DuckDB's default share of a 6 GB budget.
BATCH_EVENTS = 12_000_000
FUNNEL_EVENTS = {
    "kyc_passed_event": "kyc_passed", "applied": "loan_apply", "approved": "loan_approved",
    "drawn": "loan_drawn", "repaying": "repayment", "risk_assessed": "risk_assessment",
}

STATE_DDL = """
CREATE SCHEMA IF NOT EXISTS core;
CREATE TABLE IF NOT EXISTS core.user_activity_state (
    kind VARCHAR, key VARCHAR, fingerprint VARCHAR, first_day DATE, last_day DATE
);
"""


@dataclass(frozen=True)
class ActivityRefresh:
    full: bool
    days: int
    reason: str


def refresh_user_activity(conn: duckdb.DuckDBPyConnection, staged_dir: str | None) -> ActivityRefresh:
    """Bring `core.user_activity` and `core.user_channel_months` up to date with staged events and purchases.

    Needs `core.analysis_window`, `core.purchases` and `staged.events`. `staged_dir` is where staged
    events partitions live; it is ignored when `staged.events` is a table of the warehouse instead.
    """
    if staged_dir is not None and not _events_in_partitions(conn):
        staged_dir = None
    conn.execute(STATE_DDL)
    as_of = conn.sql("SELECT as_of FROM core.analysis_window").fetchone()[0]
    partitions = _event_partitions(staged_dir)
    purchase_days = dict(conn.sql(
        "SELECT txn_date, count(*) || ':' || sum(amount) || ':' || bit_xor(hash(txn_id, user_id, amount)) "
        "FROM core.purchases GROUP BY txn_date").fetchall())
    state = conn.sql("SELECT kind, key, fingerprint, first_day, last_day FROM core.user_activity_state").fetchall()
    stored = {(kind, key): (fp, first, last) for kind, key, fp, first, last in state}

    reason = _full_reason(conn, stored, partitions)
    affected: set[dt.date] = set()
    if reason is None:
        old_as_of = dt.date.fromisoformat(stored[("window", "as_of")][0])
        if as_of < old_as_of:
            _delete_after(conn, as_of)
            # Its month's channel counts held the days after it.
            affected.add(as_of)
        else:
            affected |= _span(old_as_of + dt.timedelta(days=1), as_of)
        old_partitions = {key: value for (kind, key), value in stored.items() if kind == "events"}
        changed = [key for key, fp in partitions.items() if old_partitions.get(key, (None,))[0] != fp]
        removed = [key for key in old_partitions if key not in partitions]
        for key in [*changed, *removed]:
            if key in old_partitions and old_partitions[key][1] is not None:
                affected |= _span(old_partitions[key][1], old_partitions[key][2])
        spans = _partition_spans(conn, staged_dir, changed)
        for first, last in spans.values():
            if first is not None:
                affected |= _span(first, last)
        old_purchases = {key: fp for (kind, key), (fp, _, _) in stored.items() if kind == "purchases"}
        now_purchases = {day.isoformat(): fp for day, fp in purchase_days.items()}
        affected |= {dt.date.fromisoformat(d) for d in set(old_purchases) ^ set(now_purchases)}
        affected |= {dt.date.fromisoformat(d) for d in now_purchases if d in old_purchases
                     and old_purchases[d] != now_purchases[d]}
        affected = {d for d in affected if d <= as_of}
        known_days = conn.sql("SELECT count(DISTINCT activity_date) FROM core.user_activity").fetchone()[0]
        if len(affected) > max(1, known_days) / 2:
            reason = f"{len(affected)} of {known_days} days changed"
    if reason is not None:
        spans = _partition_spans(conn, staged_dir, list(partitions or {}))
        _rebuild(conn, staged_dir, None, spans)
        days = conn.sql("SELECT count(DISTINCT activity_date) FROM core.user_activity").fetchone()[0]
    else:
        if affected:
            every = {**{key: (first, last) for key, (_, first, last) in old_partitions.items()}, **spans}
            _rebuild(conn, staged_dir, sorted(affected), {k: v for k, v in every.items() if k in partitions})
        days = len(affected)
    _save_state(conn, as_of, partitions, spans, purchase_days)
    return ActivityRefresh(full=reason is not None, days=days, reason=reason or "only changed days recomputed")


def _events_in_partitions(conn: duckdb.DuckDBPyConnection) -> bool:
    """Whether `staged.events` is the view over daily Parquet partitions (not a warehouse table)."""
    return conn.sql("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'staged' "
                    "AND table_name = 'events' AND table_type = 'VIEW'").fetchone()[0] > 0


def _full_reason(conn: duckdb.DuckDBPyConnection, stored: dict, partitions: dict[str, str] | None) -> str | None:
    if partitions is None:
        return "staged events are not local Parquet partitions"
    if stored.get(("window", "version"), (None,))[0] != STATE_VERSION:
        return "no previous activity state"
    exists = conn.sql(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'core' "
        "AND table_name IN ('user_activity', 'user_channel_months')").fetchone()[0]
    return None if exists == 2 else "activity tables missing"


def _event_partitions(staged_dir: str | None) -> dict[str, str] | None:
    """Fingerprint (names, sizes, modification times) of each local events partition; None if not local."""
    if not staged_dir or "://" in staged_dir:
        return None
    root = Path(staged_dir) / "events"
    if not root.is_dir():
        return None
    found: dict[str, str] = {}
    for entry in sorted(os.scandir(root), key=lambda e: e.name):
        if not entry.is_dir() or not entry.name.startswith("event_date="):
            continue
        digest = hashlib.sha256()
        for file in sorted(os.scandir(entry.path), key=lambda e: e.name):
            if file.name.endswith(".parquet"):
                stat = file.stat()
                digest.update(f"{file.name}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
        found[entry.name] = digest.hexdigest()
    return found


def _partition_spans(conn: duckdb.DuckDBPyConnection, staged_dir: str | None,
                     keys: list[str]) -> dict[str, tuple[dt.date | None, dt.date | None]]:
    """First and last local date of the rows in each named events partition.

    Read from the Parquet footers' occurred_at statistics (every row group of every file), which costs
    nothing next to scanning fifty million timestamps; a file without statistics is scanned.
    """
    if not keys or not staged_dir or "://" in staged_dir:
        return {}
    files = _partition_files(staged_dir, keys)
    if not files:
        return {key: (None, None) for key in keys}
    local_days = conn.execute(
        "SELECT file_name, min(CAST(CAST(stats_min_value AS TIMESTAMPTZ) AS DATE)), "
        "max(CAST(CAST(stats_max_value AS TIMESTAMPTZ) AS DATE)), bool_or(stats_min_value IS NULL OR stats_max_value IS NULL) "
        "FROM parquet_metadata(?) WHERE path_in_schema = 'occurred_at' GROUP BY file_name", [files]).fetchall()
    unknown = sorted(name for name, _, _, missing in local_days if missing)
    rows = [(name, first, last) for name, first, last, missing in local_days if not missing]
    if unknown:
        rows += conn.execute("SELECT filename, min(CAST(occurred_at AS DATE)), max(CAST(occurred_at AS DATE)) "
                             "FROM read_parquet(?, filename = true) GROUP BY ALL", [unknown]).fetchall()
    spans: dict[str, tuple[dt.date, dt.date]] = {}
    for name, first, last in rows:
        if first is None:
            continue
        key = Path(name).parent.name
        old_first, old_last = spans.get(key, (first, last))
        spans[key] = (min(first, old_first), max(last, old_last))
    return {key: spans.get(key, (None, None)) for key in keys}


def _partition_files(staged_dir: str, keys: list[str]) -> list[str]:
    """The Parquet glob of each named events partition that holds a file."""
    return [str(Path(staged_dir) / "events" / key / "*.parquet") for key in keys
            if any((Path(staged_dir) / "events" / key).glob("*.parquet"))]


def _span(first: dt.date, last: dt.date) -> set[dt.date]:
    return {first + dt.timedelta(days=i) for i in range((last - first).days + 1)} if last >= first else set()


def _delete_after(conn: duckdb.DuckDBPyConnection, as_of: dt.date) -> None:
    conn.execute("DELETE FROM core.user_activity WHERE activity_date > ?", [as_of])
    conn.execute("DELETE FROM core.user_channel_months WHERE activity_month > ?", [as_of])


def _events_source(staged_dir: str | None, partitions: list[str] | None = None) -> str:
    """Staged events with their local `activity_date` (only those of the named partitions, when given).

    The local date of a timestamp is a time-zone calculation per row; over daily partitions it is taken
    from the partition's day whenever the event falls inside that local day (nearly always), which
    costs a comparison against two per-file constants.
    """
    if staged_dir is None:
        return ("(SELECT user_id, event_name, channel, occurred_at, CAST(occurred_at AS DATE) AS activity_date "
                "FROM staged.events)")
    if partitions is not None and not partitions:
        return ("(SELECT user_id, event_name, channel, occurred_at, CAST(occurred_at AS DATE) AS activity_date "
                "FROM staged.events WHERE false)")
    if partitions is None:
        files = "'" + partition_glob(staged_dir, "events").replace("'", "''") + "'"
    else:
        root = staged_dir.rstrip("/")
        files = "[" + ", ".join("'" + f"{root}/events/{key}/*.parquet".replace("'", "''") + "'" for key in partitions) + "]"
    return (
        f"(SELECT user_id, event_name, channel, occurred_at, "
        f"CASE WHEN occurred_at >= CAST({STAGED_PARTITION} AS TIMESTAMPTZ) "
        f"AND occurred_at < CAST({STAGED_PARTITION} + 1 AS TIMESTAMPTZ) THEN {STAGED_PARTITION} "
        f"ELSE CAST(occurred_at AS DATE) END AS activity_date "
        f"FROM read_parquet({files}, hive_partitioning = true, "
        f"hive_types = {{'{STAGED_PARTITION}': DATE}}))"
    )


def _events_filter(days: list[dt.date]) -> tuple[str, list]:
    """SQL (after a WHERE) and parameters keeping the events of the given local days (in order)."""
    # The range lets DuckDB skip Parquet row groups by their occurred_at statistics.
    where = (" AND e.occurred_at >= CAST(? AS DATE)::TIMESTAMP::TIMESTAMPTZ "
             "AND e.occurred_at < (CAST(? AS DATE) + 1)::TIMESTAMP::TIMESTAMPTZ "
             "AND e.activity_date IN (SELECT unnest(CAST(? AS DATE[])))")
    return where, [days[0], days[-1], days]


def _rebuild(conn: duckdb.DuckDBPyConnection, staged_dir: str | None, days: list[dt.date] | None,
             spans: dict[str, tuple[dt.date | None, dt.date | None]]) -> None:
    """Recompute the given days (None: every day) of both activity tables, a batch of months at a time.

    A batch holds whole months of at most `BATCH_EVENTS` events (by the partitions' row counts), so its
    user-days fit in memory as one hash table: all 26 million of the scale set at once spilled to disk and
    took a sixth longer, while a month at a time on a small set paid three scans per month for a few
    hundred thousand events each (100,000 users: 25 batches 15.3 s, one batch see `BATCH_EVENTS`). Each
    batch reads only the partitions whose rows fall in it (`spans`, from the footers): with a partition a
    day, reading every file's footer for every month cost more than the aggregation.
    """
    if days is None:
        months = _months_with_data(conn, staged_dir, spans)
    else:
        months = sorted({day.replace(day=1) for day in days})
        conn.execute("DELETE FROM core.user_activity WHERE activity_date IN (SELECT unnest(CAST(? AS DATE[])))",
                     [days])
        conn.execute("DELETE FROM core.user_channel_months WHERE activity_month IN (SELECT unnest(CAST(? AS DATE[])))",
                     [months])
    for number, batch in enumerate(_month_batches(conn, staged_dir, months, spans)):
        recomputed = _month_days(batch) if days is None else [day for day in days if day.replace(day=1) in batch]
        partitions = sorted({key for month in batch for key in _partitions_of_month(month, spans)})
        events = _events_source(staged_dir, partitions if staged_dir else None)
        _rebuild_months(conn, events, recomputed, batch, create=days is None and number == 0)
    if days is None:
        # The day-grained channel table of earlier versions.
        conn.execute("DROP TABLE IF EXISTS core.user_channel_days")


def _partitions_of_month(month: dt.date, spans: dict[str, tuple[dt.date | None, dt.date | None]]) -> list[str]:
    last = _month_days([month])[-1]
    return sorted(key for key, (first, final) in spans.items()
                  if first is not None and first <= last and final >= month)


def _months_with_data(conn: duckdb.DuckDBPyConnection, staged_dir: str | None,
                      spans: dict[str, tuple[dt.date | None, dt.date | None]]) -> list[dt.date]:
    """First days of the months holding an event in the window or a purchase (at least one month, so
    the tables are created even when there is nothing to count)."""
    as_of = conn.sql("SELECT as_of FROM core.analysis_window").fetchone()[0]
    months = {month for (month,) in conn.sql(
        "SELECT DISTINCT date_trunc('month', txn_date)::DATE FROM core.purchases").fetchall() if month is not None}
    if staged_dir is None:
        months |= {month for (month,) in conn.sql(
            f"SELECT DISTINCT date_trunc('month', activity_date)::DATE FROM {_window_events(_events_source(None), '')}"
        ).fetchall() if month is not None}
    else:
        for first, last in spans.values():
            if first is not None:
                months |= {day.replace(day=1) for day in _span(first, min(last, as_of))}
    return sorted(m for m in months if m <= as_of) or [as_of.replace(day=1)]


def _month_batches(conn: duckdb.DuckDBPyConnection, staged_dir: str | None, months: list[dt.date],
                   spans: dict[str, tuple[dt.date | None, dt.date | None]]) -> list[list[dt.date]]:
    """The months in order, grouped so that each group's partitions hold at most `BATCH_EVENTS` rows (a
    month alone may hold more); one month per group when the rows cannot be counted from the footers."""
    if not staged_dir or "://" in staged_dir or not months:
        return [[month] for month in months]
    rows = _partition_rows(conn, staged_dir, sorted(spans))
    batches: list[list[dt.date]] = []
    held = 0
    for month in months:
        month_rows = sum(rows.get(key, 0) for key in _partitions_of_month(month, spans))
        if batches and held + month_rows <= BATCH_EVENTS:
            batches[-1].append(month)
            held += month_rows
        else:
            batches.append([month])
            held = month_rows
    return batches


def _partition_rows(conn: duckdb.DuckDBPyConnection, staged_dir: str, keys: list[str]) -> dict[str, int]:
    """Rows of each named events partition, from the Parquet footers."""
    files = _partition_files(staged_dir, keys)
    if not files:
        return {}
    counts: dict[str, int] = {}
    for name, rows in conn.execute("SELECT file_name, num_rows FROM parquet_file_metadata(?)", [files]).fetchall():
        key = Path(name).parent.name
        counts[key] = counts.get(key, 0) + rows
    return counts


def _rebuild_months(conn: duckdb.DuckDBPyConnection, events: str, days: list[dt.date], months: list[dt.date],
                    create: bool) -> None:
    """Add the activity of `days` (all in `months`) and the channel counts of those whole months to both
    tables, created first when `create`."""
    where, params = _events_filter(days)
    # The funnel steps seen are one bit each of a single bit_or: one aggregate instead of one per step.
    codes = " ".join(f"WHEN '{name}' THEN {1 << i}" for i, name in enumerate(FUNNEL_EVENTS.values()))
    flags = ", ".join(f"(_seen & {1 << i}) <> 0 AS {column}" for i, column in enumerate(FUNNEL_EVENTS))
    gap_us = SESSION_GAP_SECONDS * 1_000_000
    window_events = _window_events(events, where)
    # A session ends after 30 minutes without an event; a day's first event opens one. A day spanning at
    # most 30 minutes holds one session; with two or three events the gaps follow from the first, last
    # and (for three) middle time. Listing the event times of every day cost more than the rest of the
    # aggregation: only the days of four or more events spanning over 30 minutes (about one in sixteen)
    # list them, sort them and count the long gaps between neighbours (no lambda captures the list: a
    # captured expression is evaluated once per element). Those days' events are found by one 64-bit hash
    # of user and day rather than by the two keys (a third of the time at 100,000 users): a day whose hash
    # collides with a busy day's is listed too, but its sessions come from the branches before ELSE.
    activity = f"""
        WITH events AS (
            SELECT user_id, activity_date, count(*) AS events,
                   sum(CASE event_name WHEN 'product_view' THEN 1 ELSE 0 END) AS product_views,
                   sum(CASE event_name WHEN 'app_open' THEN 1 ELSE 0 END) AS app_opens,
                   min(occurred_at) AS first_event_at, max(occurred_at) AS last_event_at,
                   sum(epoch_us(occurred_at)) AS _sum_us,
                   bit_or(CASE event_name {codes} ELSE 0 END) AS _seen
            FROM {window_events}
            GROUP BY ALL
        ), days AS (
            SELECT * EXCLUDE (_seen, _sum_us), {flags},
                   epoch_us(last_event_at) - epoch_us(first_event_at) AS _span_us,
                   -- With three events the middle one is the sum less the first and the last.
                   _sum_us - epoch_us(first_event_at) - epoch_us(last_event_at) AS _middle_us
            FROM events
        ), busy AS (
            SELECT user_id, activity_date,
                   1 + len(list_filter(list_zip(_sorted[2:], _sorted[:-1]), gap -> gap[1] - gap[2] > {gap_us})) AS _busy_sessions
            FROM (SELECT user_id, activity_date, list_sort(list(epoch_us(occurred_at))) AS _sorted
                  FROM {window_events}
                  WHERE hash(user_id, activity_date) IN (
                      SELECT hash(user_id, activity_date) FROM days WHERE events > 3 AND _span_us > {gap_us})
                  GROUP BY ALL)
        ), purchases AS (
            SELECT user_id, txn_date AS activity_date, count(*) AS purchases, sum(amount) AS purchase_amount
            FROM core.purchases WHERE txn_date IN (SELECT unnest(CAST(? AS DATE[]))) GROUP BY ALL
        )
        SELECT user_id, activity_date, coalesce(events, 0) AS events,
               coalesce(product_views, 0)::BIGINT AS product_views, coalesce(app_opens, 0)::BIGINT AS app_opens, coalesce(purchases, 0) AS purchases,
               coalesce(purchase_amount, 0)::DECIMAL(38, 2) AS purchase_amount,
               first_event_at, last_event_at,
               CASE WHEN events IS NULL THEN 0
                    WHEN _span_us <= {gap_us} THEN 1
                    WHEN events = 2 THEN 2
                    WHEN events = 3 THEN 1 + (_middle_us - epoch_us(first_event_at) > {gap_us})::INTEGER
                                           + (epoch_us(last_event_at) - _middle_us > {gap_us})::INTEGER
                    ELSE _busy_sessions
               END::BIGINT AS sessions,
               {', '.join(f'coalesce({c}, false) AS {c}' for c in FUNNEL_EVENTS)}
        FROM days LEFT JOIN busy USING (user_id, activity_date) FULL OUTER JOIN purchases USING (user_id, activity_date)
    """
    channels_where, channels_params = _events_filter(_month_days(months))
    channels = f"""
        SELECT user_id, date_trunc('month', activity_date)::DATE AS activity_month,
               coalesce(channel, '(none)') AS channel, count(*) AS events
        FROM {_window_events(events, channels_where)}
        GROUP BY ALL
    """
    # The events of the days are read twice (all of them, then the busy days'), the purchases once.
    activity_params = [*params, *params, days]
    if create:
        conn.execute(f"CREATE OR REPLACE TABLE core.user_activity AS {activity}", activity_params)
        conn.execute(f"CREATE OR REPLACE TABLE core.user_channel_months AS {channels}", channels_params)
    else:
        conn.execute(f"INSERT INTO core.user_activity {activity}", activity_params)
        conn.execute(f"INSERT INTO core.user_channel_months {channels}", channels_params)


def _window_events(events: str, where: str) -> str:
    """Events of known users before the window end, matching `where` (from `_events_filter`)."""
    return (f"(SELECT e.user_id, e.event_name, e.channel, e.occurred_at, e.activity_date "
            f"FROM {events} e, core.analysis_window w "
            f"WHERE e.user_id IS NOT NULL AND e.occurred_at < w.window_end{where})")


def _month_days(months: list[dt.date]) -> list[dt.date]:
    """Every day of the given months (each given by its first day), in order."""
    days = []
    for first in months:
        following = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        days += sorted(_span(first, following - dt.timedelta(days=1)))
    return days


def _save_state(conn: duckdb.DuckDBPyConnection, as_of: dt.date, partitions: dict[str, str] | None,
                spans: dict, purchase_days: dict) -> None:
    previous = {key: (first, last) for key, first, last in conn.sql(
        "SELECT key, first_day, last_day FROM core.user_activity_state WHERE kind = 'events'").fetchall()}
    rows = [("window", "version", STATE_VERSION, None, None), ("window", "as_of", as_of.isoformat(), None, None)]
    for key, fp in (partitions or {}).items():
        first, last = spans.get(key, previous.get(key, (None, None)))
        rows.append(("events", key, fp, first, last))
    rows += [("purchases", day.isoformat(), fp, None, None) for day, fp in purchase_days.items()]
    conn.execute("DELETE FROM core.user_activity_state")
    conn.executemany("INSERT INTO core.user_activity_state VALUES (?, ?, ?, ?, ?)", rows)

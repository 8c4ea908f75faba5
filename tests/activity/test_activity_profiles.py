"""User profiles from the per-user-per-day rows: sessions that run on across local midnight."""

import datetime as dt
from zoneinfo import ZoneInfo

import duckdb
import pytest

from activity.profiles import PROFILE_PARAMETERS, PROFILE_QUERY
from warehouse import load_query

PROFILE_SQL = load_query("activity", PROFILE_QUERY)

ZONE = ZoneInfo("Asia/Shanghai")
DAY_1, DAY_2, DAY_3 = dt.date(2026, 3, 1), dt.date(2026, 3, 2), dt.date(2026, 3, 3)


def _at(day: dt.date, hour: int, minute: int, second: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=ZONE)


# (user, day, events, sessions that day, first event, last event); events 0 is a purchase-only day.
DAYS = [
    # 20 minutes across midnight: the second day continues the first day's last session.
    ("across", DAY_1, 3, 2, _at(DAY_1, 9, 0), _at(DAY_1, 23, 50)),
    ("across", DAY_2, 2, 1, _at(DAY_2, 0, 10), _at(DAY_2, 0, 20)),
    # Exactly 30 minutes still continues; 30 minutes and a second does not.
    ("exact", DAY_1, 1, 1, _at(DAY_1, 23, 45), _at(DAY_1, 23, 45)),
    ("exact", DAY_2, 1, 1, _at(DAY_2, 0, 15), _at(DAY_2, 0, 15)),
    ("apart", DAY_1, 1, 1, _at(DAY_1, 23, 45), _at(DAY_1, 23, 45)),
    ("apart", DAY_2, 1, 1, _at(DAY_2, 0, 15, 1), _at(DAY_2, 0, 15, 1)),
    # Late on day 1 and early on day 3 are a day apart, with only a purchase on day 2 between them.
    ("skipped", DAY_1, 1, 1, _at(DAY_1, 23, 55), _at(DAY_1, 23, 55)),
    ("skipped", DAY_2, 0, 0, None, None),
    ("skipped", DAY_3, 1, 1, _at(DAY_3, 0, 5), _at(DAY_3, 0, 5)),
    # Three days chained across two midnights are one session.
    ("chained", DAY_1, 1, 1, _at(DAY_1, 23, 59), _at(DAY_1, 23, 59)),
    ("chained", DAY_2, 2, 2, _at(DAY_2, 0, 1), _at(DAY_2, 23, 58)),
    ("chained", DAY_3, 1, 1, _at(DAY_3, 0, 2), _at(DAY_3, 0, 2)),
]


@pytest.fixture()
def warehouse():
    conn = duckdb.connect()
    conn.execute("SET TimeZone = 'Asia/Shanghai'")
    conn.execute("CREATE SCHEMA staged; CREATE SCHEMA core")
    conn.execute("CREATE TABLE core.analysis_window AS SELECT DATE '2026-03-03' AS as_of, "
                 "TIMESTAMPTZ '2026-03-04 00:00:00' AS window_end")
    users = sorted({user for user, *_ in DAYS})
    conn.execute("CREATE TABLE staged.users (user_id VARCHAR, signup_at TIMESTAMPTZ, birth_year INTEGER, "
                 "gender VARCHAR, province VARCHAR, city_tier VARCHAR, is_student BOOLEAN, kyc_status VARCHAR, "
                 "risk_level VARCHAR, risk_assessed_at TIMESTAMPTZ, acquisition_channel VARCHAR)")
    conn.executemany("INSERT INTO staged.users (user_id, signup_at) VALUES (?, TIMESTAMPTZ '2026-02-01 08:00:00')",
                     [[user] for user in users])
    conn.execute("CREATE TABLE core.purchases (txn_id VARCHAR, user_id VARCHAR, occurred_at TIMESTAMPTZ, "
                 "txn_date DATE, amount DECIMAL(18, 2), revenue DECIMAL(18, 2), product_line VARCHAR)")
    conn.execute("INSERT INTO core.purchases VALUES ('t1', 'skipped', TIMESTAMPTZ '2026-03-02 12:00:00', "
                 "DATE '2026-03-02', 10.00, 1.00, 'payment')")
    conn.execute("CREATE TABLE core.user_activity (user_id VARCHAR, activity_date DATE, events BIGINT, "
                 "product_views BIGINT, app_opens BIGINT, purchases BIGINT, purchase_amount DECIMAL(18, 2), "
                 "first_event_at TIMESTAMPTZ, last_event_at TIMESTAMPTZ, sessions BIGINT, kyc_passed_event BOOLEAN, "
                 "applied BOOLEAN, approved BOOLEAN, drawn BOOLEAN, repaying BOOLEAN, risk_assessed BOOLEAN)")
    conn.executemany(
        "INSERT INTO core.user_activity VALUES (?, ?, ?, 0, 0, ?, ?, ?, ?, ?, false, false, false, false, false, false)",
        [[user, day, events, int(events == 0), 10 if events == 0 else 0, first, last, sessions]
         for user, day, events, sessions, first, last in DAYS])
    conn.execute("CREATE TABLE core.user_channel_months AS SELECT user_id, DATE '2026-03-01' AS activity_month, "
                 "'direct' AS channel, sum(events) AS events FROM core.user_activity GROUP BY user_id")
    yield conn
    conn.close()


def test_a_session_runs_on_across_midnight_within_thirty_minutes(warehouse):
    profiles = dict(warehouse.execute(f"SELECT user_id, sessions FROM ({PROFILE_SQL})", PROFILE_PARAMETERS).fetchall())
    assert profiles == {"across": 2, "exact": 1, "apart": 2, "skipped": 2, "chained": 2}


def test_active_days_leave_out_purchase_only_days(warehouse):
    profiles = {user: (days, events) for user, days, events in warehouse.execute(
        f"SELECT user_id, active_days, event_count FROM ({PROFILE_SQL})", PROFILE_PARAMETERS).fetchall()}
    assert profiles["skipped"] == (2, 2)
    assert profiles["chained"] == (3, 4)

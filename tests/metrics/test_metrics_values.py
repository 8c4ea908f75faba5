"""`marts.metric_values`: each headline metric computed the way the registry says, null where the data cannot tell."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import polars as pl
import pytest

from metrics import default_registry, metric_values

AS_OF = date(2026, 6, 30)


@pytest.fixture
def conn():
    connection = duckdb.connect()
    for schema in ("marts", "core"):
        connection.execute(f"CREATE SCHEMA {schema}")
    days = [date(2026, 5, 10) + timedelta(days=i) for i in range((AS_OF - date(2026, 5, 10)).days + 1)]
    daily = pl.DataFrame({
        "date": days,
        "new_users": [10] * len(days),
        "new_customers": [4] * len(days),
        # The last 6 days' sign-ups have not had 7 days yet.
        "activated_7d": [3 if day <= AS_OF - timedelta(days=6) else None for day in days],
        "txn_amount": [100.0] * len(days),
        "revenue": [5.0] * len(days),
        # Spend data starts on May 20: May is not fully known.
        "spend": [None if day < date(2026, 5, 20) else 20.0 for day in days],
    })
    connection.register("daily", daily)
    connection.execute("CREATE TABLE marts.kpi_daily AS SELECT * FROM daily")
    connection.execute("""CREATE TABLE core.user_activity AS SELECT * FROM (VALUES
        ('a', DATE '2026-06-01'), ('a', DATE '2026-06-02'), ('b', DATE '2026-06-29'), ('a', DATE '2026-05-12'))
        t(user_id, activity_date)""")
    connection.execute("""CREATE TABLE core.purchases AS SELECT * FROM (VALUES
        ('a', DATE '2026-05-12'), ('a', DATE '2026-06-02'), ('b', DATE '2026-06-29'), ('c', DATE '2026-06-30'))
        t(user_id, txn_date)""")
    connection.execute("""CREATE TABLE marts.user_value AS SELECT * FROM (VALUES ('a', 100.0), ('b', 300.0), ('c', NULL))
        t(user_id, clv)""")
    connection.execute("""CREATE TABLE marts.cohort_retention AS SELECT * FROM (VALUES
        ('signup', '2026-04', 1, 0.5, TRUE), ('signup', '2026-05', 1, 0.4, TRUE), ('signup', '2026-06', 1, NULL, FALSE),
        ('first_transaction', '2026-05', 1, 0.9, TRUE)) t(cohort_basis, cohort, period, retention_rate, period_complete)""")
    connection.execute("ALTER TABLE marts.cohort_retention ADD COLUMN users INTEGER DEFAULT 10")
    connection.execute("ALTER TABLE marts.cohort_retention ADD COLUMN retained INTEGER DEFAULT 4")
    yield connection
    connection.close()


def _values(conn) -> dict[tuple[str, str], dict]:
    frame = metric_values(conn, default_registry(), AS_OF)
    return {(row["metric"], row["period"]): row for row in frame.iter_rows(named=True)}


def test_sums_distinct_users_and_ratios_follow_the_registry(conn):
    values = _values(conn)
    june, may = ("current", "previous")

    assert values[("new_users", june)]["value"] == 300.0 and values[("new_users", may)]["value"] == 220.0
    assert values[("new_users", may)]["complete"] is False  # the daily mart starts on May 10
    assert values[("active_users", june)]["value"] == 2.0  # distinct users, not user-days
    assert values[("transacting_users", june)]["value"] == 3.0
    # Activation: sign-ups who had 7 days (June 1-24), 3 of 10 a day.
    assert values[("activation_rate", june)]["value"] == pytest.approx(0.3)
    assert values[("activation_rate", june)]["denominator"] == 240.0
    assert values[("cac", june)]["value"] == pytest.approx(600.0 / 120.0)
    # LTV: mean CLV of June's new customers (b; c has no CLV yet); a became a customer in May.
    assert values[("ltv", june)]["value"] == 300.0 and values[("ltv", may)]["value"] == 100.0
    assert values[("ltv_to_cac", june)]["value"] == pytest.approx(300.0 / 5.0)


def test_the_cohort_metric_reads_the_latest_complete_cohort_and_the_one_before(conn):
    values = _values(conn)
    assert values[("month1_retention", "current")]["value"] == 0.4
    assert values[("month1_retention", "current")]["period_start"] == date(2026, 5, 1)
    assert values[("month1_retention", "current")]["period_end"] == date(2026, 6, 30)
    assert values[("month1_retention", "previous")]["value"] == 0.5


def test_without_spend_data_spend_cac_and_ltv_to_cac_are_unknown_not_zero(conn):
    conn.execute("UPDATE marts.kpi_daily SET spend = NULL")
    values = _values(conn)
    for metric in ("spend", "cac", "ltv_to_cac"):
        assert values[(metric, "current")]["value"] is None, metric
    assert values[("revenue", "current")]["value"] == 150.0


def test_a_period_the_source_covers_only_in_part_is_marked_incomplete(conn):
    values = _values(conn)
    assert values[("spend", "previous")]["complete"] is False
    assert values[("spend", "current")]["complete"] is True
    assert values[("cac", "previous")]["complete"] is False

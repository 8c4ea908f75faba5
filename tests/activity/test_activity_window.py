"""The default as-of date is the latest day of the bulk of the data: a lone outlier never moves it."""

import datetime as dt

import pytest

from activity.window import AS_OF_GIVEN, AS_OF_LATEST, NoDataError, choose_as_of, data_extent
from warehouse import connect


@pytest.fixture
def conn(tmp_path):
    connection = connect(tmp_path / "w.duckdb")
    connection.execute("CREATE SCHEMA staged")
    connection.execute("CREATE TABLE staged.transactions AS SELECT TIMESTAMPTZ '2024-03-01 10:00:00+08' "
                       "+ INTERVAL (i % 90) DAY AS occurred_at FROM range(3000) t(i)")
    connection.execute("CREATE TABLE staged.events AS SELECT occurred_at FROM staged.transactions LIMIT 0")
    yield connection
    connection.close()


def test_the_latest_day_is_the_as_of_date_when_nothing_stands_out(conn):
    extent = data_extent(conn)
    assert choose_as_of(None, extent) == (dt.date(2024, 5, 29), AS_OF_LATEST)
    assert choose_as_of(dt.date(2024, 4, 1), extent) == (dt.date(2024, 4, 1), AS_OF_GIVEN)


def test_a_lone_row_months_later_is_left_out_and_said(conn):
    conn.execute("INSERT INTO staged.events VALUES (TIMESTAMPTZ '2025-11-20 23:30:00+08')")
    extent = data_extent(conn)
    as_of, basis = choose_as_of(None, extent)
    assert as_of == dt.date(2024, 5, 29) and extent.outliers == 1
    assert basis.startswith(f"{AS_OF_LATEST}, leaving out 1 row(s) from 2024-06-")
    assert basis.endswith("more than 31 days after 99.9% of the data (the latest on 2025-11-20)")


def test_a_month_of_new_data_is_not_an_outlier(conn):
    # A genuine new month (many rows) moves the date; so does a row within a month of the bulk.
    conn.execute("INSERT INTO staged.events SELECT TIMESTAMPTZ '2024-06-20 10:00:00+08' + INTERVAL (i % 20) DAY "
                 "FROM range(500) t(i)")
    assert choose_as_of(None, data_extent(conn)) == (dt.date(2024, 7, 9), AS_OF_LATEST)


def test_no_data_and_no_date_is_an_error(conn):
    conn.execute("DELETE FROM staged.transactions")
    with pytest.raises(NoDataError, match="no transactions or events to analyse"):
        choose_as_of(None, data_extent(conn))

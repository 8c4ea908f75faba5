from datetime import date

import polars as pl
import pytest

from value.retention import cohort_retention


def test_monthly_retention_exact() -> None:
    users = pl.DataFrame(
        {
            "user_id": ["a", "b", "c", "d"],
            "cohort_date": [date(2024, 1, 5), date(2024, 1, 20), date(2024, 2, 10), date(2024, 4, 1)],
        }
    )
    purchases = pl.DataFrame(
        {
            "user_id": ["a", "a", "a", "a", "b", "b", "b", "b", "c", "e"],
            "txn_date": [
                date(2024, 1, 6), date(2024, 1, 25), date(2024, 2, 15), date(2024, 3, 1),
                date(2024, 1, 10),  # before b's cohort date: not counted
                date(2024, 2, 2), date(2024, 3, 15),  # as_of itself counts
                date(2024, 3, 20),  # after as_of: ignored
                date(2024, 2, 10),
                date(2024, 1, 10),  # unknown user
            ],
        }
    )
    table = cohort_retention(users, purchases, as_of=date(2024, 3, 15))
    assert table.schema == pl.Schema(
        {"cohort": pl.String, "period": pl.Int64, "users": pl.Int64, "retained": pl.Int64, "retention_rate": pl.Float64,
         "period_complete": pl.Boolean}
    )
    assert table.rows() == [
        ("2024-01", 0, 2, 1, 0.5, True),
        ("2024-01", 1, 2, 2, 1.0, True),
        ("2024-01", 2, 2, 2, 1.0, False),  # March is not over on the 15th
        ("2024-02", 0, 1, 1, 1.0, True),
        ("2024-02", 1, 1, 0, 0.0, False),
    ]


def test_periods_before_the_purchase_history_are_unknown_not_zero() -> None:
    # Users signed up in 2025, but the purchase log only starts in March 2026.
    users = pl.DataFrame({"user_id": ["a", "b"], "cohort_date": [date(2026, 1, 10), date(2026, 3, 2)]})
    purchases = pl.DataFrame({"user_id": ["a", "b", "a"], "txn_date": [date(2026, 3, 5), date(2026, 3, 2),
                                                                       date(2026, 4, 1)],
                              "revenue": [1.0, 2.0, 3.0]})

    table = cohort_retention(users, purchases, as_of=date(2026, 4, 30))

    january = table.filter(pl.col("cohort") == "2026-01")
    assert january["retained"].to_list() == [None, None, 1, 1]
    assert january["retention_rate"].to_list() == [None, None, 1.0, 1.0]
    assert january["revenue"].to_list() == [None, None, 1.0, 3.0]
    # The month the history starts in is known (a purchase was seen in it), and so is everything after.
    assert table.filter(pl.col("cohort") == "2026-03")["retained"].to_list() == [1, 0]
    assert table["period_complete"].all()


def test_cohorts_across_year_boundary() -> None:
    users = pl.DataFrame({"user_id": [1, 2], "cohort_date": [date(2023, 11, 30), date(2023, 12, 1)]})
    purchases = pl.DataFrame({"user_id": [1, 2], "txn_date": [date(2024, 1, 2), date(2024, 2, 1)]})
    table = cohort_retention(users, purchases, as_of=date(2024, 2, 1))
    assert table.filter(pl.col("retained") > 0).select("cohort", "period").rows() == [("2023-11", 2), ("2023-12", 2)]
    assert table.group_by("cohort").agg(pl.col("period").max()).sort("cohort").rows() == [("2023-11", 3), ("2023-12", 2)]


def test_weekly_retention_exact() -> None:
    users = pl.DataFrame({"user_id": ["x", "y"], "cohort_date": [date(2024, 1, 3), date(2024, 1, 8)]})
    purchases = pl.DataFrame(
        {"user_id": ["x", "x", "y"], "txn_date": [date(2024, 1, 7), date(2024, 1, 15), date(2024, 1, 16)]}
    )
    table = cohort_retention(users, purchases, as_of=date(2024, 1, 17), period="week")
    assert table.select("cohort", "period", "users", "retained").rows() == [
        ("2024-01-01", 0, 1, 1),
        ("2024-01-01", 1, 1, 0),
        ("2024-01-01", 2, 1, 1),
        ("2024-01-08", 0, 1, 0),
        ("2024-01-08", 1, 1, 1),
    ]


def test_invalid_inputs() -> None:
    users = pl.DataFrame({"user_id": ["a", "a"], "cohort_date": [date(2024, 1, 1), date(2024, 1, 2)]})
    purchases = pl.DataFrame({"user_id": ["a"], "txn_date": [date(2024, 1, 3)]})
    with pytest.raises(ValueError, match="one row per user"):
        cohort_retention(users, purchases, as_of=date(2024, 2, 1))
    with pytest.raises(ValueError, match="period must be one of"):
        cohort_retention(users.head(1), purchases, as_of=date(2024, 2, 1), period="quarter")
    with pytest.raises(ValueError, match="must be pl.Date"):
        cohort_retention(users.head(1), purchases.with_columns(pl.col("txn_date").cast(pl.Datetime)), as_of=date(2024, 2, 1))


def test_revenue_retention_is_relative_to_the_first_period():
    from datetime import date as _date

    import polars as _pl

    from value.retention import cohort_retention as _cohort_retention

    users = _pl.DataFrame({"user_id": ["a", "b", "c"],
                           "cohort_date": [_date(2026, 1, 5), _date(2026, 1, 9), _date(2026, 2, 1)]})
    purchases = _pl.DataFrame({
        "user_id": ["a", "a", "b", "b", "c"],
        "txn_date": [_date(2026, 1, 6), _date(2026, 2, 2), _date(2026, 1, 10), _date(2026, 3, 1), _date(2026, 2, 3)],
        "revenue": [10.0, 5.0, 30.0, 20.0, 0.0],
    })
    table = _cohort_retention(users, purchases, _date(2026, 3, 31)).sort("cohort", "period")
    january = table.filter(_pl.col("cohort") == "2026-01")
    assert january["revenue"].to_list() == [40.0, 5.0, 20.0]
    assert january["revenue_retention"].to_list() == [1.0, 0.125, 0.5]
    assert january["retained"].to_list() == [2, 1, 1]
    february = table.filter(_pl.col("cohort") == "2026-02")
    assert february["revenue_retention"].null_count() == february.height  # period-0 revenue is zero

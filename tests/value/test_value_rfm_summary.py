from datetime import date, datetime

import polars as pl
import pytest

from tests.value.conftest import lifetimes_dataset
from value.rfm_summary import rfm_summary


def _tiny_transactions() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "user_id": ["u1", "u1", "u1", "u1", "u2", "u3", "u3"],
            "txn_date": [
                date(2024, 1, 1), date(2024, 1, 1), date(2024, 1, 8), date(2024, 1, 15),
                date(2024, 1, 10),
                date(2024, 1, 3), date(2024, 1, 3),
            ],
            "amount": [10.0, 5.0, 20.0, 40.0, 7.0, 1.0, 2.0],
        }
    )


def test_tiny_summary_exact_values() -> None:
    summary = rfm_summary(_tiny_transactions(), date(2024, 1, 29), time_unit_days=7.0)
    assert summary["user_id"].to_list() == ["u1", "u2", "u3"]
    # u1: three purchase days (same-day 1 Jan merged), repeats on 8 and 15 Jan.
    assert summary["frequency"].to_list() == [2, 0, 0]
    assert summary["recency"].to_list() == pytest.approx([2.0, 0.0, 0.0])
    assert summary["T"].to_list() == pytest.approx([4.0, 19 / 7, 26 / 7])
    # Mean of the repeat days only (20 and 40), never the first day's 15.
    assert summary["monetary_value"].to_list() == pytest.approx([30.0, 0.0, 0.0])
    assert summary["first_purchase"].to_list() == [date(2024, 1, 1), date(2024, 1, 10), date(2024, 1, 3)]
    assert summary["last_purchase"].to_list() == [date(2024, 1, 15), date(2024, 1, 10), date(2024, 1, 3)]
    assert summary.schema == pl.Schema(
        {
            "user_id": pl.String, "frequency": pl.Int64, "recency": pl.Float64, "T": pl.Float64,
            "monetary_value": pl.Float64, "first_purchase": pl.Date, "last_purchase": pl.Date,
        }
    )


def test_daily_time_unit_and_custom_columns() -> None:
    renamed = _tiny_transactions().rename({"user_id": "uid", "txn_date": "day", "amount": "value"})
    summary = rfm_summary(renamed, date(2024, 1, 29), time_unit_days=1.0, user_col="uid", date_col="day",
                          amount_col="value")
    assert summary.columns[0] == "user_id"
    assert summary.filter(pl.col("user_id") == "u1").row(0, named=True)["recency"] == 14.0
    assert summary.filter(pl.col("user_id") == "u1").row(0, named=True)["T"] == 28.0


def test_cdnow_summary_matches_shipped_summaries(cdnow_summary: pl.DataFrame) -> None:
    assert cdnow_summary.height == 2357
    assert cdnow_summary.filter(pl.col("frequency") > 0).height == 946
    shipped = pl.read_csv(lifetimes_dataset("cdnow_customers_summary_with_transactions.csv"))
    joined = cdnow_summary.join(shipped, left_on="user_id", right_on="ID", how="inner")
    assert joined.height == 2357
    assert (joined["frequency"] == joined["x"]).all()
    # The shipped file is rounded to two decimals.
    assert (joined["recency"] - joined["t_x"]).abs().max() < 0.006
    assert (joined["T"] - joined["T_right"]).abs().max() < 0.006
    assert (joined["monetary_value"] - joined["zbar"]).abs().max() < 0.006


def test_rejects_purchases_after_observation_end() -> None:
    with pytest.raises(ValueError, match="after observation_end"):
        rfm_summary(_tiny_transactions(), date(2024, 1, 9))


def test_rejects_timestamps_instead_of_dates() -> None:
    frame = _tiny_transactions().with_columns(pl.col("txn_date").cast(pl.Datetime("us")))
    with pytest.raises(ValueError, match="must be pl.Date"):
        rfm_summary(frame, datetime(2024, 2, 1).date())


def test_rejects_nulls() -> None:
    frame = _tiny_transactions().with_columns(
        pl.when(pl.col("amount") > 30).then(None).otherwise(pl.col("amount")).alias("amount")
    )
    with pytest.raises(ValueError, match="nulls"):
        rfm_summary(frame, date(2024, 1, 29))

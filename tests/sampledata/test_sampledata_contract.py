"""Every source is written in its format with the contract columns and value formats."""

from __future__ import annotations

import re

import polars as pl

from sampledata import SampleDataSummary
from tests.sampledata.sampledata_readers import read_events, read_transactions, read_users

USER_COLUMNS = [
    "user_id", "signup_at", "birth_date", "gender", "province", "city", "city_tier", "occupation",
    "income_band", "is_student", "kyc_status", "risk_level", "risk_assessed_at", "acquisition_channel",
    "email", "phone", "country", "timezone", "language",
]
MONEY = r"^\d+\.\d{2}$"


def share_matching(series: pl.Series, pattern: str) -> float:
    return series.drop_nulls().str.contains(pattern).mean()


def test_users_csv_has_bom_header_and_naive_local_timestamps(small_landing: SampleDataSummary) -> None:
    raw = (small_landing.out_dir / "users.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    users = read_users(small_landing.out_dir)
    assert users.columns == USER_COLUMNS
    assert share_matching(users["signup_at"], r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$") > 0.99
    assert set(users["gender"].drop_nulls()) <= {"female", "male", "other", "unknown"}
    assert set(users["kyc_status"]) <= {"none", "pending", "passed", "failed"}
    assert set(users["country"]) <= {"CN", "HK", "SG", "US"}
    cn = users.filter(pl.col("country") == "CN")
    assert set(cn["timezone"]) == {"Asia/Shanghai"}
    assert {"北京", "上海", "深圳"} & set(users["city"])
    assert set(users["city_tier"].cast(pl.Int64)) <= {1, 2, 3, 4, 5}


def test_transactions_are_daily_hive_partitions_of_string_parquet(small_landing: SampleDataSummary) -> None:
    folders = sorted(p.name for p in (small_landing.out_dir / "transactions").iterdir())
    assert all(re.fullmatch(r"date=\d{4}-\d{2}-\d{2}", name) for name in folders)
    assert 28 <= len(folders) <= 31
    assert all((small_landing.out_dir / "transactions" / name / "part-0.parquet").exists() for name in folders)
    txns = read_transactions(small_landing.out_dir)
    assert txns.columns == [
        "txn_id", "user_id", "occurred_at", "amount", "product_line", "product_id", "revenue", "currency", "status",
    ]
    assert all(dtype == pl.Utf8 for dtype in txns.dtypes)
    assert share_matching(txns["occurred_at"], r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00$") > 0.99
    assert share_matching(txns["amount"], MONEY) > 0.98
    assert share_matching(txns["revenue"], MONEY) == 1.0
    assert set(txns["status"]) == {"completed", "failed", "refunded"}
    products = pl.read_csv(small_landing.out_dir / "products.csv")
    assert txns["product_id"].is_in(products["product_id"].implode()).mean() > 0.99


def test_transactions_sit_in_their_local_day_partition(small_landing: SampleDataSummary) -> None:
    files = sorted((small_landing.out_dir / "transactions").glob("date=*/part-0.parquet"))
    day = files[len(files) // 2].parent.name.removeprefix("date=")
    part = pl.read_parquet(files[len(files) // 2])
    clean = part.filter(pl.col("occurred_at").str.contains(r"^\d{4}-\d{2}-\d{2}T"))
    assert clean.height > 0
    assert (clean["occurred_at"].str.slice(0, 10) == day).all()


def test_events_are_jsonl_partitions_with_utc_timestamps(small_landing: SampleDataSummary) -> None:
    events = read_events(small_landing.out_dir)
    assert set(events.columns) == {
        "event_id", "occurred_at", "event_name", "user_id", "anonymous_id", "platform", "channel", "properties",
    }
    assert share_matching(events["occurred_at"], r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$") > 0.99
    names = set(events["event_name"])
    assert {"app_open", "page_view", "product_view", "kyc_submit", "kyc_passed", "loan_apply", "loan_drawn",
            "fund_purchase", "payment", "sign_up", "risk_assessment"} <= names
    anonymous = events.filter(pl.col("user_id").is_null() & pl.col("anonymous_id").is_not_null())
    stitched = events.filter(pl.col("user_id").is_not_null() & pl.col("anonymous_id").is_not_null())
    assert anonymous.height > 0 and stitched.height > 0
    # Properties are JSON text.
    sample = events.filter(pl.col("event_name") == "product_view")["properties"].head(20)
    assert all(p.startswith('{"product_id": "') for p in sample)


def test_touchpoints_spend_consents_products_loans_have_contract_columns(small_landing: SampleDataSummary) -> None:
    out = small_landing.out_dir
    touch = pl.read_parquet(out / "touchpoints.parquet")
    assert touch.columns == ["occurred_at", "channel", "user_id", "anonymous_id", "campaign", "touch_type", "cost"]
    assert {"impression", "click"} <= set(touch["touch_type"])
    spend = pl.read_csv(out / "marketing_spend.csv", infer_schema=False)
    assert spend.columns == ["date", "channel", "spend", "campaign", "impressions", "clicks", "currency"]
    consents = pl.read_ndjson(out / "consents.jsonl")
    assert consents.columns == ["user_id", "channel", "purpose", "status", "recorded_at", "source", "evidence_ref"]
    assert {"granted", "withdrawn"} <= set(consents["status"])
    assert set(consents["purpose"]) >= {"marketing", "personalization"}
    products = pl.read_csv(out / "products.csv")
    assert products.columns == ["product_id", "product_line", "risk_grade", "apr_min", "apr_max", "issuer"]
    credit = products.filter(pl.col("product_line") == "credit")
    assert credit["apr_min"].is_not_null().all() and (credit["apr_max"] <= 0.24).all()
    assert products.filter(pl.col("product_line") == "wealth")["apr_min"].is_null().all()
    loans = pl.read_parquet(out / "loan_performance.parquet")
    assert loans.columns == ["loan_id", "user_id", "as_of", "principal", "days_past_due", "charged_off_amount"]
    assert loans.schema["as_of"] == pl.Date


def test_summary_rows_match_the_files(small_landing: SampleDataSummary) -> None:
    out = small_landing.out_dir
    assert small_landing.rows["users"] == read_users(out).height
    assert small_landing.rows["transactions"] == read_transactions(out).height
    assert small_landing.rows["events"] == read_events(out).height
    assert small_landing.rows["consents"] == pl.read_ndjson(out / "consents.jsonl").height
    assert small_landing.rows["loan_performance"] == pl.read_parquet(out / "loan_performance.parquet").height
    assert small_landing.truth_path == out / "_truth" / "planted_types.csv"

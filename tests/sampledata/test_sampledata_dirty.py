"""The dirty-row manifest matches what is actually in the files, kind by kind."""

from __future__ import annotations

import polars as pl
import pytest

from sampledata import SampleDataSummary
from tests.sampledata.sampledata_readers import read_events, read_transactions, read_users

MONEY = r"^-?\d+\.\d{2}$"


@pytest.fixture(scope="module")
def manifest(small_landing: SampleDataSummary) -> dict[tuple[str, str], int]:
    frame = pl.read_csv(small_landing.out_dir / "_truth" / "dirty_rows.csv")
    return {(r["source"], r["kind"]): r["rows"] for r in frame.to_dicts()}


def exact_duplicates(frame: pl.DataFrame) -> int:
    return frame.height - frame.unique().height


def duplicate_keys(frame: pl.DataFrame, key: list[str]) -> int:
    distinct = frame.unique().drop_nulls(key)
    return distinct.height - distinct.select(key).unique().height


def unparsable(series: pl.Series, fmt: str) -> int:
    return series.str.to_datetime(fmt, strict=False).is_null().sum() - series.is_null().sum()


def test_every_source_has_dirty_rows_and_the_summary_agrees(
    small_landing: SampleDataSummary, manifest: dict[tuple[str, str], int]
) -> None:
    for source, total in small_landing.dirty_rows.items():
        kinds = {kind: rows for (s, kind), rows in manifest.items() if s == source}
        assert total == sum(kinds.values()) > 0, source
        assert min(kinds.values()) >= (1 if source == "products" else 3), source


def test_users_manifest(small_landing: SampleDataSummary, manifest: dict[tuple[str, str], int]) -> None:
    users = read_users(small_landing.out_dir)
    assert exact_duplicates(users) == manifest["users", "exact_duplicate"]
    assert duplicate_keys(users, ["user_id"]) == manifest["users", "duplicate_key"]
    assert unparsable(users["signup_at"], "%Y-%m-%d %H:%M:%S") == manifest["users", "malformed_timestamp"]
    assert (users["risk_level"] == "C9").sum() == manifest["users", "invalid_value"]
    assert users["user_id"].null_count() == manifest["users", "missing_required"]


def test_transactions_manifest(small_landing: SampleDataSummary, manifest: dict[tuple[str, str], int]) -> None:
    txns = read_transactions(small_landing.out_dir)
    user_ids = read_users(small_landing.out_dir)["user_id"].drop_nulls().implode()
    products = pl.read_csv(small_landing.out_dir / "products.csv")["product_id"].implode()
    expected = {
        "exact_duplicate": exact_duplicates(txns),
        "duplicate_key": duplicate_keys(txns, ["txn_id"]),
        "malformed_timestamp": unparsable(txns["occurred_at"], "%Y-%m-%dT%H:%M:%S%z"),
        "bad_money": (~txns["amount"].str.contains(MONEY)).sum(),
        "negative_amount": txns["amount"].str.starts_with("-").sum(),
        "invalid_value": (~txns["product_line"].is_in(["credit", "wealth", "payment", "other"])).sum(),
        "missing_required": txns["user_id"].null_count(),
        "unknown_user": (txns["user_id"].is_not_null() & ~txns["user_id"].is_in(user_ids)).sum(),
        "unknown_product": (~txns["product_id"].is_in(products)).sum(),
    }
    assert expected == {kind: manifest["transactions", kind] for kind in expected}


def test_events_manifest(small_landing: SampleDataSummary, manifest: dict[tuple[str, str], int]) -> None:
    events = read_events(small_landing.out_dir)
    expected = {
        "exact_duplicate": exact_duplicates(events),
        "duplicate_key": duplicate_keys(events, ["event_id"]),
        "malformed_timestamp": unparsable(events["occurred_at"], "%Y-%m-%dT%H:%M:%SZ"),
        "invalid_value": (~events["platform"].is_in(["ios", "android", "web", "mini_program"])).sum(),
        "missing_required": (events["user_id"].is_null() & events["anonymous_id"].is_null()).sum(),
    }
    assert expected == {kind: manifest["events", kind] for kind in expected}


def test_touchpoints_spend_consents_loans_manifest(
    small_landing: SampleDataSummary, manifest: dict[tuple[str, str], int]
) -> None:
    out = small_landing.out_dir
    touch = pl.read_parquet(out / "touchpoints.parquet")
    assert exact_duplicates(touch) == manifest["touchpoints", "exact_duplicate"]
    assert unparsable(touch["occurred_at"], "%Y-%m-%dT%H:%M:%S%z") == manifest["touchpoints", "malformed_timestamp"]
    assert (~touch["cost"].str.contains(MONEY)).sum() == manifest["touchpoints", "bad_money"]
    assert touch["cost"].str.starts_with("-").sum() == manifest["touchpoints", "negative_amount"]
    assert (~touch["touch_type"].is_in(["impression", "click"])).sum() == manifest["touchpoints", "invalid_value"]

    spend = pl.read_csv(out / "marketing_spend.csv", infer_schema=False)
    assert exact_duplicates(spend) == manifest["marketing_spend", "exact_duplicate"]
    assert duplicate_keys(spend, ["date", "channel", "campaign"]) == manifest["marketing_spend", "duplicate_key"]
    assert unparsable(spend["date"], "%Y-%m-%d") == manifest["marketing_spend", "malformed_timestamp"]
    assert (~spend["spend"].str.contains(MONEY)).sum() == manifest["marketing_spend", "bad_money"]

    consents = pl.read_ndjson(out / "consents.jsonl")
    user_ids = read_users(out)["user_id"].drop_nulls().implode()
    assert exact_duplicates(consents) == manifest["consents", "exact_duplicate"]
    assert (consents["status"] == "maybe").sum() == manifest["consents", "invalid_value"]
    assert consents["user_id"].null_count() == manifest["consents", "missing_required"]
    unknown = consents["user_id"].is_not_null() & ~consents["user_id"].is_in(user_ids)
    assert unknown.sum() == manifest["consents", "unknown_user"]

    loans = pl.read_parquet(out / "loan_performance.parquet")
    assert exact_duplicates(loans) == manifest["loan_performance", "exact_duplicate"]
    assert (loans["principal"] < 0).sum() == manifest["loan_performance", "negative_amount"]
    assert loans["user_id"].null_count() == manifest["loan_performance", "missing_required"]


def test_zero_fraction_writes_no_dirty_rows(clean_landing: SampleDataSummary) -> None:
    out = clean_landing.out_dir
    assert sum(clean_landing.dirty_rows.values()) == 0
    assert pl.read_csv(out / "_truth" / "dirty_rows.csv").height == 0
    assert exact_duplicates(read_transactions(out)) == 0
    assert read_transactions(out)["txn_id"].is_unique().all()
    assert read_events(out)["event_id"].is_unique().all()
    assert read_users(out)["user_id"].is_unique().all()

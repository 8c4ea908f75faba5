"""Holdout assignment: deterministic, about the configured share, and only among eligible people."""

from __future__ import annotations

import hashlib
from datetime import date

import polars as pl
import pytest

from campaigns import decide_recipients, hash_bucket, holdout_buckets
from tests.campaigns.conftest import (
    AS_OF,
    campaign_for,
    consents_frame,
    granted,
    people_frame,
)

IDS = [f"u{i:05d}" for i in range(10_000)]


def _decide(wealth_template, ids: list[str], campaign_id: str = "welcome_a", consented: set[str] | None = None):
    people = people_frame([(u, date(1990, 1, 1), False, "C3") for u in IDS])
    consents = consents_frame([granted(u) for u in IDS if consented is None or u in consented])
    campaign = campaign_for(wealth_template, campaign_id=campaign_id, holdout_pct=10)
    return decide_recipients(pl.DataFrame({"user_id": ids}), consents, people, campaign, wealth_template, AS_OF)


def test_holdout_is_about_ten_percent_and_deterministic(wealth_template) -> None:
    first = _decide(wealth_template, IDS)
    share = (first.get_column("decision") == "holdout").mean()
    # Binomial(10000, 0.1) has sd 0.3 percentage points; 1.5 points is five sd.
    assert 0.085 < share < 0.115
    reordered = _decide(wealth_template, IDS[::-1])
    assert reordered.sort("user_id").get_column("decision").equals(first.sort("user_id").get_column("decision"))


def test_holdout_depends_on_campaign(wealth_template) -> None:
    a = _decide(wealth_template, IDS, "welcome_a").get_column("decision")
    b = _decide(wealth_template, IDS, "welcome_b").get_column("decision")
    both = ((a == "holdout") & (b == "holdout")).mean()
    assert both < 0.03  # independent draws overlap about 1%


def test_holdout_only_among_eligible(wealth_template) -> None:
    consented = set(IDS[:5_000])
    out = _decide(wealth_template, IDS, consented=consented)
    not_consented = out.filter(~pl.col("user_id").is_in(list(consented)))
    assert not_consented.get_column("decision").unique().to_list() == ["excluded"]
    eligible = out.filter(pl.col("user_id").is_in(list(consented)))
    assert set(eligible.get_column("decision").unique()) == {"send", "holdout"}
    # Membership does not change when others become ineligible: same people held out as with everyone eligible.
    everyone = _decide(wealth_template, IDS).filter(pl.col("user_id").is_in(list(consented)))
    assert eligible.get_column("decision").equals(everyone.get_column("decision"))


def test_hash_bucket_is_sha256_based_and_in_range() -> None:
    digest = hashlib.sha256(b"c1\x1fu1").digest()
    assert hash_bucket("c1", "u1") == int.from_bytes(digest[:8], "big") / 2**64 * 100
    buckets = holdout_buckets("c1", pl.Series(["u1", "u2", "u1", None]))
    assert buckets.height == 2
    assert buckets.get_column("holdout_bucket").is_between(0, 100, closed="left").all()


def test_vectorised_buckets_equal_scalar_buckets() -> None:
    ids = [f"id-{i}" for i in range(500)] + ["用户-1"]
    frame = holdout_buckets("camp", pl.Series(ids)).sort("user_id")
    expected = [hash_bucket("camp", u) for u in frame.get_column("user_id")]
    assert frame.get_column("holdout_bucket").to_list() == pytest.approx(expected, rel=1e-12, abs=1e-12)

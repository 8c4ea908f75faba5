"""A/B variants: deterministic assignment near the weights, independent of the holdout, one template each."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from campaigns import (
    CampaignFileError,
    CampaignMismatchError,
    decide_recipients,
    dry_run,
    load_template,
    template_path,
)
from campaigns.eligibility.holdout_assignment import holdout_buckets
from campaigns.eligibility.variant_assignment import assign_variants
from tests.campaigns.conftest import (
    AS_OF,
    SEND_AT,
    campaign_for,
    consents_frame,
    granted,
    make_template,
    people_frame,
)

N = 4000


def _variant_campaign(template, holdout_pct=10, **overrides):
    return campaign_for(template, holdout_pct=holdout_pct, variants=[
        {"name": "A", "template": {"id": "wealth_welcome", "version": 1}, "weight": 70},
        {"name": "B", "template": {"id": "wealth_welcome", "version": 2}, "weight": 30},
    ], **overrides)


@pytest.fixture
def arms():
    return {"A": load_template(template_path("wealth_welcome", 1)), "B": load_template(template_path("wealth_welcome", 2))}


@pytest.fixture
def crowd():
    ids = [f"u{i:05d}" for i in range(N)]
    people = people_frame([(u, date(1990, 1, 1), False, "C3") for u in ids])
    return people, consents_frame([granted(u) for u in ids])


def test_split_is_deterministic_close_to_weights_and_independent_of_holdout(arms, crowd) -> None:
    people, consents = crowd
    campaign = _variant_campaign(arms["A"])
    first = decide_recipients(people.select("user_id"), consents, people, campaign, arms["A"], AS_OF, send_at=SEND_AT,
                              variant_templates=arms)
    again = decide_recipients(people.select("user_id").reverse(), consents, people, campaign, arms["A"], AS_OF,
                              send_at=SEND_AT, variant_templates=arms)
    assert first.sort("user_id").equals(again.sort("user_id"))
    sends = first.filter(pl.col("decision") == "send")
    assert sends.get_column("variant").null_count() == 0
    assert first.filter(pl.col("decision") != "send").get_column("variant").null_count() == N - sends.height
    share_a = (sends.get_column("variant") == "A").mean()
    assert 0.67 < share_a < 0.73
    # Independence: the holdout rate is the same within each variant's assignment.
    every = assign_variants(campaign.campaign_id, people.get_column("user_id"), campaign.arms).join(
        holdout_buckets(campaign.campaign_id, people.get_column("user_id")), on="user_id")
    rates = every.group_by("variant").agg((pl.col("holdout_bucket") < 10).mean().alias("rate"))
    assert all(0.08 < rate < 0.12 for rate in rates.get_column("rate"))
    # Another campaign splits the same people differently.
    other = assign_variants("another", people.get_column("user_id"), campaign.arms)
    mine = assign_variants(campaign.campaign_id, people.get_column("user_id"), campaign.arms)
    assert (other.sort("user_id").get_column("variant") != mine.sort("user_id").get_column("variant")).any()


def test_dry_run_renders_each_person_with_their_variants_template(arms, crowd) -> None:
    people, consents = crowd
    segments = people.select("user_id").with_columns(pl.lit("Champions").alias("rfm_segment"),
                                                     pl.lit("稳健理财族").alias("persona_name"))
    result = dry_run(_variant_campaign(arms["A"]), arms["A"], segments, consents, people, AS_OF, "https://x/u",
                     send_at=SEND_AT, variant_templates=arms)
    messages = result.messages
    assert messages.height == (result.decisions.get_column("decision") == "send").sum()
    by_variant = messages.group_by("variant").agg(pl.col("subject").unique(), pl.col("content_sha256").unique())
    subjects = dict(zip(by_variant.get_column("variant"), by_variant.get_column("subject").to_list(), strict=True))
    assert subjects == {"A": [arms["A"].subject], "B": [arms["B"].subject]}
    assert messages.get_column("user_id").to_list() == result.decisions.filter(
        pl.col("decision") == "send").get_column("user_id").to_list()


def test_variants_must_share_the_rules_and_be_supplied(arms, crowd) -> None:
    people, consents = crowd
    campaign = _variant_campaign(arms["A"])
    with pytest.raises(CampaignMismatchError, match="no template given for variant 'B'"):
        decide_recipients(people.select("user_id"), consents, people, campaign, arms["A"], AS_OF)
    riskier = make_template(version=2, risk_grade="R3")
    with pytest.raises(CampaignMismatchError, match="risk_grade"):
        decide_recipients(people.select("user_id"), consents, people, campaign, arms["A"], AS_OF,
                          variant_templates={"A": arms["A"], "B": riskier})


@pytest.mark.parametrize(
    ("variants", "key"),
    [
        ([{"name": "A", "template": {"id": "wealth_welcome", "version": 1}, "weight": 0}], "variants[0].weight"),
        ([{"name": "A", "template": {"id": "wealth_welcome", "version": 1}, "weight": 1},
          {"name": "A", "template": {"id": "wealth_welcome", "version": 2}, "weight": 1}], "variants"),
        ([{"name": "A", "template": {"id": "wealth_welcome"}, "weight": 1}], "variants[0].template.version"),
        ([{"name": "A", "template": {"id": "other", "version": 1}, "weight": 1}], "template"),
        ([], "variants"),
    ],
)
def test_bad_variants_name_the_key(arms, variants, key) -> None:
    with pytest.raises(CampaignFileError) as error:
        campaign_for(arms["A"], variants=variants)
    assert f"key '{key}'" in str(error.value)


def test_template_may_be_left_out_when_variants_are_given(arms) -> None:
    campaign = campaign_for(arms["A"], template=None, variants=[
        {"name": "B", "template": {"id": "wealth_welcome", "version": 2}, "weight": 1}])
    assert (campaign.template_id, campaign.template_version) == ("wealth_welcome", 2)
    assert [arm.name for arm in campaign.arms] == ["B"]


@pytest.mark.parametrize("value", ["2026-07-01 10:00", "tomorrow", 5])
def test_send_at_must_be_a_zoned_instant(arms, value) -> None:
    with pytest.raises(CampaignFileError, match="key 'send_at'"):
        campaign_for(arms["A"], send_at=value)

"""Dry run end to end with the shipped template and campaign."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from campaigns import (
    audience_funnel,
    DECISION_SCHEMA,
    MESSAGE_SCHEMA,
    CampaignMismatchError,
    campaign_paths,
    dry_run,
    load_campaign,
)
from tests.campaigns.conftest import (
    AS_OF,
    consents_frame,
    granted,
    make_template,
    people_frame,
)

N = 400


def _inputs():
    ids = [f"p{i:04d}" for i in range(N)]
    segments = pl.DataFrame({
        "user_id": ids,
        "persona_id": [i % 3 for i in range(N)],
        "persona_name": [["稳健理财族", "精打细算族", "年轻消费族"][i % 3] for i in range(N)],
        "rfm_segment": [["New customers", "Promising", "At risk", "Champions"][i % 4] for i in range(N)],
    })
    people = people_frame([
        (u, date(2012, 1, 1) if i % 10 == 3 else date(1985, 1, 1), False, ["C1", "C2", "C3", None][i % 4 if i % 7 else 2])
        for i, u in enumerate(ids)
    ])
    consents = consents_frame([granted(u) for i, u in enumerate(ids) if i % 5])
    contacts = {u: f"{u}@mail.example.cn" for u in ids}  # stays outside every frame the dry run sees
    return segments, people, consents, contacts


def test_dry_run_with_shipped_files(wealth_template) -> None:
    segments, people, consents, contacts = _inputs()
    campaign = load_campaign(campaign_paths()[0])
    result = dry_run(campaign, wealth_template, segments, consents, people, AS_OF, "https://example.com/unsub")
    decisions, messages, funnel = result.decisions, result.messages, result.funnel
    audience = segments.filter(pl.col("rfm_segment").is_in(["New customers", "Promising", "Potential loyalist"]))
    assert decisions.height == audience.height
    assert dict(decisions.schema) == DECISION_SCHEMA and dict(messages.schema) == MESSAGE_SCHEMA
    sends = decisions.filter(pl.col("decision") == "send")
    assert sends.height > 0
    assert messages.get_column("user_id").to_list() == sends.get_column("user_id").to_list()
    assert decisions.filter(pl.col("decision") != "excluded").get_column("reason_codes").list.len().max() == 0
    assert decisions.filter(pl.col("decision") == "excluded").get_column("reason_codes").list.len().min() >= 1
    first = messages.row(0, named=True)
    assert first["subject"].startswith("【广告】")
    assert f"https://example.com/unsub?c={campaign.campaign_id}&u={first['user_id']}" in first["text_body"]
    assert "{{" not in "".join(messages.get_column("text_body"))
    text = "".join(str(v) for frame in (decisions, messages, funnel) for v in frame.rows())
    assert not any(email in text for email in contacts.values())
    # Funnel: audience -> rules in pack order -> holdout; the last step leaves exactly the sends.
    assert funnel.get_column("step").to_list() == [
        "audience", "CN-CONTACT-01", "CN-EM-01", "CN-EM-04", "CN-PI-02", "CN-PI-01", "CN-LOAN-05", "CN-SUIT-01", "CN-FREQ-01",
        "CN-FREQ-02", "holdout"]
    assert funnel.get_column("remaining").to_list()[0] == audience.height
    assert funnel.get_column("remaining").to_list()[-1] == sends.height
    excluded_total = funnel.filter(pl.col("step").str.starts_with("CN-")).get_column("excluded").sum()
    assert excluded_total == (decisions.get_column("decision") == "excluded").sum()
    assert (funnel.get_column("failing") >= funnel.get_column("excluded")).all()
    # Everyone can be reached; nobody is suppressed, lacks cross-border consent, opted out of personalisation or
    # was messaged before, and 10:00 local is outside quiet hours; every other step excludes someone.
    quiet = ["CN-CONTACT-01", "CN-EM-04", "CN-PI-02", "CN-PI-01", "CN-FREQ-01", "CN-FREQ-02"]
    steps = funnel.filter(~pl.col("step").is_in(["audience", *quiet]))
    assert (steps.get_column("excluded") > 0).all()
    assert funnel.filter(pl.col("step") == "CN-EM-04").get_column("failing").item() == 0


def test_rendered_customer_copy_never_carries_an_internal_label(wealth_template) -> None:
    """An internal persona label, id or segment name never reaches a customer's message."""
    segments, people, consents, _ = _inputs()
    segments = segments.with_columns(pl.lit("Payment-led, frequent buyers").alias("persona_name"))
    result = dry_run(load_campaign(campaign_paths()[0]), wealth_template, segments, consents, people, AS_OF,
                     "https://x/u")
    text = " ".join(result.messages.get_column("text_body")) + " ".join(result.messages.get_column("subject"))
    assert result.messages.height > 0
    assert "Payment-led" not in text and "frequent buyers" not in text
    assert not any(segment in text for segment in segments.get_column("rfm_segment").unique())


def test_dry_run_rejects_a_template_the_campaign_does_not_use() -> None:
    segments, people, consents, _ = _inputs()
    other = make_template(version=2)
    with pytest.raises(CampaignMismatchError, match="wealth_welcome@2"):
        dry_run(load_campaign(campaign_paths()[0]), other, segments, consents, people, AS_OF, "https://x/u")


def test_naive_as_of_is_rejected(wealth_template) -> None:
    segments, people, consents, _ = _inputs()
    with pytest.raises(ValueError, match="timezone-aware"):
        dry_run(load_campaign(campaign_paths()[0]), wealth_template, segments, consents, people,
                AS_OF.replace(tzinfo=None), "https://x/u")


def test_funnel_default_steps_and_counts() -> None:
    decisions = pl.DataFrame({
        "user_id": ["a", "b", "c", "d", "e"],
        "decision": ["excluded", "excluded", "excluded", "holdout", "send"],
        "reason_codes": [["R-1:x", "R-2:y"], ["R-2:y"], ["R-1:z"], [], []],
    })
    funnel = audience_funnel(decisions)
    assert funnel.rows() == [
        ("audience", 5, 0, 0), ("R-1", 3, 2, 2), ("R-2", 2, 1, 2), ("holdout", 1, 1, 1)
    ]
    explicit = audience_funnel(decisions, ["R-1", "R-0", "R-2"])
    assert explicit.get_column("step").to_list() == ["audience", "R-1", "R-0", "R-2", "holdout"]
    assert explicit.filter(pl.col("step") == "R-0").get_column("excluded").item() == 0

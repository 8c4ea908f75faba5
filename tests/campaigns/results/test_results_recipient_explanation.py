"""The per-recipient answer: outcome, every rule passed or failed with reasons in both languages, masking."""

from __future__ import annotations

from datetime import UTC, datetime

from campaigns.results.recipient_explanation import (
    ProviderEvent,
    RecordedDecision,
    RuleRef,
    explain_recipient,
    mask_contact,
    reason_texts,
)

AT = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
RULES = [RuleRef("CN-EM-01", "consent", "Prior consent for commercial e-mail"),
         RuleRef("CN-LOAN-05", "min_age", "No credit or investment marketing to minors")]


def _decision(decision: str, reasons: str = "", variant: str | None = None) -> RecordedDecision:
    return RecordedDecision(decision, reasons, variant, "launch", AT, AT, "CN-2026.3+abc", "wealth_welcome@1")


def test_an_excluded_person_gets_each_rule_with_its_reason_in_both_languages():
    answer = explain_recipient("u1", "c1", _decision("excluded", "CN-EM-01:consent_withdrawn,CN-XX-09:odd_code"), True,
                               RULES, (), None, None, None, (), "mei@example.com", may_see_contact=False)
    assert answer.outcome == "excluded" and not answer.holdout
    by_rule = {r.rule_id: r for r in answer.rules}
    assert not by_rule["CN-EM-01"].passed and by_rule["CN-EM-01"].reason_code == "consent_withdrawn"
    assert "withdrawn" in by_rule["CN-EM-01"].reason_en and "撤回" in by_rule["CN-EM-01"].reason_zh
    assert by_rule["CN-LOAN-05"].passed and by_rule["CN-LOAN-05"].reason_zh.startswith("通过")
    # A rule only the reason codes name is listed too, never dropped.
    assert not by_rule["CN-XX-09"].passed and by_rule["CN-XX-09"].reason_code == "odd_code"
    assert answer.contact == "m***@example.com" and answer.contact_masked


def test_outcomes_sent_holdout_not_in_audience_and_not_launched():
    events = (ProviderEvent("open", AT.replace(hour=5)), ProviderEvent("delivered", AT.replace(hour=3)))
    sent = explain_recipient("u1", "c1", _decision("send", variant="B"), True, RULES, (), "00001", "accepted", None,
                             events, "13800001234", may_see_contact=True)
    assert (sent.outcome, sent.variant, sent.batch_state, sent.contact) == ("sent", "B", "accepted", "13800001234")
    assert [e.event for e in sent.events] == ["delivered", "open"]
    assert all(rule.passed for rule in sent.rules)
    held = explain_recipient("u1", "c1", _decision("holdout"), True, RULES, (), None, None, None, (), None, True)
    assert held.outcome == "holdout" and held.holdout
    assert explain_recipient("u1", "c1", None, True, RULES, (), None, None, None, (), None, True).outcome == \
        "not_in_audience"
    assert explain_recipient("u1", "c1", _decision("send"), False, RULES, (), None, None, None, (), None,
                             True).outcome == "not_launched"


def test_masking_and_reason_families():
    assert mask_contact("13800001234") == "138****1234"
    assert mask_contact(None) is None
    assert reason_texts("suppressed_bounce")[1] == "因退信被屏蔽"
    assert reason_texts("cross_border_consent_missing") == ("no cross-border consent on record", "没有出境同意记录")
    assert reason_texts("never_heard_of") == ("never_heard_of", "never_heard_of")

"""The US and EU recipient rule packs decide small hand-made audiences."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import polars as pl

from campaigns import decide_recipients, shipped_rule_pack
from tests.campaigns.conftest import (
    AS_OF,
    campaign_for,
    consents_frame,
    granted,
    make_template,
    people_frame,
    ts,
)

ADULT = date(1990, 5, 1)
# 10:00 in New York and 16:00 in Berlin.
DAYTIME = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def decide(people, consents, template, campaign=None, send_at=DAYTIME, suppressions=None):
    campaign = campaign or campaign_for(template, channel=template.channel)
    out = decide_recipients(people.select("user_id"), consents, people, campaign, template, AS_OF, send_at=send_at,
                            suppressions=suppressions)
    assert out.get_column("rule_version").unique().to_list() == [shipped_rule_pack(template.jurisdiction).rule_version]
    return dict(zip(out.get_column("user_id").to_list(), out.get_column("reason_codes").to_list(), strict=True))


def us(**overrides):
    return make_template(jurisdiction="US", template_id="us_offer", **overrides)


def eu(**overrides):
    return make_template(jurisdiction="EU", template_id="eu_offer", **overrides)


def test_us_pack_honours_opt_outs_prescreen_and_age() -> None:
    loan = us(product_type="loan", risk_grade=None, is_personalized=False)
    people = people_frame([(u, ADULT, False, None) for u in ("ok", "no_record", "opted_out", "suppressed", "prescreen_out")]
                          + [("minor", date(2012, 1, 1), False, None)], country="US", timezone="America/New_York")
    consents = consents_frame([
        ("opted_out", "email", "marketing", "granted", ts("2025-01-01T00:00:00"), "e1"),
        ("opted_out", "email", "marketing", "withdrawn", ts("2025-03-01T00:00:00"), "e2"),
        ("ok", "email", "prescreen", "granted", ts("2025-01-01T00:00:00"), "f1"),
        ("prescreen_out", "email", "prescreen", "withdrawn", ts("2025-01-01T00:00:00"), "f2"),
    ], cross_border=False)
    suppressions = pl.DataFrame({"user_id": ["suppressed"], "reason": ["unsubscribe"]})
    plain = decide(people, consents, loan, suppressions=suppressions)
    # CAN-SPAM is opt-out: no consent record needed, but every opt-out is honoured.
    assert plain == {
        "ok": [], "no_record": [], "opted_out": ["US-CS-06-OPTOUT:marketing_opt_out"],
        "suppressed": ["US-CS-06:suppressed_unsubscribe"], "prescreen_out": [], "minor": ["US-AGE-01:under_min_age"],
    }
    prescreened = campaign_for(loan, uses_consumer_report=True)
    reasons = decide(people, consents, loan, campaign=prescreened, suppressions=suppressions)
    assert reasons["ok"] == []
    assert reasons["prescreen_out"] == ["US-FCRA-01:prescreen_opt_out"]
    assert reasons["no_record"] == ["US-FCRA-01:prescreen_status_unknown"]  # fail closed


def test_us_texts_only_between_8_and_21_local_and_unknown_zones_fail_closed() -> None:
    sms = us(channel="sms", subject=None, html_body=None, is_personalized=False, placeholders=[],
             text_body="Example Finance: new savings account. Reply STOP to opt out.")
    people = pl.concat([
        people_frame([("ny", ADULT, False, None)], country="US", timezone="America/New_York"),
        people_frame([("la", ADULT, False, None)], country="US", timezone="America/Los_Angeles"),
        people_frame([("nowhere", ADULT, False, None)], country="US", timezone=None),
    ])
    consents = consents_frame([], cross_border=False)
    # 10:00 in New York is 07:00 in Los Angeles.
    at_ten_ny = decide(people, consents, sms, send_at=datetime(2026, 3, 2, 15, 0, tzinfo=UTC))
    assert at_ten_ny == {"ny": [], "la": ["US-TCPA-01:quiet_hours"], "nowhere": ["US-TCPA-01:timezone_unknown"]}
    # E-mail has no TCPA window.
    email = us(is_personalized=False)
    assert decide(people, consents, email, send_at=datetime(2026, 3, 2, 15, 0, tzinfo=UTC))["la"] == []


def test_eu_pack_consent_soft_opt_in_objection_profiling_and_age() -> None:
    wealth = eu()  # personalised wealth template
    loan = eu(product_type="loan", risk_grade=None, is_personalized=False)
    people = pl.concat([
        people_frame([(u, ADULT, False, "C3") for u in ("consented", "none", "soft", "objected", "profiled_out")]
                     + [("minor", date(2012, 1, 1), False, "C3")], country="DE", timezone="Europe/Berlin"),
        people_frame([("no_zone", ADULT, False, "C3")], country="FR", timezone=None),
    ])
    consents = consents_frame([
        granted("consented"), granted("objected"), granted("profiled_out"), granted("minor"), granted("no_zone"),
        ("soft", "email", "marketing", "granted", ts("2025-01-01T00:00:00"), "order-1"),
        ("objected", "sms", "marketing", "withdrawn", ts("2025-02-01T00:00:00"), "o1"),
        ("profiled_out", "email", "personalization", "withdrawn", ts("2025-02-01T00:00:00"), "p1"),
    ], cross_border=False).with_columns(
        pl.when(pl.col("user_id") == "soft").then(pl.lit("soft_opt_in")).otherwise(pl.lit("signup_flow")).alias("source"))
    on_wealth = decide(people, consents, wealth)
    assert on_wealth == {
        "consented": [], "none": ["EU-CONS-01:consent_missing"], "soft": [],
        "objected": ["EU-CONS-03-OBJ:direct_marketing_objection"],
        "profiled_out": ["EU-PROF-01:profiling_objection"], "minor": ["EU-CHILD-01:under_min_age"],
        "no_zone": ["EU-POL-02:timezone_unknown"],
    }
    on_loan = decide(people, consents, loan)
    assert on_loan["soft"] == ["EU-CONS-01:soft_opt_in_not_similar_product"]  # soft opt-in: own similar products only
    assert on_loan["profiled_out"] == []  # not personalised
    assert on_loan["consented"] == []
    late = decide(people, consents, wealth, send_at=datetime(2026, 3, 2, 21, 30, tzinfo=timezone(timedelta(hours=1))))
    assert late["consented"] == ["EU-POL-02:quiet_hours"]

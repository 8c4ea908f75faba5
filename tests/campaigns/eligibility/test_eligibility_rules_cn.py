"""Each recipient rule on hand-made people."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import polars as pl

from campaigns import decide_recipients, shipped_rule_pack
from tests.campaigns.conftest import (
    AS_OF,
    SEND_AT,
    campaign_for,
    consents_frame,
    granted,
    make_template,
    people_frame,
    ts,
)

ADULT = date(1990, 5, 1)


def decide(people: pl.DataFrame, consents: pl.DataFrame, template, as_of: datetime = AS_OF,
           send_at: datetime = SEND_AT) -> dict[str, list[str]]:
    audience = people.select("user_id")
    out = decide_recipients(audience, consents, people, campaign_for(template), template, as_of, send_at=send_at)
    assert out.height == audience.height
    return dict(zip(out.get_column("user_id").to_list(), out.get_column("reason_codes").to_list(), strict=True))


def test_consent_rules(wealth_template) -> None:
    people = people_frame([(u, ADULT, False, "C3") for u in "abcdefgh"])
    consents = consents_frame([
        granted("a"),
        ("b", "email", "marketing", "withdrawn", ts("2025-06-01T00:00:00"), "ev"),
        granted("c", "2025-01-01T00:00:00"),
        ("c", "email", "marketing", "withdrawn", ts("2025-02-01T00:00:00"), "ev"),
        granted("c", "2025-03-01T00:00:00"),  # re-granted after withdrawing
        granted("d", "2025-01-01T00:00:00"),
        ("d", "email", "marketing", "withdrawn", ts("2025-02-01T00:00:00"), "ev"),
        granted("e", "2026-03-02T00:00:00"),  # recorded after as_of: not yet valid
        ("f", "sms", "marketing", "granted", ts("2025-01-01T00:00:00"), "ev"),  # wrong channel
        ("g", "email", "marketing", "granted", ts("2025-01-01T00:00:00"), None),  # no evidence
        granted("h", "2025-01-01T00:00:00"),
        ("h", "email", "marketing", "withdrawn", ts("2025-01-01T00:00:00"), "ev"),  # same instant: withdrawal wins
    ])
    reasons = decide(people, consents, wealth_template)
    assert reasons["a"] == []
    assert reasons["b"] == ["CN-EM-01:consent_withdrawn"]
    assert reasons["c"] == []
    assert reasons["d"] == ["CN-EM-01:consent_withdrawn"]
    assert reasons["e"] == ["CN-EM-01:consent_missing"]
    assert reasons["f"] == ["CN-EM-01:consent_missing"]
    assert reasons["g"] == ["CN-EM-01:consent_without_evidence"]
    assert reasons["h"] == ["CN-EM-01:consent_withdrawn"]


def test_consent_withdrawn_after_as_of_still_counts_as_granted(wealth_template) -> None:
    people = people_frame([("a", ADULT, False, "C3")])
    consents = consents_frame([granted("a"), ("a", "email", "marketing", "withdrawn", ts("2026-04-01T00:00:00"), "x")])
    assert decide(people, consents, wealth_template)["a"] == []
    assert decide(people, consents, wealth_template, as_of=ts("2026-05-01T00:00:00"))["a"] == [
        "CN-EM-01:consent_withdrawn"
    ]


def _ages(reasons: dict[str, list[str]]) -> dict[str, list[str]]:
    return {user: [code for code in codes if code.startswith("CN-LOAN-05")] for user, codes in reasons.items()}


def test_age_rule_uses_the_local_date_of_the_send_instant_and_fails_closed(wealth_template) -> None:
    # 2026-02-28T20:00Z is already 1 March in Shanghai.
    send_at = datetime(2026, 2, 28, 20, 0, tzinfo=UTC)
    people = people_frame([
        ("adult", ADULT, False, "C3"),
        ("minor", date(2010, 1, 1), False, "C3"),
        ("birthday_today", date(2008, 3, 1), False, "C3"),
        ("birthday_tomorrow", date(2008, 3, 2), False, "C3"),
        ("leap_day", date(2008, 2, 29), False, "C3"),
        ("unknown", None, False, "C3"),
    ])
    consents = consents_frame([granted(u) for u in people.get_column("user_id")])
    reasons = _ages(decide(people, consents, wealth_template, as_of=send_at - timedelta(days=30), send_at=send_at))
    assert reasons["adult"] == []
    assert reasons["minor"] == ["CN-LOAN-05:under_min_age"]
    assert reasons["birthday_today"] == []
    assert reasons["birthday_tomorrow"] == ["CN-LOAN-05:under_min_age"]
    assert reasons["leap_day"] == []
    assert reasons["unknown"] == ["CN-LOAN-05:birth_date_unknown"]
    # Five UTC hours earlier it is still 28 February in Shanghai and the leap-day person is 17.
    earlier = _ages(decide(people, consents, wealth_template, as_of=send_at - timedelta(days=30),
                           send_at=send_at - timedelta(hours=5)))
    assert earlier["birthday_today"] == ["CN-LOAN-05:under_min_age"]
    assert earlier["leap_day"] == ["CN-LOAN-05:under_min_age"]


def test_age_and_assessment_expiry_are_judged_at_the_send_instant_not_at_as_of() -> None:
    """Data as of 1 March, mailed 1 June: a person who turns 18 in April may be mailed, and an assessment
    that is 334 days old at as-of but 426 days old at the send instant has expired."""
    r3 = make_template(template_id="wealth_r3", risk_grade="R3")
    as_of, send_at = ts("2026-03-01T04:00:00"), ts("2026-06-01T02:00:00")
    people = people_frame([("turns_18", date(2008, 4, 1), False, "C3"), ("assessed", ADULT, False, "C3")])
    people = people.with_columns(pl.Series("risk_assessed_at", [ts("2026-01-05T00:00:00"), ts("2025-04-01T00:00:00")],
                                           pl.Datetime("us", "UTC")))
    reasons = decide(people, consents_frame([granted(u) for u in ("turns_18", "assessed")]), r3, as_of=as_of,
                     send_at=send_at)
    assert reasons == {"turns_18": [], "assessed": ["CN-SUIT-01:risk_assessment_expired"]}


def test_contactability_is_a_rule_before_holdout_with_its_own_reason(wealth_template) -> None:
    """People without an address (or sharing an earlier person's) are excluded by a rule of their own, so the
    counts and the holdout only hold people who can be reached."""
    reachable = people_frame([(f"r{i:02d}", ADULT, False, "C3") for i in range(40)])
    missing = people_frame([(f"m{i:02d}", ADULT, False, "C3") for i in range(40)], reach="missing")
    shared = people_frame([("s00", ADULT, False, "C3")], reach="shared")
    people = pl.concat([reachable, missing, shared])
    consents = consents_frame([granted(u) for u in people.get_column("user_id")])
    audience = pl.DataFrame({"user_id": people.get_column("user_id")})
    out = decide_recipients(audience, consents, people, campaign_for(wealth_template, holdout_pct=30),
                            wealth_template, AS_OF, send_at=SEND_AT)
    by_user = {row["user_id"]: row for row in out.iter_rows(named=True)}
    assert all(by_user[f"m{i:02d}"]["decision"] == "excluded" for i in range(40))
    assert by_user["m00"]["reason_codes"] == ["CN-CONTACT-01:no_email"]
    assert by_user["s00"]["reason_codes"] == ["CN-CONTACT-01:shared_email"]
    # The holdout is drawn among reachable people only.
    held = out.filter(pl.col("decision") == "holdout").get_column("user_id").to_list()
    assert held and all(user.startswith("r") for user in held)
    no_column = decide_recipients(audience, consents, people.drop("email_reach"), campaign_for(wealth_template),
                                  wealth_template, AS_OF, send_at=SEND_AT)
    assert set(no_column.get_column("decision")) == {"excluded"}  # fail closed


def test_students_excluded_only_for_credit(credit_template, wealth_template) -> None:
    people = people_frame([("student", ADULT, True, "C5"), ("worker", ADULT, False, "C5"), ("unknown", ADULT, None, "C5")])
    consents = consents_frame([granted(u) for u in ("student", "worker", "unknown")])
    credit = decide(people, consents, credit_template)
    assert credit == {
        "student": ["CN-LOAN-04:student"], "worker": [], "unknown": ["CN-LOAN-04:student_status_unknown"]
    }
    assert all(codes == [] for codes in decide(people, consents, wealth_template).values())


def test_suitability_r_within_c() -> None:
    r4 = make_template(template_id="equity_fund", product_type="public_fund", risk_grade="R4")
    people = people_frame([
        ("c2", ADULT, False, "C2"), ("c4", ADULT, False, "C4"), ("c5", ADULT, False, "C5"),
        ("missing", ADULT, False, None), ("garbage", ADULT, False, "high"),
    ])
    consents = consents_frame([granted(u) for u in people.get_column("user_id")])
    reasons = decide(people, consents, r4)
    assert reasons["c2"] == ["CN-SUIT-01:risk_above_tolerance"]
    assert reasons["c4"] == [] and reasons["c5"] == []
    assert reasons["missing"] == ["CN-SUIT-01:risk_level_missing"]
    assert reasons["garbage"] == ["CN-SUIT-01:risk_level_missing"]


def test_suitability_is_not_applied_to_credit(credit_template) -> None:
    people = people_frame([("c1", ADULT, False, None)])
    assert decide(people, consents_frame([granted("c1")]), credit_template)["c1"] == []


def test_expired_risk_assessment_when_column_given(wealth_template) -> None:
    people = people_frame([("fresh", ADULT, False, "C3"), ("stale", ADULT, False, "C3"), ("none", ADULT, False, "C3")])
    people = people.with_columns(
        pl.Series("risk_assessed_at", [ts("2025-12-01T00:00:00"), ts("2024-12-01T00:00:00"), None],
                  pl.Datetime("us", "UTC"))
    )
    reasons = decide(people, consents_frame([granted(u) for u in ("fresh", "stale", "none")]), wealth_template)
    assert reasons == {
        "fresh": [], "stale": ["CN-SUIT-01:risk_assessment_expired"], "none": ["CN-SUIT-01:risk_assessment_missing"]
    }


def test_all_failures_listed_in_rule_order_and_unknown_person_fails_closed(credit_template) -> None:
    people = people_frame([("kid", date(2012, 1, 1), True, "C1")])
    audience = pl.DataFrame({"user_id": ["kid", "ghost", "kid"]})
    out = decide_recipients(
        audience, consents_frame([]), people, campaign_for(credit_template), credit_template, AS_OF, send_at=SEND_AT
    )
    assert out.get_column("user_id").to_list() == ["kid", "ghost"]
    assert out.get_column("reason_codes").to_list() == [
        ["CN-EM-01:consent_missing", "CN-PI-02:cross_border_consent_missing", "CN-LOAN-05:under_min_age",
         "CN-LOAN-04:student"],
        # An unknown person: no address known, residence unknown counts as CN (cross-border consent needed),
        # zone unknown falls back to Asia/Shanghai (10:00, outside quiet hours).
        ["CN-CONTACT-01:no_email", "CN-EM-01:consent_missing", "CN-PI-02:cross_border_consent_missing",
         "CN-LOAN-05:birth_date_unknown", "CN-LOAN-04:student_status_unknown"],
    ]
    assert out.get_column("decision").to_list() == ["excluded", "excluded"]
    assert out.get_column("rule_version").unique().to_list() == [shipped_rule_pack("CN").rule_version]
    assert out.schema["reason_codes"] == pl.List(pl.String)

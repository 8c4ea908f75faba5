"""Cross-border consent, personalised-marketing opt-out, frequency caps and quiet hours (CN pack)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import polars as pl
import pytest

from campaigns import (
    library_dir,
    RulePackFileError,
    decide_recipients,
    load_rule_pack,
    shipped_rule_pack,
)
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


def reasons_of(out: pl.DataFrame) -> dict[str, list[str]]:
    return dict(zip(out.get_column("user_id").to_list(), out.get_column("reason_codes").to_list(), strict=True))


def decide(people, consents, template, campaign=None, send_at=SEND_AT, recent_sends=None, rule_pack=None):
    campaign = campaign or campaign_for(template, channel=template.channel)
    out = decide_recipients(people.select("user_id"), consents, people, campaign, template, AS_OF, send_at=send_at,
                            recent_sends=recent_sends, rule_pack=rule_pack)
    return reasons_of(out)


def sms_template(**overrides):
    data = {"channel": "sms", "subject": None, "html_body": None, "is_personalized": False,
            "text_body": "【示例】理财非存款、产品有风险、投资须谨慎。示例数字金融服务有限公司 客服电话 400-000-0000 回复TD退订",
            "placeholders": []}
    data.update(overrides)
    return make_template(template_id="wealth_sms", **data)


# --- CN-PI-02 cross-border consent -------------------------------------------------------------------------


def test_cn_resident_needs_cross_border_consent_for_sendgrid_but_not_for_a_domestic_sms_vendor(wealth_template) -> None:
    people = pl.concat([
        people_frame([("cn_no", ADULT, False, "C3"), ("cn_yes", ADULT, False, "C3"), ("cn_withdrawn", ADULT, False, "C3"),
                      ("cn_no_evidence", ADULT, False, "C3")]),
        people_frame([("hk_no", ADULT, False, "C3")], country="HK", timezone="Asia/Hong_Kong"),
        people_frame([("where_no", ADULT, False, "C3")], country=None),
    ])
    ids = people.get_column("user_id").to_list()
    marketing = [granted(u) for u in ids] + [(u, "sms", "marketing", "granted", ts("2025-01-01T00:00:00"), "ev") for u in ids]
    cross = [
        ("cn_yes", "email", "cross_border", "granted", ts("2025-01-01T00:00:00"), "xb-1"),
        ("cn_withdrawn", "email", "cross_border", "granted", ts("2025-01-01T00:00:00"), "xb-2"),
        ("cn_withdrawn", "email", "cross_border", "withdrawn", ts("2025-06-01T00:00:00"), "xb-3"),
        ("cn_no_evidence", "email", "cross_border", "granted", ts("2025-01-01T00:00:00"), None),
    ]
    consents = consents_frame(marketing + cross, cross_border=False)
    email = decide(people, consents, wealth_template)
    assert email["cn_no"] == ["CN-PI-02:cross_border_consent_missing"]
    assert email["cn_yes"] == []
    assert email["cn_withdrawn"] == ["CN-PI-02:cross_border_consent_withdrawn"]
    assert email["cn_no_evidence"] == ["CN-PI-02:cross_border_consent_without_evidence"]
    assert email["hk_no"] == []  # not a CN resident
    assert email["where_no"] == ["CN-PI-02:cross_border_consent_missing"]  # unknown residence fails closed
    # The same people through a domestic SMS vendor: no transfer abroad, nobody needs the extra consent.
    sms = sms_template()
    assert all(codes == [] for codes in decide(people, consents, sms).values())
    # A campaign that routes SMS through a vendor abroad says so, and the rule applies again (SMS consent).
    abroad = decide(people, consents, sms, campaign=campaign_for(sms, channel="sms", provider_country="US"))
    assert abroad["cn_yes"] == ["CN-PI-02:cross_border_consent_missing"]  # the e-mail consent does not cover SMS
    assert abroad["hk_no"] == []


# --- CN-PI-01 personalised-marketing opt-out ----------------------------------------------------------------


def test_personalised_marketing_opt_out(wealth_template) -> None:
    people = people_frame([("out", ADULT, False, "C3"), ("in", ADULT, False, "C3"), ("silent", ADULT, False, "C3")])
    consents = consents_frame([
        granted("out"), granted("in"), granted("silent"),
        ("out", "push", "personalization", "granted", ts("2025-01-01T00:00:00"), "p1"),
        ("out", "push", "personalization", "withdrawn", ts("2025-05-01T00:00:00"), "p2"),  # any channel counts
        ("in", "email", "personalization", "granted", ts("2025-01-01T00:00:00"), "p3"),
    ])
    assert wealth_template.is_personalized
    personalised = decide(people, consents, wealth_template)
    assert personalised == {"out": ["CN-PI-01:personalised_marketing_opt_out"], "in": [], "silent": []}
    # A non-personalised template to an RFM segment: the opt-out does not apply.
    plain = make_template(is_personalized=False)
    assert all(codes == [] for codes in decide(people, consents, plain).values())
    # ...but an audience chosen by a model (persona clusters) is personalised marketing.
    by_persona = campaign_for(plain, segment={"persona_id": ["1"]})
    assert decide(people, consents, plain, campaign=by_persona)["out"] == ["CN-PI-01:personalised_marketing_opt_out"]


# --- CN-FREQ-01 frequency cap ---------------------------------------------------------------------------------


def _sends(rows: list[tuple[str, str, str, datetime]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"user_id": pl.String, "campaign_id": pl.String, "state": pl.String,
                                      "sent_at": pl.Datetime("us", "UTC")}, orient="row")


def test_frequency_cap_counts_previous_campaigns_from_the_ledger(wealth_template) -> None:
    people = people_frame([(u, ADULT, False, "C3") for u in ("two", "three", "old", "failed", "own", "unknown", "later")])
    consents = consents_frame([granted(u) for u in people.get_column("user_id")])
    day = timedelta(days=1)
    sends = _sends([
        ("two", "c1", "accepted", SEND_AT - 2 * day), ("two", "c2", "accepted", SEND_AT - 1 * day),
        ("three", "c1", "accepted", SEND_AT - 3 * day), ("three", "c2", "exported", SEND_AT - 2 * day),
        ("three", "c3", "sending", SEND_AT - 1 * day),
        ("old", "c1", "accepted", SEND_AT - 8 * day), ("old", "c2", "accepted", SEND_AT - 9 * day),
        ("old", "c3", "accepted", SEND_AT - 10 * day),
        ("failed", "c1", "failed", SEND_AT - day), ("failed", "c2", "planned", SEND_AT - day),
        ("failed", "c3", "accepted", SEND_AT - day),
        ("own", "test_campaign", "accepted", SEND_AT - day), ("own", "c1", "accepted", SEND_AT - day),
        ("own", "c2", "accepted", SEND_AT - day),
        ("unknown", "c1", "unknown", SEND_AT - day), ("unknown", "c2", "unknown", SEND_AT - day),
        ("unknown", "c3", "accepted", SEND_AT - day),
        # A campaign scheduled 2 days after this one also counts: every rolling 7-day window stays within 3.
        ("later", "c1", "accepted", SEND_AT + 2 * day), ("later", "c2", "accepted", SEND_AT - 2 * day),
        ("later", "c3", "accepted", SEND_AT + 1 * day),
    ])
    reasons = decide(people, consents, wealth_template, recent_sends=sends)
    assert reasons["two"] == []  # 2 before + this one = 3 = the CN cap
    assert reasons["three"] == ["CN-FREQ-01:frequency_cap_exceeded"]
    assert reasons["old"] == []  # outside the 7 days
    assert reasons["failed"] == []  # nothing was sent by a failed or planned batch
    assert reasons["own"] == []  # this campaign's own ledger rows do not count against it
    assert reasons["unknown"] == ["CN-FREQ-01:frequency_cap_exceeded"]  # an unknown outcome may have been sent
    assert reasons["later"] == ["CN-FREQ-01:frequency_cap_exceeded"]
    # Without a ledger nobody was messaged before.
    assert decide(people, consents, wealth_template)["three"] == []


def test_campaign_file_may_tighten_but_not_loosen_the_cap(wealth_template) -> None:
    people = people_frame([("a", ADULT, False, "C3")])
    consents = consents_frame([granted("a")])
    sends = _sends([("a", "c1", "accepted", SEND_AT - timedelta(days=20))])
    tight = campaign_for(wealth_template, frequency_cap={"max_messages": 1, "days": 30})
    assert decide(people, consents, wealth_template, campaign=tight, recent_sends=sends)["a"] == [
        "CN-FREQ-01:frequency_cap_exceeded"]
    loose = campaign_for(wealth_template, frequency_cap={"max_messages": 10, "days": 1})
    three = _sends([("a", f"c{i}", "accepted", SEND_AT - timedelta(days=3)) for i in range(3)])
    assert decide(people, consents, wealth_template, campaign=loose, recent_sends=three)["a"] == [
        "CN-FREQ-01:frequency_cap_exceeded"]


def test_scheduled_instant_of_a_previous_campaign_counts(wealth_template) -> None:
    """A campaign decided for yesterday but launched (sent_at) much later still counts at its scheduled instant."""
    people = people_frame([("a", ADULT, False, "C3")])
    sends = _sends([("a", f"c{i}", "accepted", SEND_AT + timedelta(days=200)) for i in range(3)]).with_columns(
        pl.lit(SEND_AT - timedelta(days=1)).cast(pl.Datetime("us", "UTC")).alias("scheduled_for"))
    assert decide(people, consents_frame([granted("a")]), wealth_template, recent_sends=sends)["a"] == [
        "CN-FREQ-01:frequency_cap_exceeded"]


# --- CN-FREQ-02 quiet hours ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("local", "quiet"),
    [("10:00", False), ("07:59", True), ("08:00", False), ("20:59", False), ("21:00", True), ("23:30", True),
     ("00:00", True)],
)
def test_quiet_hours_in_shanghai(wealth_template, local: str, quiet: bool) -> None:
    hour, minute = map(int, local.split(":"))
    send_at = datetime(2026, 3, 1, hour, minute, tzinfo=timezone(timedelta(hours=8)))
    people = people_frame([("a", ADULT, False, "C3")])
    reasons = decide(people, consents_frame([granted("a")]), wealth_template, send_at=send_at)
    assert reasons["a"] == (["CN-FREQ-02:quiet_hours"] if quiet else [])


def test_quiet_hours_use_each_persons_own_zone(wealth_template) -> None:
    people = pl.concat([
        people_frame([("shanghai", ADULT, False, "C3")]),
        people_frame([("new_york", ADULT, False, "C3")], country="US", timezone="America/New_York"),
        people_frame([("london", ADULT, False, "C3")], country="GB", timezone="Europe/London"),
        people_frame([("no_zone", ADULT, False, "C3")], timezone=None),
        people_frame([("bad_zone", ADULT, False, "C3")], timezone="Mars/Olympus_Mons"),
    ])
    consents = consents_frame([granted(u) for u in people.get_column("user_id")])
    # 10:00 in Shanghai is 21:00 the evening before in New York (EST) and 02:00 in London.
    at_ten = decide(people, consents, wealth_template, send_at=datetime(2026, 3, 1, 2, 0, tzinfo=UTC))
    assert at_ten == {"shanghai": [], "new_york": ["CN-FREQ-02:quiet_hours"], "london": ["CN-FREQ-02:quiet_hours"],
                      "no_zone": [], "bad_zone": []}  # unknown zones fall back to Asia/Shanghai (CN pack)
    # 22:00 in Shanghai is 09:00 in New York and 14:00 in London.
    at_night = decide(people, consents, wealth_template, send_at=datetime(2026, 3, 1, 14, 0, tzinfo=UTC))
    assert at_night == {"shanghai": ["CN-FREQ-02:quiet_hours"], "new_york": [], "london": [],
                        "no_zone": ["CN-FREQ-02:quiet_hours"], "bad_zone": ["CN-FREQ-02:quiet_hours"]}


def test_decision_records_the_send_instant_and_defaults_to_the_campaigns_schedule(wealth_template) -> None:
    people = people_frame([("a", ADULT, False, "C3")])
    night = datetime(2026, 3, 1, 23, 0, tzinfo=timezone(timedelta(hours=8)))
    campaign = campaign_for(wealth_template, send_at=night.isoformat())
    out = decide_recipients(people.select("user_id"), consents_frame([granted("a")]), people, campaign,
                            wealth_template, AS_OF)
    assert out.get_column("send_at").item() == night.astimezone(UTC)
    assert out.get_column("reason_codes").to_list() == [["CN-FREQ-02:quiet_hours"]]


# --- rule files ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ('start: "21:00"', 'start: "25:00"', "params.start"),
        ("max_messages: 3", "max_messages: 0", "params.max_messages"),
        ("when: personalized", "when: sometimes", "params.when"),
        ("default_timezone: Asia/Shanghai", "default_timezone: Asia/Atlantis", "params.default_timezone"),
    ],
)
def test_bad_rule_parameters_name_the_file_and_key(tmp_path, old: str, new: str, key: str) -> None:
    text = (library_dir() / "rules" / "cn.yaml").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "cn.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(RulePackFileError) as error:
        load_rule_pack(path)
    assert "cn.yaml" in str(error.value) and key in str(error.value)


def test_shipped_packs_load() -> None:
    for jurisdiction in ("CN", "US", "EU"):
        pack = shipped_rule_pack(jurisdiction)
        assert pack.jurisdiction == jurisdiction and pack.rules

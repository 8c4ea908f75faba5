"""Why one person was, or was not, sent a campaign: one answer for the console and the command line.

Pure: `explain_recipient` takes what the stores hold about the person and the campaign (the recorded
decision, the rules the decision ran through, consent records, the batch and its provider events) and
returns a frozen `RecipientExplanation`. `CampaignService.explain_recipient` gathers those inputs.

Every reason is given in English and Chinese. A contact detail appears only when the caller may see it,
otherwise masked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

OUTCOMES = ("sent", "holdout", "excluded", "not_in_audience", "not_launched")

# What each check asks, in Chinese (rule titles in the packs are English).
CHECK_TITLES_ZH: dict[str, str] = {
    "contactable": "可通过该渠道联系到本人（本人的地址、号码或推送令牌）",
    "not_suppressed": "尊重退订、退信和垃圾邮件投诉",
    "consent": "事先取得营销同意",
    "min_age": "不向未成年人营销信贷或投资产品",
    "not_student": "不向在校大学生营销信贷产品",
    "suitability": "产品风险等级不超过本人的风险承受能力",
    "cross_border_consent": "个人信息出境前取得单独同意",
    "opt_out": "个性化营销可被拒绝",
    "frequency_cap": "不超过联系频次上限",
    "quiet_hours": "不在免打扰时段发送",
}

# Reason codes (the part after `RULE-ID:`), in both languages. `{x}` is the variable part of a family.
_REASONS: dict[str, tuple[str, str]] = {
    "no_email": ("no e-mail address of their own", "没有本人的电子邮件地址"),
    "no_phone": ("no phone number of their own", "没有本人的手机号码"),
    "no_push_token": ("no push token of their own", "没有本人的推送令牌"),
    "shared_email": ("the e-mail address belongs to an earlier account too", "该邮件地址也属于更早的账户"),
    "shared_phone": ("the phone number belongs to an earlier account too", "该手机号码也属于更早的账户"),
    "birth_date_unknown": ("birth date unknown", "出生日期未知"),
    "under_min_age": ("under the minimum age", "未达最低年龄"),
    "student": ("a college student", "在校大学生"),
    "student_status_unknown": ("student status unknown", "学生身份未知"),
    "risk_level_missing": ("no risk assessment level", "没有风险测评等级"),
    "risk_assessment_missing": ("no risk assessment before the decision", "决策前没有风险测评"),
    "risk_assessment_expired": ("the risk assessment has expired", "风险测评已过期"),
    "risk_above_tolerance": ("the product's risk is above their tolerance", "产品风险高于本人的风险承受能力"),
    "product_risk_grade_missing": ("the product has no risk grade", "产品没有风险等级"),
    "frequency_cap_exceeded": ("contacted too often already", "已超过联系频次上限"),
    "quiet_hours": ("the send instant is in their quiet hours", "发送时间处于本人的免打扰时段"),
    "timezone_unknown": ("their time zone is unknown", "本人所在时区未知"),
    "unknown_timezone": ("their time zone is unknown", "本人所在时区未知"),
    "soft_opt_in_not_similar_product": ("a soft opt-in covers similar products only",
                                        "默示同意仅适用于类似产品"),
    "personalised_marketing_opt_out": ("refused personalised marketing", "已拒绝个性化营销"),
}
_FAMILIES: tuple[tuple[str, str, str], ...] = (
    ("_missing", "no {x} consent on record", "没有{x}同意记录"),
    ("_not_granted", "{x} consent not granted", "未授予{x}同意"),
    ("_withdrawn", "{x} consent withdrawn", "已撤回{x}同意"),
    ("_without_evidence", "{x} consent without evidence", "{x}同意缺少凭证"),
    ("_status_unknown", "{x} status unknown", "{x}状态未知"),
    ("_opt_out", "opted out of {x}", "已拒绝{x}"),
)
_PURPOSES_EN = {"consent": "marketing", "cross_border_consent": "cross-border", "cross_border": "cross-border",
                "personalization": "personalised marketing"}
_PURPOSES_ZH = {"consent": "营销", "marketing": "营销", "cross_border_consent": "出境", "cross_border": "出境",
                "personalization": "个性化营销"}
_SUPPRESSED_ZH = {"unsubscribe": "已退订", "group_unsubscribe": "已退订", "bounce": "退信", "dropped": "投递被丢弃",
                  "spamreport": "垃圾邮件投诉"}


@dataclass(frozen=True)
class RuleOutcome:
    """One rule the decision ran through: passed, or failed with the reason code and its text."""

    rule_id: str
    passed: bool
    reason_code: str | None
    reason_en: str
    reason_zh: str


@dataclass(frozen=True)
class ConsentAtSend:
    """The latest consent record of a purpose on the campaign's channel at the decision instant."""

    purpose: str
    status: str
    recorded_at: datetime
    evidence_ref: str | None


@dataclass(frozen=True)
class ProviderEvent:
    event: str
    occurred_at: datetime | None


@dataclass(frozen=True)
class RecipientExplanation:
    user_id: str
    campaign_id: str
    # One of OUTCOMES.
    outcome: str
    rules: tuple[RuleOutcome, ...]
    consent: tuple[ConsentAtSend, ...]
    holdout: bool
    variant: str | None
    batch_id: str | None
    batch_state: str | None
    events: tuple[ProviderEvent, ...]
    # The contact on the campaign's channel: in clear only for a role that may see it, else masked.
    contact: str | None
    contact_masked: bool
    # Which recorded run decided (`launch`, `resend`, `plan`), when and for which instant; the rule version.
    decided_by: str | None = None
    decided_at: datetime | None = None
    send_at: datetime | None = None
    rule_version: str | None = None
    template_key: str | None = None
    # Why a person was not sent although decided `send` (e.g. the ledger skipped them), else None.
    skipped_reason: str | None = None


@dataclass(frozen=True)
class RuleRef:
    """A rule as the explanation names it: its id, its check and its (English) title."""

    rule_id: str
    check: str
    title: str


@dataclass(frozen=True)
class RecordedDecision:
    """A person's row of a recorded plan or launch (`reason_codes` as stored: "RULE-ID:reason,...")."""

    decision: str
    reason_codes: str
    variant: str | None
    kind: str
    planned_at: datetime
    send_at: datetime | None
    rule_version: str
    template_key: str


def explain_recipient(user_id: str, campaign_id: str, decision: RecordedDecision | None, launched: bool,
                      rules: Sequence[RuleRef], consent: Sequence[ConsentAtSend], batch_id: str | None,
                      batch_state: str | None, skipped_reason: str | None, events: Sequence[ProviderEvent],
                      contact: str | None, may_see_contact: bool) -> RecipientExplanation:
    """Assemble the answer.

    Args:
        decision: The person's row of the campaign's latest launch (or, when never launched, latest plan);
            None when that run did not include them.
        launched: Whether a live launch of the campaign ever put batches in the ledger (a dry run does not).
        rules: The rules the decision ran through, in evaluation order (rules only seen in the reason codes
            are added after them).
    """
    failed = _failures(decision.reason_codes if decision else "")
    outcomes = [_rule_outcome(rule.rule_id, rule.check, rule.title, failed.get(rule.rule_id)) for rule in rules]
    known = {rule.rule_id for rule in rules}
    outcomes += [_rule_outcome(rule_id, "", rule_id, code) for rule_id, code in failed.items() if rule_id not in known]
    if not launched:
        outcome = "not_launched"
    elif decision is None:
        outcome = "not_in_audience"
    else:
        outcome = {"send": "sent", "holdout": "holdout"}.get(decision.decision, "excluded")
    return RecipientExplanation(
        user_id=user_id, campaign_id=campaign_id, outcome=outcome, rules=tuple(outcomes) if decision else (),
        consent=tuple(consent), holdout=bool(decision and decision.decision == "holdout"),
        variant=decision.variant if decision else None, batch_id=batch_id, batch_state=batch_state,
        events=tuple(sorted(events, key=lambda e: (e.occurred_at is None, e.occurred_at or datetime.min, e.event))),
        contact=contact if may_see_contact else mask_contact(contact), contact_masked=not may_see_contact,
        decided_by=decision.kind if decision else None, decided_at=decision.planned_at if decision else None,
        send_at=decision.send_at if decision else None, rule_version=decision.rule_version if decision else None,
        template_key=decision.template_key if decision else None, skipped_reason=skipped_reason,
    )


def mask_contact(contact: str | None) -> str | None:
    """`m***@example.com`, `138****0001`; None stays None."""
    if not contact:
        return contact
    if "@" in contact:
        local, _, domain = contact.partition("@")
        return f"{local[:1]}***@{domain}"
    if len(contact) > 7:
        return f"{contact[:3]}{'*' * (len(contact) - 7)}{contact[-4:]}"
    return "*" * len(contact)


def reason_texts(code: str) -> tuple[str, str]:
    """A reason code in English and Chinese (the code itself when it is not known)."""
    if code in _REASONS:
        return _REASONS[code]
    if code.startswith("suppressed_"):
        kind = code.removeprefix("suppressed_")
        return f"suppressed after {kind}", f"因{_SUPPRESSED_ZH.get(kind, kind)}被屏蔽"
    for suffix, english, chinese in _FAMILIES:
        if code.endswith(suffix):
            name = code.removesuffix(suffix)
            return (english.format(x=_PURPOSES_EN.get(name, name.replace("_", " "))),
                    chinese.format(x=_PURPOSES_ZH.get(name, name)))
    return code, code


def _failures(reason_codes: str) -> dict[str, str]:
    failed: dict[str, str] = {}
    for item in filter(None, (reason_codes or "").split(",")):
        rule_id, _, code = item.partition(":")
        failed.setdefault(rule_id, code)
    return failed


def _rule_outcome(rule_id: str, check: str, title: str, code: str | None) -> RuleOutcome:
    title_zh = CHECK_TITLES_ZH.get(check, title)
    if code is None:
        return RuleOutcome(rule_id, True, None, f"passed: {title}", f"通过：{title_zh}")
    english, chinese = reason_texts(code)
    return RuleOutcome(rule_id, False, code, f"failed: {title} ({english})", f"未通过：{title_zh}（{chinese}）")

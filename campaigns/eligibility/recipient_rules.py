"""Recipient rules, vectorised: the check registry a rule pack names. Each check returns, per member row,
a reason (String) or null for a pass.

Checks fail closed: a missing attribute is a failure with its own reason.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl

from campaigns.definitions.campaign_file import Campaign
from campaigns.definitions.pack_file import Rule
from campaigns.definitions.template_file import Template
from campaigns.definitions.vocabulary import CHANNELS, RISK_GRADES, RISK_LEVELS


@dataclass(frozen=True)
class RuleContext:
    """What every check may look at besides the member rows."""

    campaign: Campaign
    template: Template
    as_of: datetime
    # as_of's calendar date in the business time zone; ages turn over on local dates.
    as_of_date: date
    latest_consents: pl.DataFrame
    # One row per suppressed user (user_id, reason); any suppression ever recorded applies (fail closed).
    suppressions: pl.DataFrame | None = None
    # The instant the message goes out (UTC); quiet hours and frequency caps are judged for it.
    send_at: datetime | None = None
    # Previous sends from the outbox ledger: user_id, campaign_id, state, sent_at[, scheduled_for].
    recent_sends: pl.DataFrame | None = None
    # Any arm's template is personalised (template `is_personalized`).
    personalized: bool = False
    # The send instant's calendar date in the business time zone (ages are judged on it).
    send_date: date | None = None

    @property
    def send_instant(self) -> datetime:
        return self.send_at or self.as_of

    @property
    def judged_date(self) -> date:
        return self.send_date or self.as_of_date


Check = Callable[[pl.DataFrame, Rule, RuleContext], pl.Series]
# What the contact of each channel is called in reason codes (`no_email`, `no_phone`, `no_push_token`).
CONTACT_NAMES: dict[str, str] = {"email": "email", "sms": "phone", "push": "push_token"}


def consent_check(members: pl.DataFrame, rule: Rule, ctx: RuleContext) -> pl.Series:
    """Latest consent for the campaign's channel and purpose is `granted` (CN-EM-01, EU-CONS-01).

    Params: `channel`, `purpose` (default: the campaign's), `require_evidence` (default true),
    `soft_opt_in_sources` (EU: consent records whose `source` is one of these are a soft opt-in basis, valid
    only for the product types in `soft_opt_in_product_types`, the company's own similar products).
    """
    channel = rule.params.get("channel", ctx.campaign.channel)
    purpose = rule.params.get("purpose", ctx.campaign.purpose)
    joined = _latest_status(members, ctx, channel, purpose)
    reason = _consent_reason(rule, "consent")
    soft_sources = [str(s) for s in rule.params.get("soft_opt_in_sources", [])]
    if soft_sources and ctx.template.product_type not in set(rule.params.get("soft_opt_in_product_types", [])):
        reason = reason.when(pl.col("_source").is_in(soft_sources)).then(pl.lit("soft_opt_in_not_similar_product"))
    return joined.select(reason.otherwise(None).alias(rule.rule_id)).to_series()


def cross_border_consent_check(members: pl.DataFrame, rule: Rule, ctx: RuleContext) -> pl.Series:
    """A resident of `home_country` needs a separate cross-border consent when the provider is abroad (CN-PI-02).

    Params: `home_country` (e.g. CN); `provider_country` mapping channel → country where the delivery
    provider processes the data (SendGrid: US); the campaign file's `provider_country` overrides it. A
    channel without a known provider country counts as abroad (fail closed). `purpose` (default
    `cross_border`), `channel` (default the campaign's), `require_evidence` (default true). Residence comes
    from `country`; an unknown country counts as resident (fail closed).
    """
    home = str(rule.params.get("home_country", "CN"))
    channel = rule.params.get("channel", ctx.campaign.channel)
    provider = ctx.campaign.provider_country or (rule.params.get("provider_country") or {}).get(ctx.campaign.channel)
    if provider == home:
        return _passes(members, rule)
    joined = _latest_status(members, ctx, channel, rule.params.get("purpose", "cross_border"))
    resident = pl.col("country").is_null() | (pl.col("country").cast(pl.String).str.to_uppercase() == home)
    reason = pl.when(~resident).then(None)
    reason = _consent_reason(rule, "cross_border_consent", reason)
    return joined.with_columns(members.get_column("country").alias("country")).select(
        reason.otherwise(None).alias(rule.rule_id)).to_series()


def opt_out_check(members: pl.DataFrame, rule: Rule, ctx: RuleContext) -> pl.Series:
    """Exclude people whose latest record for `purpose` is `withdrawn` (an opt-out or objection).

    Used for personalised-marketing opt-out (CN-PI-01, GDPR Art. 21 / EU-PROF-01), the CAN-SPAM opt-out
    (US-CS-06) and the FCRA prescreen opt-out (US-FCRA-01). Params:
    - `purpose`: the consent purpose whose withdrawal is the opt-out.
    - `channel`: `any` (default: a withdrawal on any channel counts) or `campaign` (the campaign's channel).
    - `when`: `always` (default), `personalized` (the template is personalised, or the campaign's segment
      filters on one of `segment_fields`, i.e. the audience came from a model), `consumer_report` (the
      campaign says `uses_consumer_report`). When it does not apply, everyone passes.
    - `require_record`: when true, a person with no record at all for the purpose fails closed.
    - `reason`: the reason code for an opt-out (default `<purpose>_opt_out`).
    """
    when = rule.params.get("when", "always")
    segment_fields = set(rule.params.get("segment_fields", []))
    if when == "personalized":
        applies = ctx.personalized or any(column in segment_fields for column, _ in ctx.campaign.segment)
    elif when == "consumer_report":
        applies = ctx.campaign.uses_consumer_report
    else:
        applies = True
    if not applies:
        return _passes(members, rule)
    purpose = str(rule.params["purpose"])
    records = ctx.latest_consents.filter(pl.col("purpose") == purpose)
    if rule.params.get("channel", "any") == "campaign":
        records = records.filter(pl.col("channel") == ctx.campaign.channel)
    per_user = records.group_by(pl.col("user_id").cast(pl.String)).agg(
        (pl.col("status") == "withdrawn").any().alias("_opted_out"))
    joined = members.select("user_id").join(per_user, on="user_id", how="left", maintain_order="left")
    reason = pl.when(pl.col("_opted_out")).then(pl.lit(str(rule.params.get("reason", f"{purpose}_opt_out"))))
    if rule.params.get("require_record", False):
        reason = reason.when(pl.col("_opted_out").is_null()).then(pl.lit(f"{purpose}_status_unknown"))
    return joined.select(reason.otherwise(None).alias(rule.rule_id)).to_series()


def frequency_cap_check(members: pl.DataFrame, rule: Rule, ctx: RuleContext) -> pl.Series:
    """At most `max_messages` marketing messages per rolling `days` per person (CN-FREQ-01).

    Counts the outbox ledger's sends of *other* campaigns in `count_states` (default accepted, sending,
    unknown, exported) whose send time or scheduled instant lies less than `days` before or after this
    campaign's send instant (both sides: a later scheduled campaign counts too, so every rolling window
    stays within the cap), plus the one message this campaign would send. The campaign file's
    `frequency_cap` may tighten the cap (smaller count, longer period), never loosen it.
    """
    cap = int(rule.params.get("max_messages", 3))
    days = int(rule.params.get("days", 7))
    if ctx.campaign.frequency_cap is not None:
        cap, days = min(cap, ctx.campaign.frequency_cap[0]), max(days, ctx.campaign.frequency_cap[1])
    sends = ctx.recent_sends
    if sends is None or sends.height == 0:
        counts = pl.DataFrame(schema={"user_id": pl.String, "_previous": pl.UInt32})
    else:
        states = [str(s) for s in rule.params.get("count_states", ["accepted", "sending", "unknown", "exported"])]
        instant = pl.lit(ctx.send_instant).cast(pl.Datetime("us", "UTC"))
        period = timedelta(days=days)

        def near(column: str) -> pl.Expr:
            moment = pl.col(column).cast(pl.Datetime("us", "UTC"))
            return moment.is_not_null() & ((moment - instant).abs() < period)

        scheduled = near("scheduled_for") if "scheduled_for" in sends.columns else pl.lit(False)
        counts = (
            sends.filter(pl.col("state").is_in(states) & (pl.col("campaign_id") != ctx.campaign.campaign_id)
                         & (near("sent_at") | scheduled))
            .group_by(pl.col("user_id").cast(pl.String)).agg(pl.col("campaign_id").n_unique().alias("_previous"))
        )
    joined = members.select("user_id").join(counts, on="user_id", how="left", maintain_order="left")
    return joined.select(
        pl.when(pl.col("_previous").fill_null(0) + 1 > cap).then(pl.lit("frequency_cap_exceeded")).otherwise(None)
        .alias(rule.rule_id)
    ).to_series()


def quiet_hours_check(members: pl.DataFrame, rule: Rule, ctx: RuleContext) -> pl.Series:
    """No marketing during local quiet hours (CN-FREQ-01), judged at the send instant in the person's zone.

    Params: `start`, `end` ("HH:MM", local; the window may wrap midnight, e.g. 21:00–08:00), `unknown_timezone`
    (`default`: use `default_timezone` for a missing or unrecognised zone; `exclude`: fail closed).
    """
    start, end = _minutes(rule.params.get("start", "21:00")), _minutes(rule.params.get("end", "08:00"))
    fallback = rule.params.get("default_timezone")
    policy = rule.params.get("unknown_timezone", "default" if fallback else "exclude")
    zones = members.get_column("timezone").cast(pl.String).drop_nulls().unique().to_list()
    if policy == "default" and fallback:
        zones.append(str(fallback))
    # One conversion per distinct zone (a handful), then a join: no per-row Python.
    local = pl.DataFrame(
        {"_zone": zones, "_minute": [_local_minute(ctx.send_instant, zone) for zone in zones]},
        schema={"_zone": pl.String, "_minute": pl.Int32},
    ).unique("_zone")
    zone = pl.col("timezone").cast(pl.String)
    frame = members.select("user_id", zone.alias("_zone")).join(local, on="_zone", how="left", maintain_order="left")
    if policy == "default" and fallback:
        fallback_minute = _local_minute(ctx.send_instant, str(fallback))
        frame = frame.with_columns(pl.col("_minute").fill_null(fallback_minute))
    minute = pl.col("_minute")
    quiet = (minute >= start) | (minute < end) if start > end else (minute >= start) & (minute < end)
    return frame.select(
        pl.when(minute.is_null()).then(pl.lit("timezone_unknown"))
        .when(quiet).then(pl.lit("quiet_hours"))
        .otherwise(None)
        .alias(rule.rule_id)
    ).to_series()


def _local_minute(instant: datetime, zone: str) -> int | None:
    try:
        local = instant.astimezone(ZoneInfo(zone))
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return local.hour * 60 + local.minute


def _minutes(text: str) -> int:
    hours, minutes = str(text).split(":")
    return int(hours) * 60 + int(minutes)


def _passes(members: pl.DataFrame, rule: Rule) -> pl.Series:
    return pl.Series(rule.rule_id, [None] * members.height, pl.String)


def _latest_status(members: pl.DataFrame, ctx: RuleContext, channel: str, purpose: str) -> pl.DataFrame:
    """Members joined with their latest record for (channel, purpose): `_status`, `_evidence`, `_source`."""
    consents = ctx.latest_consents.filter((pl.col("channel") == channel) & (pl.col("purpose") == purpose))
    evidence = pl.col("evidence_ref") if "evidence_ref" in consents.columns else pl.lit(None, pl.String)
    source = pl.col("source") if "source" in consents.columns else pl.lit(None, pl.String)
    consents = consents.select(
        pl.col("user_id").cast(pl.String), pl.col("status").alias("_status"), evidence.cast(pl.String).alias("_evidence"),
        source.cast(pl.String).alias("_source"),
    )
    return members.select("user_id").join(consents, on="user_id", how="left", maintain_order="left")


def _consent_reason(rule: Rule, name: str, reason: Any = None) -> Any:
    """Reason chain for a consent record: missing, withdrawn, not granted, without evidence.

    `reason` is an optional chain (`pl.when(...).then(...)`) to continue; the result is continued with
    further `.when()` calls and closed with `.otherwise(None)` by the caller.
    """
    start = reason.when if reason is not None else pl.when
    chain = (
        start(pl.col("_status").is_null()).then(pl.lit(f"{name}_missing"))
        .when(pl.col("_status") == "withdrawn").then(pl.lit(f"{name}_withdrawn"))
        .when(pl.col("_status") != "granted").then(pl.lit(f"{name}_not_granted"))
    )
    if rule.params.get("require_evidence", True):
        blank = pl.col("_evidence").is_null() | (pl.col("_evidence").str.strip_chars() == "")
        chain = chain.when(blank).then(pl.lit(f"{name}_without_evidence"))
    return chain


def contactable_check(members: pl.DataFrame, rule: Rule, ctx: RuleContext) -> pl.Series:
    """The person can be reached on the campaign's channel (CN-CONTACT-01): an address, number or token of
    their own. Decided with the other rules, before holdout and variants, so every count and the holdout
    are over people who can be reached.

    Reads `<channel>_reach` (`ok`, `missing`, `shared`: an earlier user id holds the same contact and alone
    gets the message), computed by the caller from the private contacts; an absent column or value counts
    as missing (fail closed). Reasons: `no_email` / `no_phone` / `no_push_token`, `shared_email` / ….
    """
    channel = ctx.campaign.channel
    contact = CONTACT_NAMES[channel]
    column = f"{channel}_reach"
    reach = pl.col(column).cast(pl.String) if column in members.columns else pl.lit(None, pl.String)
    return members.select(
        pl.when(reach == "ok").then(None)
        .when(reach == "shared").then(pl.lit(f"shared_{contact}"))
        .otherwise(pl.lit(f"no_{contact}"))
        .alias(rule.rule_id)
    ).to_series()


def min_age_check(members: pl.DataFrame, rule: Rule, ctx: RuleContext) -> pl.Series:
    """Age on the local date of the send instant is at least `min_age`; unknown birth date fails (CN-LOAN-05)."""
    min_age = int(rule.params.get("min_age", 18))
    latest_birth = _years_before(ctx.judged_date, min_age)
    birth = pl.col("birth_date").cast(pl.Date)
    return members.select(
        pl.when(birth.is_null()).then(pl.lit("birth_date_unknown"))
        .when(birth > pl.lit(latest_birth)).then(pl.lit("under_min_age"))
        .otherwise(None)
        .alias(rule.rule_id)
    ).to_series()


def not_student_check(members: pl.DataFrame, rule: Rule, ctx: RuleContext) -> pl.Series:
    """Not a student; unknown student status fails (CN-LOAN-04)."""
    student = pl.col("is_student").cast(pl.Boolean)
    return members.select(
        pl.when(student.is_null()).then(pl.lit("student_status_unknown"))
        .when(student).then(pl.lit("student"))
        .otherwise(None)
        .alias(rule.rule_id)
    ).to_series()


def suitability_check(members: pl.DataFrame, rule: Rule, ctx: RuleContext) -> pl.Series:
    """Product risk grade R ≤ customer risk level C; missing or expired assessment fails (CN-SUIT-01).

    Expiry is checked when the member rows carry `risk_assessed_at`: the assessment must be known to the data
    (at or before as-of) and still valid at the send instant (`assessment_valid_days` before it at most).
    """
    grade = ctx.template.risk_grade
    if grade is None:
        # Template validation requires a grade for investment products; fail closed if a pack widens scope.
        return pl.Series(rule.rule_id, ["product_risk_grade_missing"] * members.height, pl.String)
    level = pl.col("risk_level").cast(pl.String).replace_strict(
        {name: rank for rank, name in enumerate(RISK_LEVELS, start=1)}, default=None, return_dtype=pl.Int8
    )
    reason = pl.when(level.is_null()).then(pl.lit("risk_level_missing"))
    if "risk_assessed_at" in members.columns:
        valid_days = int(rule.params.get("assessment_valid_days", 365))
        assessed = pl.col("risk_assessed_at")
        reason = (
            reason.when(assessed.is_null() | (assessed > pl.lit(ctx.as_of))).then(pl.lit("risk_assessment_missing"))
            .when(assessed < pl.lit(ctx.send_instant - timedelta(days=valid_days)))
            .then(pl.lit("risk_assessment_expired"))
        )
    reason = reason.when(level < RISK_GRADES.index(grade) + 1).then(pl.lit("risk_above_tolerance"))
    return members.select(reason.otherwise(None).alias(rule.rule_id)).to_series()


def not_suppressed_check(members: pl.DataFrame, rule: Rule, ctx: RuleContext) -> pl.Series:
    """Not unsubscribed, bounced or reported as spam (CN-EM-04 / US-CS-06 / EU-CONS-03)."""
    suppressed = ctx.suppressions
    if suppressed is None or suppressed.height == 0:
        return pl.Series(rule.rule_id, [None] * members.height, pl.String)
    first = (suppressed.select(pl.col("user_id").cast(pl.String), pl.col("reason").cast(pl.String))
             .sort("user_id", "reason").unique("user_id", keep="first"))
    joined = members.select("user_id").join(first, on="user_id", how="left", maintain_order="left")
    return joined.select(
        pl.when(pl.col("reason").is_not_null()).then(pl.lit("suppressed_") + pl.col("reason")).otherwise(None)
        .alias(rule.rule_id)
    ).to_series()


CHECKS: dict[str, Check] = {
    "contactable": contactable_check,
    "not_suppressed": not_suppressed_check,
    "consent": consent_check,
    "min_age": min_age_check,
    "not_student": not_student_check,
    "suitability": suitability_check,
    "cross_border_consent": cross_border_consent_check,
    "opt_out": opt_out_check,
    "frequency_cap": frequency_cap_check,
    "quiet_hours": quiet_hours_check,
}


def _years_before(day: date, years: int) -> date:
    """The latest birth date that makes someone `years` old on `day`.

    Someone born on 29 February comes of age on 1 March in non-leap years (the later, stricter day).
    """
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # day is 29 February and the target year is not a leap year
        return date(day.year - years, 2, 28)


_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def param_problem(rule: Rule) -> tuple[str, str] | None:
    """The first invalid parameter of a rule as (key, problem), or None; rule files are checked at load."""
    params = rule.params
    channels = params.get("channels")
    if channels is not None and (not isinstance(channels, list) or not set(channels) <= CHANNELS):
        return "channels", f"must be a list of {sorted(CHANNELS)}"
    if rule.check == "quiet_hours":
        for key in ("start", "end"):
            if not _TIME.match(str(params.get(key, ""))):
                return key, "must be a local time HH:MM"
        if params.get("unknown_timezone", "exclude") not in ("default", "exclude"):
            return "unknown_timezone", "must be 'default' or 'exclude'"
        if params.get("unknown_timezone") == "default":
            try:
                ZoneInfo(str(params.get("default_timezone")))
            except (ZoneInfoNotFoundError, ValueError):
                return "default_timezone", "must name an IANA time zone when unknown_timezone is 'default'"
    if rule.check == "frequency_cap":
        for key in ("max_messages", "days"):
            value = params.get(key)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                return key, "must be a positive integer"
    if rule.check == "opt_out":
        if not params.get("purpose"):
            return "purpose", "is required (the consent purpose whose withdrawal is the opt-out)"
        if params.get("when", "always") not in ("always", "personalized", "consumer_report"):
            return "when", "must be 'always', 'personalized' or 'consumer_report'"
        if params.get("channel", "any") not in ("any", "campaign"):
            return "channel", "must be 'any' or 'campaign'"
    if rule.check == "cross_border_consent":
        if not isinstance(params.get("home_country"), str):
            return "home_country", "is required (ISO country code of the residents it protects)"
        if not isinstance(params.get("provider_country", {}), dict):
            return "provider_country", "must map channel to the provider's country"
    return None

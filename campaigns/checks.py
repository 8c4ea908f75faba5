"""Vectorised recipient checks. Each returns, per member row, a reason (String) or null for a pass.

Checks fail closed: a missing attribute is a failure with its own reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Callable

import polars as pl

from campaigns.campaign import Campaign
from campaigns.products import RISK_GRADES, RISK_LEVELS
from campaigns.rule_pack import Rule
from campaigns.template import Template


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


Check = Callable[[pl.DataFrame, Rule, RuleContext], pl.Series]


def consent_check(members: pl.DataFrame, rule: Rule, ctx: RuleContext) -> pl.Series:
    """Latest consent for the campaign's channel and purpose is `granted` (CN-EM-01)."""
    channel = rule.params.get("channel", ctx.campaign.channel)
    purpose = rule.params.get("purpose", ctx.campaign.purpose)
    consents = ctx.latest_consents.filter((pl.col("channel") == channel) & (pl.col("purpose") == purpose))
    evidence = pl.col("evidence_ref") if "evidence_ref" in consents.columns else pl.lit(None, pl.String)
    consents = consents.select(
        pl.col("user_id").cast(pl.String), pl.col("status").alias("_status"), evidence.alias("_evidence")
    )
    joined = members.select("user_id").join(consents, on="user_id", how="left", maintain_order="left")
    reason = (
        pl.when(pl.col("_status").is_null()).then(pl.lit("consent_missing"))
        .when(pl.col("_status") == "withdrawn").then(pl.lit("consent_withdrawn"))
        .when(pl.col("_status") != "granted").then(pl.lit("consent_not_granted"))
    )
    if rule.params.get("require_evidence", True):
        blank = pl.col("_evidence").is_null() | (pl.col("_evidence").cast(pl.String).str.strip_chars() == "")
        reason = reason.when(blank).then(pl.lit("consent_without_evidence"))
    return joined.select(reason.otherwise(None).alias(rule.rule_id)).to_series()


def min_age_check(members: pl.DataFrame, rule: Rule, ctx: RuleContext) -> pl.Series:
    """Age at the local as-of date is at least `min_age`; unknown birth date fails (CN-LOAN-05)."""
    min_age = int(rule.params.get("min_age", 18))
    latest_birth = _years_before(ctx.as_of_date, min_age)
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

    Expiry is checked when the member rows carry `risk_assessed_at`.
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
            .when(assessed < pl.lit(ctx.as_of - timedelta(days=valid_days))).then(pl.lit("risk_assessment_expired"))
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
    "not_suppressed": not_suppressed_check,
    "consent": consent_check,
    "min_age": min_age_check,
    "not_student": not_student_check,
    "suitability": suitability_check,
}


def _years_before(day: date, years: int) -> date:
    """The latest birth date that makes someone `years` old on `day`.

    Someone born on 29 February comes of age on 1 March in non-leap years (the later, stricter day).
    """
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # day is 29 February and the target year is not a leap year
        return date(day.year - years, 2, 28)

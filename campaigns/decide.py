"""Per-recipient send decisions: rules, then a deterministic holdout among the eligible."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import polars as pl

from campaigns.campaign import Campaign
from campaigns.checks import CHECKS, RuleContext
from campaigns.consent import latest_consents, require_aware
from campaigns.errors import CampaignMismatchError
from campaigns.holdout import holdout_buckets
from campaigns.library import shipped_rule_pack
from campaigns.rule_pack import RulePack
from campaigns.template import Template

DECISION_SCHEMA: dict[str, pl.DataType] = {
    "campaign_id": pl.String(),
    "user_id": pl.String(),
    "decision": pl.String(),
    "reason_codes": pl.List(pl.String()),
    "rule_version": pl.String(),
    "as_of": pl.Datetime("us", "UTC"),
}


def decide_recipients(
    audience: pl.DataFrame,
    consents: pl.DataFrame,
    people: pl.DataFrame,
    campaign: Campaign,
    template: Template,
    as_of: datetime,
    rule_pack: RulePack | None = None,
    business_timezone: str = "Asia/Shanghai",
    suppressions: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Decide, for every audience member, whether to send, hold out or exclude.

    Args:
        audience: Has `user_id`; duplicates are collapsed (one message per person).
        consents: `staged.consents` rows (user_id, channel, purpose, status, recorded_at, evidence_ref).
        people: One row per user: `user_id`, `birth_date` (Date, null = unknown), `is_student`,
            `risk_level` (C1–C5); optionally `risk_assessed_at` (tz-aware) to enforce expiry.
        campaign: The campaign.
        template: The campaign's template (its product type and risk grade drive the rules).
        as_of: Timezone-aware decision instant; consents recorded later are ignored.
        rule_pack: Rules to apply; default is the shipped pack for the template's jurisdiction.
        business_timezone: Zone whose calendar date is used for ages.
        suppressions: `campaigns.suppressions` rows (user_id, reason) from provider events.

    Returns:
        One row per unique audience member, in audience order, with columns `campaign_id`, `user_id`,
        `decision` ("send" | "holdout" | "excluded"), `reason_codes` (List[String], "RULE-ID:reason",
        empty unless excluded), `rule_version`, `as_of` (Datetime UTC).
    """
    require_aware(as_of, "as_of")
    _check_pair(campaign, template)
    pack = rule_pack or shipped_rule_pack(template.jurisdiction)
    if pack.jurisdiction != template.jurisdiction:
        raise CampaignMismatchError(f"rule pack {pack.rule_version} does not cover jurisdiction {template.jurisdiction}")
    members = _members(audience, people)
    as_of_utc = as_of.astimezone(timezone.utc)
    context = RuleContext(
        campaign=campaign,
        template=template,
        as_of=as_of_utc,
        as_of_date=as_of.astimezone(ZoneInfo(business_timezone)).date(),
        latest_consents=latest_consents(consents, as_of_utc),
        suppressions=suppressions,
    )
    reasons = [
        (rule.rule_id, CHECKS[rule.check](members, rule, context)) for rule in pack.applicable(template.product_type)
    ]
    members = members.select("user_id").with_columns(
        pl.concat_list(
            [pl.lit(f"{rule_id}:") + series for rule_id, series in reasons] or [pl.lit(None, pl.String)]
        ).list.drop_nulls().alias("reason_codes")
    )
    eligible_ids = members.filter(pl.col("reason_codes").list.len() == 0).get_column("user_id")
    members = members.join(holdout_buckets(campaign.campaign_id, eligible_ids), on="user_id", how="left",
                           maintain_order="left")
    return members.select(
        pl.lit(campaign.campaign_id).alias("campaign_id"),
        "user_id",
        pl.when(pl.col("reason_codes").list.len() > 0).then(pl.lit("excluded"))
        .when(pl.col("holdout_bucket") < campaign.holdout_pct).then(pl.lit("holdout"))
        .otherwise(pl.lit("send"))
        .alias("decision"),
        "reason_codes",
        pl.lit(pack.rule_version).alias("rule_version"),
        pl.lit(as_of_utc).cast(pl.Datetime("us", "UTC")).alias("as_of"),
    ).cast(DECISION_SCHEMA)


def _check_pair(campaign: Campaign, template: Template) -> None:
    if (campaign.template_id, campaign.template_version) != (template.template_id, template.version):
        raise CampaignMismatchError(
            f"campaign '{campaign.campaign_id}' uses template {campaign.template_id}@{campaign.template_version}, "
            f"got {template.key}"
        )
    if campaign.channel != template.channel:
        raise CampaignMismatchError(
            f"campaign '{campaign.campaign_id}' channel {campaign.channel!r} != template channel {template.channel!r}"
        )


def _members(audience: pl.DataFrame, people: pl.DataFrame) -> pl.DataFrame:
    """Unique audience members with their person attributes (nulls where the person is unknown)."""
    if audience.get_column("user_id").null_count():
        raise ValueError("audience.user_id has nulls; every audience row must name a user")
    people = people.with_columns(pl.col("user_id").cast(pl.String))
    if people.get_column("user_id").is_duplicated().any():
        raise ValueError("people must have one row per user_id")
    for column, dtype in (("birth_date", pl.Date), ("is_student", pl.Boolean), ("risk_level", pl.String)):
        if column not in people.columns:
            # Fail closed: an absent attribute is treated as unknown for everyone.
            people = people.with_columns(pl.lit(None, dtype).alias(column))
    return (
        audience.select(pl.col("user_id").cast(pl.String))
        .unique("user_id", keep="first", maintain_order=True)
        .join(people, on="user_id", how="left", maintain_order="left")
    )

"""Per-recipient send decisions: rules, then a deterministic holdout among the eligible."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import polars as pl

from campaigns.campaign_errors import CampaignMismatchError
from campaigns.definitions.campaign_file import Campaign
from campaigns.definitions.pack_file import RulePack
from campaigns.definitions.template_file import Template
from campaigns.eligibility.consent_state import latest_consents, require_aware
from campaigns.eligibility.holdout_assignment import holdout_buckets
from campaigns.eligibility.recipient_rules import CHECKS, RuleContext
from campaigns.eligibility.rule_packs import shipped_rule_pack
from campaigns.eligibility.variant_assignment import assign_variants

DECISION_SCHEMA: dict[str, pl.DataType] = {
    "campaign_id": pl.String(),
    "user_id": pl.String(),
    "decision": pl.String(),
    "reason_codes": pl.List(pl.String()),
    "rule_version": pl.String(),
    "as_of": pl.Datetime("us", "UTC"),
    "variant": pl.String(),
    "send_at": pl.Datetime("us", "UTC"),
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
    send_at: datetime | None = None,
    recent_sends: pl.DataFrame | None = None,
    variant_templates: Mapping[str, Template] | None = None,
) -> pl.DataFrame:
    """Decide, for every audience member, whether to send, hold out or exclude.

    Args:
        audience: Has `user_id`; duplicates are collapsed (one message per person).
        consents: `staged.consents` rows (user_id, channel, purpose, status, recorded_at, evidence_ref).
        people: One row per user: `user_id`, `birth_date` (Date, null = unknown), `is_student`,
            `risk_level` (C1–C5), `country` (residence, ISO code), `timezone` (IANA zone),
            `<channel>_reach` (`ok`, `missing`, `shared`: can the channel reach them); optionally
            `risk_assessed_at` (tz-aware) to enforce expiry. Absent columns count as unknown (fail closed).
        campaign: The campaign.
        template: The campaign's template (its product type and risk grade drive the rules).
        as_of: Timezone-aware instant of what the data knows; consents and assessments recorded later are
            ignored.
        rule_pack: Rules to apply; default is the shipped pack for the template's jurisdiction.
        business_timezone: Zone whose calendar date is used for ages.
        suppressions: `campaigns.suppressions` rows (user_id, reason) from provider events.
        send_at: The instant the message goes out: ages, assessment expiry, quiet hours and frequency caps
            are judged for it. Default: the campaign's `send_at`, else `as_of`.
        recent_sends: Previous sends from the outbox ledger (user_id, campaign_id, state, sent_at,
            scheduled_for) for frequency caps; None means no ledger (nothing sent before).
        variant_templates: Template per variant name, for campaigns with `variants` (default: the campaign's
            arms must all use `template`). Every arm must share the template's jurisdiction, channel,
            product type and risk grade, so the same rules apply to all of them.

    Returns:
        One row per unique audience member, in audience order, with columns `campaign_id`, `user_id`,
        `decision` ("send" | "holdout" | "excluded"), `reason_codes` (List[String], "RULE-ID:reason",
        empty unless excluded), `rule_version`, `as_of` (Datetime UTC), `variant` (the A/B arm of a
        `send` row, else null), `send_at` (Datetime UTC, the instant judged).
    """
    require_aware(as_of, "as_of")
    _check_pair(campaign, template)
    arms = _arm_templates(campaign, template, variant_templates)
    send_instant = send_at or campaign.send_at or as_of
    require_aware(send_instant, "send_at")
    pack = rule_pack or shipped_rule_pack(template.jurisdiction)
    if pack.jurisdiction != template.jurisdiction:
        raise CampaignMismatchError(f"rule pack {pack.rule_version} does not cover jurisdiction {template.jurisdiction}")
    members = _members(audience, people)
    as_of_utc = as_of.astimezone(UTC)
    context = RuleContext(
        campaign=campaign,
        template=template,
        as_of=as_of_utc,
        as_of_date=as_of.astimezone(ZoneInfo(business_timezone)).date(),
        latest_consents=latest_consents(consents, as_of_utc),
        suppressions=suppressions,
        send_at=send_instant.astimezone(UTC),
        recent_sends=recent_sends,
        personalized=any(t.is_personalized for t in arms.values()),
        send_date=send_instant.astimezone(ZoneInfo(business_timezone)).date(),
    )
    reasons = [
        (rule.rule_id, CHECKS[rule.check](members, rule, context))
        for rule in pack.applicable(template.product_type, campaign.channel)
    ]
    members = members.select("user_id").with_columns(
        pl.concat_list(
            [pl.lit(f"{rule_id}:") + series for rule_id, series in reasons] or [pl.lit(None, pl.String)]
        ).list.drop_nulls().alias("reason_codes")
    )
    eligible_ids = members.filter(pl.col("reason_codes").list.len() == 0).get_column("user_id")
    members = members.join(holdout_buckets(campaign.campaign_id, eligible_ids), on="user_id", how="left",
                           maintain_order="left")
    members = members.join(assign_variants(campaign.campaign_id, eligible_ids, campaign.arms), on="user_id",
                           how="left", maintain_order="left")
    decision = (
        pl.when(pl.col("reason_codes").list.len() > 0).then(pl.lit("excluded"))
        .when(pl.col("holdout_bucket") < campaign.holdout_pct).then(pl.lit("holdout"))
        .otherwise(pl.lit("send"))
    )
    return members.select(
        pl.lit(campaign.campaign_id).alias("campaign_id"),
        "user_id",
        decision.alias("decision"),
        "reason_codes",
        pl.lit(pack.rule_version).alias("rule_version"),
        pl.lit(as_of_utc).cast(pl.Datetime("us", "UTC")).alias("as_of"),
        pl.when(decision == "send").then(pl.col("variant")).otherwise(None).alias("variant"),
        pl.lit(send_instant.astimezone(UTC)).cast(pl.Datetime("us", "UTC")).alias("send_at"),
    ).cast(DECISION_SCHEMA)


def _arm_templates(campaign: Campaign, template: Template,
                   variant_templates: Mapping[str, Template] | None) -> dict[str, Template]:
    """The template of every arm, checked to be the one the campaign names and rule-compatible."""
    given = dict(variant_templates or {})
    arms = {}
    for arm in campaign.arms:
        chosen = given.get(arm.name)
        if chosen is None:
            if arm.template_key != template.key:
                raise CampaignMismatchError(
                    f"campaign '{campaign.campaign_id}': no template given for variant '{arm.name}' ({arm.template_key})")
            chosen = template
        if chosen.key != arm.template_key:
            raise CampaignMismatchError(
                f"campaign '{campaign.campaign_id}': variant '{arm.name}' uses {arm.template_key}, got {chosen.key}")
        for attribute in ("jurisdiction", "channel", "product_type", "risk_grade"):
            if getattr(chosen, attribute) != getattr(template, attribute):
                raise CampaignMismatchError(
                    f"campaign '{campaign.campaign_id}': variant '{arm.name}' ({chosen.key}) has {attribute} "
                    f"{getattr(chosen, attribute)!r} but the campaign template has {getattr(template, attribute)!r}; "
                    "all variants must be decided by the same rules")
        arms[arm.name] = chosen
    return arms


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
    for column, dtype in (("birth_date", pl.Date), ("is_student", pl.Boolean), ("risk_level", pl.String),
                          ("country", pl.String), ("timezone", pl.String)):
        if column not in people.columns:
            # Fail closed: an absent attribute is treated as unknown for everyone.
            people = people.with_columns(pl.lit(None, dtype).alias(column))
    return (
        audience.select(pl.col("user_id").cast(pl.String))
        .unique("user_id", keep="first", maintain_order=True)
        .join(people, on="user_id", how="left", maintain_order="left")
    )

"""Dry run: decide recipients and render their messages; nothing is sent."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

import polars as pl

from campaigns.content.rendering import render_frame
from campaigns.definitions.campaign_file import Campaign
from campaigns.definitions.pack_file import RulePack
from campaigns.definitions.template_file import Template
from campaigns.eligibility.audience import select_audience
from campaigns.eligibility.audience_funnel import audience_funnel
from campaigns.eligibility.decisions import decide_recipients
from campaigns.eligibility.rule_packs import shipped_rule_pack

MESSAGE_SCHEMA: dict[str, pl.DataType] = {
    "campaign_id": pl.String(),
    "user_id": pl.String(),
    "subject": pl.String(),
    "text_body": pl.String(),
    "content_sha256": pl.String(),
    "variant": pl.String(),
}


@dataclass(frozen=True)
class DryRunResult:
    """Everything a dry run produces; no frame carries contact details."""

    decisions: pl.DataFrame
    messages: pl.DataFrame
    funnel: pl.DataFrame
    rule_version: str


def dry_run(
    campaign: Campaign,
    template: Template,
    user_segment: pl.DataFrame,
    consents: pl.DataFrame,
    people: pl.DataFrame,
    as_of: datetime,
    unsubscribe_base_url: str,
    rule_pack: RulePack | None = None,
    business_timezone: str = "Asia/Shanghai",
    suppressions: pl.DataFrame | None = None,
    send_at: datetime | None = None,
    recent_sends: pl.DataFrame | None = None,
    variant_templates: Mapping[str, Template] | None = None,
) -> DryRunResult:
    """Select the audience, decide per recipient, and render messages for `send` rows.

    Args:
        campaign: The campaign.
        template: Its template.
        user_segment: `marts.user_segment` (user_id and the columns campaigns filter on: persona_id, rfm_segment).
        consents: `staged.consents`.
        people: One row per user (see `decide_recipients`).
        as_of: Timezone-aware decision instant.
        unsubscribe_base_url: Base of the per-recipient unsubscribe link; `?c=<campaign>&u=<user>` is appended.
        rule_pack: Rules to apply; default is the shipped pack for the template's jurisdiction.
        business_timezone: Zone whose calendar date is used for ages.
        suppressions: Suppressed users (user_id, reason), honoured by the `not_suppressed` rule.
        send_at: The send instant judged by quiet hours and frequency caps (default: the campaign's
            `send_at`, else `as_of`).
        recent_sends: Outbox-ledger sends of earlier campaigns (see `decide_recipients`).
        variant_templates: Template per variant name (see `decide_recipients`).

    Returns:
        `decisions` (see `decide_recipients`), `messages` (one row per `send` decision: campaign_id,
        user_id, subject, text_body, content_sha256, variant; each rendered with its variant's template),
        `funnel` (see `audience_funnel`), `rule_version`.

    Raises:
        MissingPlaceholderError: a placeholder has no value for some recipient (GEN-01).
    """
    pack = rule_pack or shipped_rule_pack(template.jurisdiction)
    audience = select_audience(user_segment, campaign)
    decisions = decide_recipients(
        audience, consents, people, campaign, template, as_of, rule_pack=pack, business_timezone=business_timezone,
        suppressions=suppressions, send_at=send_at, recent_sends=recent_sends, variant_templates=variant_templates,
    )
    templates = dict(variant_templates or {})
    recipients = decisions.filter(pl.col("decision") == "send").select("campaign_id", "user_id", "variant")
    # Only customer-safe fields: no segment, persona or score reaches a template.
    fields = recipients.with_columns(
        pl.col("user_id").alias("user_ref"),
        (
            pl.lit(f"{unsubscribe_base_url}{'&' if '?' in unsubscribe_base_url else '?'}"
                   f"c={quote(campaign.campaign_id)}&u=")
            + _url_quote(pl.col("user_id"))
        ).alias("unsubscribe_url"),
    )
    # One vectorised render per arm, each with that arm's template.
    parts = [
        render_frame(templates.get(arm.name, template), fields.filter(pl.col("variant") == arm.name))
        for arm in campaign.arms
    ]
    messages = (pl.concat([part.select(list(MESSAGE_SCHEMA)) for part in parts]) if parts
                else pl.DataFrame(schema=MESSAGE_SCHEMA)).cast(MESSAGE_SCHEMA)
    order = recipients.select("user_id").with_row_index("_order")
    messages = messages.join(order, on="user_id", how="left").sort("_order").drop("_order")
    rule_ids = [rule.rule_id for rule in pack.applicable(template.product_type, campaign.channel)]
    return DryRunResult(decisions, messages, audience_funnel(decisions, rule_ids), pack.rule_version)


def _url_quote(user_ids: pl.Expr) -> pl.Expr:
    # Ids are pseudonymous keys; escape only the characters that would break the query string.
    escaped = user_ids
    for raw, encoded in (("%", "%25"), ("&", "%26"), ("#", "%23"), ("+", "%2B"), (" ", "%20"), ("=", "%3D")):
        escaped = escaped.str.replace_all(raw, encoded, literal=True)
    return escaped

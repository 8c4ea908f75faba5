"""Dry run: decide recipients and render their messages; nothing is sent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

import polars as pl

from campaigns.campaign import Campaign, select_audience
from campaigns.decide import decide_recipients
from campaigns.funnel import audience_funnel
from campaigns.library import shipped_rule_pack
from campaigns.render import render_frame
from campaigns.rule_pack import RulePack
from campaigns.template import Template

MESSAGE_SCHEMA: dict[str, pl.DataType] = {
    "campaign_id": pl.String(),
    "user_id": pl.String(),
    "subject": pl.String(),
    "text_body": pl.String(),
    "content_sha256": pl.String(),
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
) -> DryRunResult:
    """Select the audience, decide per recipient, and render messages for `send` rows.

    Args:
        campaign: The campaign.
        template: Its template.
        user_segment: `marts.user_segment` (user_id, persona_id, persona_name, rfm_segment).
        consents: `staged.consents`.
        people: One row per user (see `decide_recipients`).
        as_of: Timezone-aware decision instant.
        unsubscribe_base_url: Base of the per-recipient unsubscribe link; `?c=<campaign>&u=<user>` is appended.
        rule_pack: Rules to apply; default is the shipped pack for the template's jurisdiction.
        business_timezone: Zone whose calendar date is used for ages.
        suppressions: Suppressed users (user_id, reason), honoured by the `not_suppressed` rule.

    Returns:
        `decisions` (see `decide_recipients`), `messages` (one row per `send` decision: campaign_id,
        user_id, subject, text_body, content_sha256), `funnel` (see `audience_funnel`), `rule_version`.

    Raises:
        MissingPlaceholderError: a placeholder has no value for some recipient (GEN-01).
    """
    pack = rule_pack or shipped_rule_pack(template.jurisdiction)
    audience = select_audience(user_segment, campaign)
    decisions = decide_recipients(
        audience, consents, people, campaign, template, as_of, rule_pack=pack, business_timezone=business_timezone,
        suppressions=suppressions,
    )
    recipients = decisions.filter(pl.col("decision") == "send").select("campaign_id", "user_id")
    fields = recipients.join(
        audience.select(pl.col("user_id").cast(pl.String), *_segment_fields(audience)),
        on="user_id", how="left", maintain_order="left",
    ).with_columns(
        pl.col("user_id").alias("user_ref"),
        (
            pl.lit(f"{unsubscribe_base_url}{'&' if '?' in unsubscribe_base_url else '?'}"
                   f"c={quote(campaign.campaign_id)}&u=")
            + _url_quote(pl.col("user_id"))
        ).alias("unsubscribe_url"),
    )
    messages = render_frame(template, fields).select(list(MESSAGE_SCHEMA)).cast(MESSAGE_SCHEMA)
    rule_ids = [rule.rule_id for rule in pack.applicable(template.product_type)]
    return DryRunResult(decisions, messages, audience_funnel(decisions, rule_ids), pack.rule_version)


def _segment_fields(audience: pl.DataFrame) -> list[pl.Expr]:
    return [pl.col(name).cast(pl.String) for name in ("persona_name",) if name in audience.columns]


def _url_quote(user_ids: pl.Expr) -> pl.Expr:
    # Ids are pseudonymous keys; escape only the characters that would break the query string.
    escaped = user_ids
    for raw, encoded in (("%", "%25"), ("&", "%26"), ("#", "%23"), ("+", "%2B"), (" ", "%20"), ("=", "%3D")):
        escaped = escaped.str.replace_all(raw, encoded, literal=True)
    return escaped

"""The dry run of every campaign file in a folder: decisions, rendered messages and funnels, nothing sent."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import polars as pl

from campaigns.definitions.campaign_file import load_campaign
from campaigns.definitions.shipped_library import campaign_paths, template_path
from campaigns.definitions.template_file import load_template
from campaigns.eligibility.decisions import DECISION_SCHEMA
from campaigns.eligibility.dry_run import MESSAGE_SCHEMA, dry_run

STORED_DECISION_SCHEMA = {**DECISION_SCHEMA, "reason_codes": pl.String()}
FUNNEL_SCHEMA = {"step": pl.String, "remaining": pl.Int64, "excluded": pl.Int64, "failing": pl.Int64,
                 "campaign_id": pl.String}


@dataclass(frozen=True)
class DryRunTables:
    """The dry-run tables of a folder of campaign files, with decision counts and notes for the run log."""

    decisions: pl.DataFrame  # one row per campaign × audience member (reason codes joined by ',')
    messages: pl.DataFrame  # one rendered message per `send` decision, no contact details
    funnel: pl.DataFrame  # one row per campaign × rule step
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # campaign → decision → people
    notes: list[str] = field(default_factory=list)


def dry_run_campaign_files(directory: str | Path | None, segments: pl.DataFrame, consents: pl.DataFrame,
                           people: pl.DataFrame, as_of: datetime, unsubscribe_base_url: str,
                           suppressions: pl.DataFrame | None = None,
                           recent_sends: pl.DataFrame | None = None) -> DryRunTables:
    """Decide and render every campaign file of `directory` (default: the shipped examples) as of `as_of`."""
    files = campaign_paths(directory)
    notes = []
    if consents.height == 0:
        notes.append("no consent records (source consents absent or empty): every audience member is "
                     "excluded, since marketing needs recorded consent")
    if not files:
        notes.append("no campaign files found: no dry run")
    decisions, messages, funnels, counts = [], [], [], {}
    for path in files:
        campaign = load_campaign(path)
        template = load_template(template_path(campaign.template_id, campaign.template_version))
        variants = {arm.name: load_template(template_path(arm.template_id, arm.template_version))
                    for arm in campaign.variants}
        result = dry_run(campaign, template, segments, consents, people, as_of, unsubscribe_base_url,
                         suppressions=suppressions, recent_sends=recent_sends, variant_templates=variants)
        decisions.append(result.decisions.with_columns(pl.lit(result.rule_version).alias("rule_version"),
                                                       pl.col("reason_codes").list.join(",")))
        messages.append(result.messages)
        funnels.append(result.funnel.with_columns(pl.lit(campaign.campaign_id).alias("campaign_id")))
        counts[campaign.campaign_id] = dict(result.decisions.group_by("decision").len().iter_rows())
    return DryRunTables(
        pl.concat(decisions, how="diagonal_relaxed") if decisions else pl.DataFrame(schema=STORED_DECISION_SCHEMA),
        pl.concat(messages) if messages else pl.DataFrame(schema=MESSAGE_SCHEMA),
        pl.concat(funnels) if funnels else pl.DataFrame(schema=FUNNEL_SCHEMA),
        counts, notes)

"""Read models over the operational store for one campaign or one person: what was decided, which rules ran,
which batch carried the message and what the provider reported. No contact details: those stay in the
warehouse's `private` schema.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import polars as pl
from sqlalchemy import Connection, func, select

from campaigns.campaign_errors import ApprovalError, ConfigFileError
from campaigns.definitions.shipped_library import template_path
from campaigns.definitions.template_file import Template, load_template
from campaigns.eligibility.rule_packs import shipped_rule_pack
from campaigns.governance.template_approvals import registered_template
from campaigns.results.recipient_explanation import ProviderEvent, RecordedDecision, RuleRef
from campaigns.store.op_database import rows_frame
from campaigns.store.op_tables import outbox, outbox_recipients, plan_decisions, plans, webhook_events

SENDING_KINDS = ("launch", "resend")


@dataclass(frozen=True)
class CampaignSummary:
    """One campaign the store knows: its latest recorded run of any kind, and whether it was ever launched."""

    campaign_id: str
    latest_kind: str
    latest_at: datetime
    template_key: str
    # A launch was run (a dry run counts), and whether a live one put batches in the ledger.
    launched: bool
    sent: bool


def campaign_summaries(conn: Connection) -> list[CampaignSummary]:
    rows = conn.execute(select(plans.c.campaign_id, plans.c.kind, plans.c.planned_at, plans.c.template_key)
                        .order_by(plans.c.campaign_id, plans.c.planned_at)).all()
    with_batches = set(conn.execute(select(outbox.c.campaign_id).distinct()).scalars())
    latest: dict[str, CampaignSummary] = {}
    for row in rows:
        launched = row.kind in SENDING_KINDS or (row.campaign_id in latest and latest[row.campaign_id].launched)
        latest[row.campaign_id] = CampaignSummary(row.campaign_id, row.kind, row.planned_at, row.template_key, launched,
                                                  row.campaign_id in with_batches)
    return sorted(latest.values(), key=lambda s: s.latest_at, reverse=True)


def deciding_plan(conn: Connection, campaign_id: str):
    """The run whose decisions stand: the latest launch or resend, else the latest plan (None: never planned)."""
    for kinds in (SENDING_KINDS, ("plan",)):
        row = conn.execute(select(plans).where(plans.c.campaign_id == campaign_id, plans.c.kind.in_(kinds))
                           .order_by(plans.c.planned_at.desc()).limit(1)).first()
        if row is not None:
            return row
    return None


def recorded_decision(conn: Connection, plan, user_id: str) -> tuple[RecordedDecision | None, datetime | None]:
    """The person's decision in a recorded run, and the as-of instant it was decided with."""
    row = conn.execute(select(plan_decisions).where(plan_decisions.c.plan_id == plan.plan_id,
                                                    plan_decisions.c.user_id == user_id)).first()
    if row is None:
        return None, None
    return RecordedDecision(row.decision, row.reason_codes, row.variant, plan.kind, plan.planned_at, row.send_at,
                            row.rule_version, plan.template_key), row.as_of


def decision_template(conn: Connection, template_key: str) -> Template | None:
    """The template a run used: its registered copy, else the shipped one (None when neither can be read)."""
    template_id, _, version = template_key.rpartition("@")
    try:
        return registered_template(conn, template_id, int(version))[0]
    except (ApprovalError, ValueError):
        pass
    try:
        return load_template(template_path(template_id, int(version)))
    except (OSError, ValueError, ConfigFileError):
        return None


def decision_rules(template: Template | None, rule_version: str | None) -> list[RuleRef]:
    """The rules a decision ran through, in order, when the shipped pack is still the version it recorded."""
    if template is None or rule_version is None:
        return []
    try:
        pack = shipped_rule_pack(template.jurisdiction)
    except NotImplementedError:
        return []
    if pack.rule_version != rule_version:
        return []
    return [RuleRef(rule.rule_id, rule.check, rule.title) for rule in pack.applicable(template.product_type,
                                                                                        template.channel)]


def delivery_of(conn: Connection, campaign_id: str, user_id: str
                ) -> tuple[str | None, str | None, str | None, list[ProviderEvent]]:
    """The batch that carried the person's message, its state, why they were skipped (if so) and the events."""
    member = conn.execute(select(outbox_recipients.c.batch_id, outbox_recipients.c.skipped_reason)
                          .where(outbox_recipients.c.campaign_id == campaign_id,
                                 outbox_recipients.c.user_id == user_id)).first()
    state = None
    if member is not None:
        state = conn.execute(select(outbox.c.state).where(outbox.c.campaign_id == campaign_id,
                                                          outbox.c.batch_id == member.batch_id)).scalar()
    events = [ProviderEvent(r.event, r.occurred_at) for r in conn.execute(
        select(webhook_events.c.event, webhook_events.c.occurred_at)
        .where(webhook_events.c.campaign_id == campaign_id, webhook_events.c.user_id == user_id)).all()]
    return (member.batch_id if member else None, state, member.skipped_reason if member else None, events)


def was_sent(conn: Connection, campaign_id: str) -> bool:
    """Whether a live launch put any batch of the campaign in the ledger (a dry run records a launch, no batch)."""
    return conn.execute(select(outbox.c.batch_id).where(outbox.c.campaign_id == campaign_id).limit(1)).first() is not None


def event_people(conn: Connection, campaign_id: str) -> dict[str, int]:
    """People per provider event kind (delivered, open, click, bounce, …) of a campaign."""
    rows = conn.execute(select(webhook_events.c.event, func.count(func.distinct(webhook_events.c.user_id)))
                        .where(webhook_events.c.campaign_id == campaign_id)
                        .group_by(webhook_events.c.event)).all()
    return {event: int(people) for event, people in rows}


def decision_counts(conn: Connection, plan_id: str) -> dict[str, int]:
    rows = conn.execute(select(plan_decisions.c.decision, func.count()).where(plan_decisions.c.plan_id == plan_id)
                        .group_by(plan_decisions.c.decision)).all()
    return {decision: int(people) for decision, people in rows}


def first_launch_assignments(conn: Connection, campaign_id: str) -> pl.DataFrame:
    """The first launch's send and holdout decisions (intent to treat), for the holdout lift."""
    first = conn.execute(select(plans.c.plan_id, plans.c.planned_at).where(
        plans.c.campaign_id == campaign_id, plans.c.kind == "launch").order_by(plans.c.planned_at).limit(1)).first()
    schema = {"campaign_id": pl.String(), "user_id": pl.String(), "decision": pl.String(),
              "decided_at": pl.Datetime("us", "UTC")}
    if first is None:
        return pl.DataFrame(schema=schema)
    frame = rows_frame(conn, select(plan_decisions.c.campaign_id, plan_decisions.c.user_id, plan_decisions.c.decision,
                                    plan_decisions.c.send_at).where(plan_decisions.c.plan_id == first.plan_id),
                       {"campaign_id": pl.String(), "user_id": pl.String(), "decision": pl.String(),
                        "send_at": pl.Datetime("us", "UTC")})
    return frame.rename({"send_at": "decided_at"}).with_columns(
        pl.col("decided_at").fill_null(pl.lit(first.planned_at).cast(pl.Datetime("us", "UTC")))).cast(schema)


def plan_campaign_definition(plan) -> dict | None:
    """The campaign file a launch recorded (None for a plan, which records none)."""
    return json.loads(plan.campaign_json) if plan is not None and plan.campaign_json else None

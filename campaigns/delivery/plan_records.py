"""Plan records: decide a campaign's audience at the send instant and record the decisions in the store.

Analytics (segments, consents, people and whether each person can be reached on the channel) are read
from the warehouse through a read-only connection; suppressions and earlier sends come from the
operational store, where the plan and its decisions are written, in one transaction:
- `plans`: one row per plan, launch or resend run (grain: plan_id) with the audience digest and counts
  (`counts_json`: per decision, plus `send:<variant>` per A/B variant; `send_at`: the instant judged; a
  launch keeps its campaign file as `campaign_json`, so a resend can be decided exactly as launched).
- `plan_decisions`: one row per plan_id × audience member: decision, reason codes, rule version, the
  A/B `variant` of a send, and `send_at`.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb
import polars as pl
from sqlalchemy import and_, select

from campaigns.definitions.campaign_file import Campaign, campaign_definition
from campaigns.definitions.template_file import Template
from campaigns.delivery.contact_book import CONTACT_COLUMN, has_column, reachability
from campaigns.eligibility.dry_run import DryRunResult, dry_run
from campaigns.governance.audit_trail import audit
from campaigns.store.op_database import OpStore, insert_rows, rows_frame
from campaigns.store.op_tables import outbox, outbox_recipients, plan_decisions, plans, suppressions
from warehouse import read_frame, table_exists
from warehouse.sql_files import load_query

RECENT_SENDS_SCHEMA = {"user_id": pl.String(), "campaign_id": pl.String(), "state": pl.String(),
                       "sent_at": pl.Datetime("us", "UTC"), "scheduled_for": pl.Datetime("us", "UTC")}


@dataclass(frozen=True)
class Plan:
    """A recorded plan or launch run: its decisions and what identifies them."""

    plan_id: str
    result: DryRunResult
    audience_sha256: str
    counts: dict[str, int]
    as_of: datetime
    # The instant the rules were judged for.
    send_at: datetime | None = None
    # `send` decisions per A/B variant.
    variant_counts: dict[str, int] = field(default_factory=dict)

    @property
    def exclusion_reasons(self) -> dict[str, int]:
        """People per reason code among the excluded (a person with several reasons counts for each)."""
        exploded = (self.result.decisions.filter(pl.col("decision") == "excluded")
                    .select(pl.col("reason_codes").explode(empty_as_null=False)).drop_nulls())
        return dict(exploded.group_by("reason_codes").len().sort("len", "reason_codes", descending=[True, False])
                    .iter_rows())


def default_as_of(conn: duckdb.DuckDBPyConnection) -> datetime:
    """The end of the analysed data window: decisions match what the data knows, like the dry-run asset."""
    if table_exists(conn, "core.analysis_window"):
        value = conn.execute("SELECT window_end FROM core.analysis_window").fetchone()[0]
        return value.astimezone(UTC)
    return datetime.now(UTC)


def read_people(conn: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """One row per person with the attributes rules read, including `<channel>_reach` for each channel.

    `push_reach` is there only when `private.user_contacts` has a `push_token` column; without it nobody can
    be reached by push (the contactability rule fails closed).
    """
    people = read_frame(conn, load_query("campaigns", "campaign_people"))
    if table_exists(conn, "private.user_contacts") and has_column(conn, CONTACT_COLUMN["push"]):
        push = reachability(conn, "push").rename({"reach": "push_reach"})
        people = people.join(push, on="user_id", how="left", maintain_order="left")
    return people


def read_suppressions(store: OpStore) -> pl.DataFrame:
    return store.frame(select(suppressions.c.user_id, suppressions.c.reason).distinct(),
                       {"user_id": pl.String(), "reason": pl.String()})


def read_recent_sends(store: OpStore) -> pl.DataFrame:
    """Sends of every campaign from the outbox ledger, for frequency caps (no contact details)."""
    joined = outbox_recipients.join(outbox, and_(outbox.c.campaign_id == outbox_recipients.c.campaign_id,
                                                 outbox.c.batch_id == outbox_recipients.c.batch_id))
    return store.frame(select(outbox_recipients.c.user_id, outbox.c.campaign_id, outbox.c.state,
                              outbox.c.updated_at.label("sent_at"), outbox.c.send_instant.label("scheduled_for"))
                       .select_from(joined).where(outbox_recipients.c.skipped_reason.is_(None)), RECENT_SENDS_SCHEMA)


def read_segments(warehouse: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Each person's RFM segment, persona and (when the warehouse has them) the list of their rule segments."""
    segments = read_frame(warehouse, "SELECT user_id, persona_id, rfm_segment FROM marts.user_segment")
    if not table_exists(warehouse, "marts.user_rule_segment"):
        return segments
    rule = read_frame(warehouse, "SELECT user_id, list(segment ORDER BY segment) AS rule_segment "
                                 "FROM marts.user_rule_segment GROUP BY user_id")
    return segments.join(rule, on="user_id", how="left")


def plan_campaign(warehouse: duckdb.DuckDBPyConnection, store: OpStore, campaign: Campaign, template: Template,
                  actor: str, as_of: datetime, unsubscribe_base_url: str, kind: str = "plan",
                  business_timezone: str = "Asia/Shanghai", send_at: datetime | None = None,
                  variant_templates: Mapping[str, Template] | None = None) -> Plan:
    """Decide every audience member and record the decisions (nothing is sent).

    Args:
        warehouse: A (read-only) warehouse connection: segments, consents, people.
        store: The operational store: suppressions and earlier sends are read, the plan is written.
        campaign: The campaign.
        template: Its (main) template.
        actor: Who plans (audit trail).
        as_of: What the data knows: consents and risk assessments recorded up to this instant count.
        unsubscribe_base_url: Base of the per-recipient unsubscribe link.
        kind: "plan", "launch" or "resend".
        business_timezone: Zone whose calendar date is used for ages.
        send_at: The instant the messages go out: every rule (ages, assessment expiry, quiet hours, frequency
            caps) is judged for it; default the campaign's `send_at`, else now.
        variant_templates: Template per A/B variant name (campaigns with `variants`).
    """
    segments = read_segments(warehouse)
    consents = read_frame(warehouse, "SELECT * FROM staged.consents")
    people = read_people(warehouse)
    send_at = send_at or campaign.send_at or datetime.now(UTC)
    result = dry_run(campaign, template, segments, consents, people, as_of, unsubscribe_base_url,
                     business_timezone=business_timezone, suppressions=read_suppressions(store), send_at=send_at,
                     recent_sends=read_recent_sends(store), variant_templates=variant_templates)
    decisions = result.decisions.sort("user_id")
    with_variants = bool(campaign.variants)
    digest = hashlib.sha256("\n".join(
        f"{u}\x1f{d}" + (f"\x1f{v or ''}" if with_variants else "")
        for u, d, v in decisions.select("user_id", "decision", "variant").iter_rows()).encode()).hexdigest()
    counts = {k: int(v) for k, v in decisions.group_by("decision").len().iter_rows()}
    variant_counts = {k: int(v) for k, v in decisions.filter(pl.col("decision") == "send")
                      .group_by("variant").len().sort("variant").iter_rows()}
    judged = send_at.astimezone(UTC)
    plan_id = uuid.uuid4().hex
    now = datetime.now(UTC)
    frame = decisions.select(
        pl.lit(plan_id).alias("plan_id"), "campaign_id", "user_id", "decision",
        pl.col("reason_codes").list.join(",").alias("reason_codes"), "rule_version", "as_of", "variant", "send_at")
    with store.transaction() as conn:
        insert_rows(conn, plans, [{
            "plan_id": plan_id, "campaign_id": campaign.campaign_id, "kind": kind, "actor": actor, "planned_at": now,
            "as_of": as_of.astimezone(UTC), "template_key": template.key, "content_sha256": template.content_sha256,
            "rule_version": result.rule_version, "audience_sha256": digest,
            "counts_json": json.dumps({**counts, **({f"send:{k}": v for k, v in variant_counts.items()}
                                                    if with_variants else {})}, sort_keys=True),
            "send_at": judged,
            "campaign_json": json.dumps(campaign_definition(campaign), ensure_ascii=False) if kind != "plan" else None}])
        insert_rows(conn, plan_decisions, frame.to_dicts())
        audit(conn, actor, f"campaign.{kind}", campaign.campaign_id, {
            "plan_id": plan_id, "template": template.key, "audience_sha256": digest, "counts": counts,
            "variants": {name: t.key for name, t in (variant_templates or {}).items()},
            "variant_counts": variant_counts, "send_at": judged.isoformat(), "rule_version": result.rule_version})
    return Plan(plan_id, result, digest, counts, as_of, judged, variant_counts)


def latest_launch(store: OpStore, campaign_id: str | None = None) -> pl.DataFrame:
    """The latest launch of each campaign (or of one): campaign_id, plan_id, campaign_json, send_at."""
    statement = select(plans.c.campaign_id, plans.c.plan_id, plans.c.campaign_json, plans.c.send_at,
                       plans.c.planned_at).where(plans.c.kind == "launch")
    if campaign_id is not None:
        statement = statement.where(plans.c.campaign_id == campaign_id)
    with store.transaction() as conn:
        frame = rows_frame(conn, statement, {"campaign_id": pl.String(), "plan_id": pl.String(),
                                             "campaign_json": pl.String(), "send_at": pl.Datetime("us", "UTC"),
                                             "planned_at": pl.Datetime("us", "UTC")})
    return frame.sort("planned_at").unique("campaign_id", keep="last").sort("campaign_id")


def eligible_people(plan: Plan) -> pl.DataFrame:
    """`send` decisions of a plan with their A/B `variant`. No contact details, and no label of any kind."""
    return plan.result.decisions.filter(pl.col("decision") == "send").select("user_id", "variant")


"""Plan records: decide a campaign's audience against the warehouse at send time, and record the decisions.

Tables written (schema `campaigns`):
- `plans`: one row per plan or launch run (grain: plan_id) with the audience digest and counts
  (`counts_json`: per decision, plus `send:<variant>` per A/B variant; `send_at`: the instant judged).
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

from campaigns.definitions.campaign_file import Campaign
from campaigns.definitions.template_file import Template
from campaigns.delivery.outbox_ledger import ensure_outbox
from campaigns.delivery.provider_events import ensure_suppressions
from campaigns.eligibility.dry_run import DryRunResult, dry_run
from campaigns.governance.audit_trail import audit
from warehouse import read_frame, table_exists
from warehouse.sql_files import load_query


@dataclass(frozen=True)
class Plan:
    """A recorded plan or launch run: its decisions and what identifies them."""

    plan_id: str
    result: DryRunResult
    audience_sha256: str
    counts: dict[str, int]
    as_of: datetime
    # The instant quiet hours and frequency caps were judged for.
    send_at: datetime | None = None
    # `send` decisions per A/B variant.
    variant_counts: dict[str, int] = field(default_factory=dict)


def default_as_of(conn: duckdb.DuckDBPyConnection) -> datetime:
    """The end of the analysed data window: decisions match what the data knows, like the dry-run asset."""
    if table_exists(conn, "core.analysis_window"):
        value = conn.execute("SELECT window_end FROM core.analysis_window").fetchone()[0]
        return value.astimezone(UTC)
    return datetime.now(UTC)


def plan_campaign(conn: duckdb.DuckDBPyConnection, campaign: Campaign, template: Template, actor: str,
                  as_of: datetime, unsubscribe_base_url: str, kind: str = "plan",
                  business_timezone: str = "Asia/Shanghai", send_at: datetime | None = None,
                  variant_templates: Mapping[str, Template] | None = None) -> Plan:
    """Decide every audience member and record the decisions (nothing is sent).

    Args:
        conn: The warehouse.
        campaign: The campaign.
        template: Its (main) template.
        actor: Who plans (audit trail).
        as_of: What the data knows: consents, ages and risk assessments are taken as of this instant.
        unsubscribe_base_url: Base of the per-recipient unsubscribe link.
        kind: "plan" or "launch".
        business_timezone: Zone whose calendar date is used for ages.
        send_at: The instant the messages go out (quiet hours, frequency caps); default the campaign's
            `send_at`, else now (this is the path to a real send, unlike a pure `dry_run`).
        variant_templates: Template per A/B variant name (campaigns with `variants`).
    """
    conn.execute(load_query("campaigns", "plan_tables"))
    ensure_suppressions(conn)
    ensure_outbox(conn)
    segments = read_frame(conn, "SELECT user_id, persona_id, persona_name, rfm_segment FROM marts.user_segment")
    consents = read_frame(conn, "SELECT * FROM staged.consents")
    people = read_frame(conn, load_query("campaigns", "campaign_people"))
    suppressions = read_frame(conn, "SELECT DISTINCT user_id, reason FROM campaigns.suppressions")
    recent_sends = read_frame(conn, load_query("campaigns", "recent_sends"))
    send_at = send_at or campaign.send_at or datetime.now(UTC)
    result = dry_run(campaign, template, segments.with_columns(pl.col("persona_name").fill_null("全部用户")),
                     consents, people, as_of, unsubscribe_base_url, business_timezone=business_timezone,
                     suppressions=suppressions, send_at=send_at, recent_sends=recent_sends,
                     variant_templates=variant_templates)
    decisions = result.decisions.sort("user_id")
    with_variants = bool(campaign.variants)
    digest = hashlib.sha256("\n".join(
        f"{u}\x1f{d}" + (f"\x1f{v or ''}" if with_variants else "")
        for u, d, v in decisions.select("user_id", "decision", "variant").iter_rows()).encode()).hexdigest()
    counts = {k: int(v) for k, v in decisions.group_by("decision").len().iter_rows()}
    variant_counts = {k: int(v) for k, v in decisions.filter(pl.col("decision") == "send")
                      .group_by("variant").len().sort("variant").iter_rows()}
    judged = decisions.get_column("send_at").max() if decisions.height else (send_at or campaign.send_at or as_of)
    plan_id = uuid.uuid4().hex
    now = datetime.now(UTC)
    conn.execute(
        "INSERT INTO campaigns.plans (plan_id, campaign_id, kind, actor, planned_at, as_of, template_key, content_sha256, "
        "rule_version, audience_sha256, counts_json, send_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
            plan_id, campaign.campaign_id, kind, actor, now, as_of, template.key, template.content_sha256,
            result.rule_version, digest,
            json.dumps({**counts, **({f"send:{k}": v for k, v in variant_counts.items()} if with_variants else {})},
                       sort_keys=True),
            judged])
    frame = decisions.select(
        pl.lit(plan_id).alias("plan_id"), "campaign_id", "user_id", "decision",
        pl.col("reason_codes").list.join(",").alias("reason_codes"), "rule_version", "as_of", "variant", "send_at")
    conn.register("_decisions", frame.to_arrow())
    try:
        conn.execute(f"INSERT INTO campaigns.plan_decisions ({', '.join(frame.columns)}) "
                     f"SELECT {', '.join(frame.columns)} FROM _decisions")
    finally:
        conn.unregister("_decisions")
    audit(conn, actor, f"campaign.{kind}", campaign.campaign_id, {
        "plan_id": plan_id, "template": template.key, "audience_sha256": digest, "counts": counts,
        "variants": {name: t.key for name, t in (variant_templates or {}).items()},
        "variant_counts": variant_counts, "send_at": judged.isoformat() if judged else None,
        "rule_version": result.rule_version})
    return Plan(plan_id, result, digest, counts, as_of, judged, variant_counts)


def eligible_people(plan: Plan, conn: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """`send` decisions of a plan (with their A/B `variant`) and the placeholder fields delivery needs.

    No contact details: those are read from `private.user_contacts` only for the batch being sent.
    """
    sends = plan.result.decisions.filter(pl.col("decision") == "send").select("user_id", "variant")
    segments = read_frame(conn, "SELECT user_id, persona_name FROM marts.user_segment")
    return sends.join(segments.with_columns(pl.col("user_id").cast(pl.String)), on="user_id", how="left",
                      maintain_order="left")

"""Plan and launch a campaign against the warehouse: decide at send time, record, then deliver.

Tables written (schema `campaigns`):
- `plans`: one row per plan or launch run (grain: plan_id) with the audience digest and counts.
- `plan_decisions`: one row per plan_id × audience member: decision, reason codes, rule version.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

import duckdb
import polars as pl

from campaigns.campaign import Campaign
from campaigns.dry_run import DryRunResult, dry_run
from campaigns.registry import audit
from campaigns.template import Template
from campaigns.webhook import ensure_suppressions
from warehouse import read_frame, table_exists

PEOPLE_SQL = """
SELECT u.user_id, c.birth_date, u.is_student, u.risk_level, u.risk_assessed_at
FROM staged.users u LEFT JOIN private.user_contacts c USING (user_id)
"""
PLAN_SQL = """
CREATE SCHEMA IF NOT EXISTS campaigns;
CREATE TABLE IF NOT EXISTS campaigns.plans (
    plan_id VARCHAR PRIMARY KEY, campaign_id VARCHAR NOT NULL, kind VARCHAR NOT NULL, actor VARCHAR NOT NULL,
    planned_at TIMESTAMPTZ NOT NULL, as_of TIMESTAMPTZ NOT NULL, template_key VARCHAR NOT NULL,
    content_sha256 VARCHAR NOT NULL, rule_version VARCHAR NOT NULL, audience_sha256 VARCHAR NOT NULL,
    counts_json VARCHAR NOT NULL);
CREATE TABLE IF NOT EXISTS campaigns.plan_decisions (
    plan_id VARCHAR NOT NULL, campaign_id VARCHAR NOT NULL, user_id VARCHAR NOT NULL, decision VARCHAR NOT NULL,
    reason_codes VARCHAR NOT NULL, rule_version VARCHAR NOT NULL, as_of TIMESTAMPTZ NOT NULL);
"""


@dataclass(frozen=True)
class Plan:
    plan_id: str
    result: DryRunResult
    audience_sha256: str
    counts: dict[str, int]
    as_of: datetime


def default_as_of(conn: duckdb.DuckDBPyConnection) -> datetime:
    """The end of the analysed data window: decisions match what the data knows, like the dry-run asset."""
    if table_exists(conn, "core.analysis_window"):
        value = conn.execute("SELECT window_end FROM core.analysis_window").fetchone()[0]
        return value.astimezone(timezone.utc)
    return datetime.now(timezone.utc)


def plan_campaign(conn: duckdb.DuckDBPyConnection, campaign: Campaign, template: Template, actor: str,
                  as_of: datetime, unsubscribe_base_url: str, kind: str = "plan",
                  business_timezone: str = "Asia/Shanghai") -> Plan:
    """Decide every audience member now and record the decisions (nothing is sent)."""
    conn.execute(PLAN_SQL)
    ensure_suppressions(conn)
    segments = read_frame(conn, "SELECT user_id, persona_id, persona_name, rfm_segment FROM marts.user_segment")
    consents = read_frame(conn, "SELECT * FROM staged.consents")
    people = read_frame(conn, PEOPLE_SQL)
    suppressions = read_frame(conn, "SELECT DISTINCT user_id, reason FROM campaigns.suppressions")
    result = dry_run(campaign, template, segments.with_columns(pl.col("persona_name").fill_null("全部用户")),
                     consents, people, as_of, unsubscribe_base_url, business_timezone=business_timezone,
                     suppressions=suppressions)
    decisions = result.decisions.sort("user_id")
    digest = hashlib.sha256("\n".join(
        f"{u}\x1f{d}" for u, d in decisions.select("user_id", "decision").iter_rows()).encode()).hexdigest()
    counts = {k: int(v) for k, v in decisions.group_by("decision").len().iter_rows()}
    plan_id = uuid.uuid4().hex
    now = datetime.now(timezone.utc)
    conn.execute("INSERT INTO campaigns.plans VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
        plan_id, campaign.campaign_id, kind, actor, now, as_of, template.key, template.content_sha256,
        result.rule_version, digest, json.dumps(counts, sort_keys=True)])
    frame = decisions.select(
        pl.lit(plan_id).alias("plan_id"), "campaign_id", "user_id", "decision",
        pl.col("reason_codes").list.join(",").alias("reason_codes"), "rule_version", "as_of")
    conn.register("_decisions", frame.to_arrow())
    try:
        conn.execute("INSERT INTO campaigns.plan_decisions SELECT * FROM _decisions")
    finally:
        conn.unregister("_decisions")
    audit(conn, actor, f"campaign.{kind}", campaign.campaign_id, {
        "plan_id": plan_id, "template": template.key, "audience_sha256": digest, "counts": counts,
        "rule_version": result.rule_version})
    return Plan(plan_id, result, digest, counts, as_of)


def eligible_people(plan: Plan, conn: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """`send` decisions of a plan with the placeholder fields delivery needs (no contact details)."""
    sends = plan.result.decisions.filter(pl.col("decision") == "send").select("user_id")
    segments = read_frame(conn, "SELECT user_id, persona_name FROM marts.user_segment")
    return sends.join(segments.with_columns(pl.col("user_id").cast(pl.String)), on="user_id", how="left",
                      maintain_order="left")

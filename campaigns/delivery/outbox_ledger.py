"""The outbox ledger that makes every send at-most-once per person, shared by e-mail and vendor-file delivery.

`campaigns.outbox` holds one row per campaign × batch; `campaigns.outbox_recipients` one row per
campaign × person, primary key on both so nobody can sit in two batches. The first live launch freezes
the audience into deterministic batches, in one transaction; every later launch only works through the
batches still `planned`. Batch states:

    planned → sending → accepted | failed | unknown | exported | empty      (413: split into two halves)

An `unknown` batch is never resent automatically: a provider event carrying its `batch_key` resolves it
(`campaigns.delivery.provider_events`), or an admin requeues it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb
import polars as pl

from campaigns.campaign_errors import DeliveryHalted
from campaigns.definitions.template_file import Template
from campaigns.governance.audit_trail import audit
from warehouse.sql_files import load_query

MAIN_VARIANT = "main"
_OUTBOX_INSERT = ("INSERT INTO campaigns.outbox (campaign_id, batch_id, batch_key, template_key, member_count, "
                  "members_sha256, payload_sha256, state, attempts, x_message_id, last_status, last_error, planned_at, "
                  "updated_at, variant, send_instant, channel) VALUES (?, ?, ?, ?, ?, ?, NULL, 'planned', 0, NULL, NULL, "
                  "NULL, ?, ?, ?, ?, ?)")


@dataclass
class LaunchReport:
    campaign_id: str
    live: bool
    batches: dict[str, int] = field(default_factory=dict)
    recipients_accepted: int = 0
    recipients_planned: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    unknown_batches: list[str] = field(default_factory=list)
    halted: str | None = None
    requests: int = 0
    seconds: float = 0.0


def ensure_outbox(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute(load_query("campaigns", "outbox_tables"))


def batch_key(campaign_id: str, batch_id: str, user_ids: Iterable[str]) -> str:
    digest = hashlib.sha256("\x1f".join([campaign_id, batch_id, *user_ids]).encode()).hexdigest()
    return f"{campaign_id[:40]}-{batch_id}-{digest[:12]}"


def plan_batches(user_ids: Iterable[str], batch_size: int) -> list[list[str]]:
    """Deterministic batches: sorted ids, chunked. The same audience always gives the same batches."""
    ordered = sorted(set(user_ids))
    return [ordered[i:i + batch_size] for i in range(0, len(ordered), batch_size)]


def plan_variant_batches(eligible: pl.DataFrame, batch_size: int) -> list[tuple[str, list[str]]]:
    """Deterministic batches per variant (variants by name, then sorted ids): one template per request."""
    frame = with_variant(eligible)
    batches = []
    for variant in sorted(frame.get_column("variant").unique().to_list()):
        ids = frame.filter(pl.col("variant") == variant).get_column("user_id").to_list()
        batches.extend((variant, members) for members in plan_batches(ids, batch_size))
    return batches


def with_variant(eligible: pl.DataFrame) -> pl.DataFrame:
    """`eligible` with a `variant` column (the single arm "main" when the campaign has no variants)."""
    if "variant" not in eligible.columns:
        return eligible.with_columns(pl.lit(MAIN_VARIANT).alias("variant"))
    return eligible.with_columns(pl.col("variant").fill_null(MAIN_VARIANT))


def variant_template_map(template: Template, variant_templates: Mapping[str, Template] | None) -> dict[str, Template]:
    """Template per variant name; "main" is the campaign's template."""
    return {MAIN_VARIANT: template, **dict(variant_templates or {})}


def freeze_plan(conn, campaign_id: str, templates: Mapping[str, Template], eligible: pl.DataFrame, batch_size: int,
                actor: str, channel: str, send_instant: datetime | None) -> None:
    """Freeze the audience into deterministic per-variant batches, once per campaign, in one transaction."""
    exists = conn.execute("SELECT count(*) FROM campaigns.outbox WHERE campaign_id = ?", [campaign_id]).fetchone()[0]
    if exists:
        return
    now = datetime.now(UTC)
    batches = plan_variant_batches(eligible, batch_size)
    outbox_rows, member_rows = [], []
    for number, (variant, members) in enumerate(batches):
        batch_id = f"{number:05d}"
        outbox_rows.append((campaign_id, batch_id, batch_key(campaign_id, batch_id, members), templates[variant].key,
                            len(members), _sha(members), now, now, variant, send_instant, channel))
        member_rows.extend((campaign_id, user_id, batch_id) for user_id in members)
    conn.execute("BEGIN TRANSACTION")
    try:
        conn.executemany(_OUTBOX_INSERT, outbox_rows)
        if member_rows:
            frame = pl.DataFrame(member_rows, schema=["campaign_id", "user_id", "batch_id"], orient="row")
            conn.register("_members", frame.to_arrow())
            conn.execute("INSERT INTO campaigns.outbox_recipients SELECT campaign_id, user_id, batch_id, NULL FROM _members")
            conn.unregister("_members")
        conn.execute("COMMIT")
    except Exception:
        conn.execute("ROLLBACK")
        raise
    audit(conn, actor, "campaign.plan_frozen", campaign_id,
          {"templates": sorted({t.key for t in templates.values()}), "batches": len(batches),
           "recipients": len(member_rows), "channel": channel})


def recover_in_flight(conn, campaign_id: str, actor: str) -> None:
    stuck = [r[0] for r in conn.execute(
        "SELECT batch_id FROM campaigns.outbox WHERE campaign_id = ? AND state = 'sending'", [campaign_id]).fetchall()]
    for batch_id in stuck:
        set_state(conn, campaign_id, batch_id, "unknown", error="in flight when the previous launch stopped")
        audit(conn, actor, "delivery.unknown", f"{campaign_id}/{batch_id}",
              {"reason": "in flight when the previous launch stopped; not resent automatically"})


def requeue_unknown(conn, campaign_id: str, actor: str) -> None:
    for (batch_id,) in conn.execute("SELECT batch_id FROM campaigns.outbox WHERE campaign_id = ? AND state = 'unknown'",
                                    [campaign_id]).fetchall():
        set_state(conn, campaign_id, batch_id, "planned", error="requeued by operator after unknown outcome")
        audit(conn, actor, "delivery.requeue_unknown", f"{campaign_id}/{batch_id}",
              {"warning": "operator accepted the risk of a duplicate send"})


def still_eligible(conn, campaign_id: str, batch_id: str, fields: pl.DataFrame) -> pl.DataFrame:
    """The batch's frozen members who are still eligible now; the others are marked skipped in the ledger."""
    members = [r[0] for r in conn.execute(
        "SELECT user_id FROM campaigns.outbox_recipients WHERE campaign_id = ? AND batch_id = ? "
        "AND skipped_reason IS NULL ORDER BY user_id", [campaign_id, batch_id]).fetchall()]
    still = fields.filter(pl.col("user_id").is_in(members))
    skip_members(conn, campaign_id, sorted(set(members) - set(still.get_column("user_id").to_list())), "no_longer_eligible")
    return still


def batch_template(conn, campaign_id: str, batch_id: str, templates: Mapping[str, Template]) -> tuple[str, Template]:
    """The batch key and the template its variant is rendered with (checked against the frozen template key)."""
    key, variant, template_key = conn.execute(
        "SELECT batch_key, coalesce(variant, ?), template_key FROM campaigns.outbox WHERE campaign_id = ? AND batch_id = ?",
        [MAIN_VARIANT, campaign_id, batch_id]).fetchone()
    template = templates.get(variant)
    if template is None or template.key != template_key:
        raise DeliveryHalted(f"batch {batch_id} was frozen for variant {variant!r} with template {template_key}; "
                             "the campaign file no longer matches it")
    return key, template


def skip_members(conn, campaign_id: str, user_ids: list[str], reason: str) -> None:
    if user_ids:
        conn.executemany("UPDATE campaigns.outbox_recipients SET skipped_reason = ? WHERE campaign_id = ? AND user_id = ?",
                         [(reason, campaign_id, u) for u in user_ids])


def split_batch(conn, campaign_id: str, batch_id: str, members: list[str], actor: str) -> list[str]:
    if len(members) <= 1:
        set_state(conn, campaign_id, batch_id, "failed", status=413, error="a single message is too large")
        return []
    now = datetime.now(UTC)
    half = len(members) // 2
    children = []
    conn.execute("BEGIN TRANSACTION")
    try:
        for index, part in enumerate((members[:half], members[half:])):
            child = f"{batch_id}.{index}"
            conn.execute("INSERT INTO campaigns.outbox (campaign_id, batch_id, batch_key, template_key, member_count, "
                         "members_sha256, state, attempts, planned_at, updated_at, variant, send_instant, channel) "
                         "SELECT campaign_id, ?, ?, template_key, ?, ?, 'planned', 0, ?, ?, variant, send_instant, channel "
                         "FROM campaigns.outbox WHERE campaign_id = ? AND batch_id = ?",
                         [child, batch_key(campaign_id, child, part), len(part), _sha(part), now, now, campaign_id,
                          batch_id])
            conn.executemany("UPDATE campaigns.outbox_recipients SET batch_id = ? WHERE campaign_id = ? AND user_id = ?",
                             [(child, campaign_id, u) for u in part])
            children.append(child)
        conn.execute("UPDATE campaigns.outbox SET state = 'split', last_status = 413, updated_at = ? "
                     "WHERE campaign_id = ? AND batch_id = ?", [now, campaign_id, batch_id])
        conn.execute("COMMIT")
    except Exception:
        conn.execute("ROLLBACK")
        raise
    audit(conn, actor, "delivery.split", f"{campaign_id}/{batch_id}", {"children": children})
    return children


def set_state(conn, campaign_id: str, batch_id: str, state: str, status: int | None = None, error: str | None = None,
               message_id: str | None = None) -> None:
    conn.execute("UPDATE campaigns.outbox SET state = ?, last_status = coalesce(?, last_status), last_error = ?, "
                 "x_message_id = coalesce(?, x_message_id), updated_at = ? WHERE campaign_id = ? AND batch_id = ?",
                 [state, status, error, message_id, datetime.now(UTC), campaign_id, batch_id])


def summarise(conn, report: LaunchReport) -> None:
    rows = conn.execute("SELECT state, count(*), sum(member_count) FROM campaigns.outbox WHERE campaign_id = ? "
                        "GROUP BY state", [report.campaign_id]).fetchall()
    report.batches = {state: count for state, count, _ in rows}
    report.recipients_accepted = conn.execute(
        "SELECT count(*) FROM campaigns.outbox_recipients r JOIN campaigns.outbox o USING (campaign_id, batch_id) "
        "WHERE campaign_id = ? AND o.state = 'accepted' AND r.skipped_reason IS NULL", [report.campaign_id]).fetchone()[0]
    report.recipients_planned = conn.execute(
        "SELECT count(*) FROM campaigns.outbox_recipients WHERE campaign_id = ?", [report.campaign_id]).fetchone()[0]
    report.skipped = dict(conn.execute(
        "SELECT skipped_reason, count(*) FROM campaigns.outbox_recipients WHERE campaign_id = ? "
        "AND skipped_reason IS NOT NULL GROUP BY 1", [report.campaign_id]).fetchall())
    report.unknown_batches = [r[0] for r in conn.execute(
        "SELECT batch_id FROM campaigns.outbox WHERE campaign_id = ? AND state = 'unknown' ORDER BY batch_id",
        [report.campaign_id]).fetchall()]


def unknown_batches(conn, campaign_id: str) -> list[str]:
    """The batches of a campaign whose outcome is unknown, by batch id (none without a ledger)."""
    if not conn.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'campaigns' "
                        "AND table_name = 'outbox'").fetchone()[0]:
        return []
    return [r[0] for r in conn.execute("SELECT batch_id FROM campaigns.outbox WHERE campaign_id = ? AND state = 'unknown' "
                                       "ORDER BY batch_id", [campaign_id]).fetchall()]


def _sha(values: list[str]) -> str:
    return hashlib.sha256("\x1f".join(values).encode()).hexdigest()

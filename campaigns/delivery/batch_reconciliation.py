"""Reconciliation: settle every open batch from the provider's evidence, and finish what evidence cannot settle.

For each batch of a campaign (or of every campaign):

1. A batch `sending` for longer than the wait lost its launcher (a crash or a kill): it becomes `unknown`
   since the moment it was sent.
2. A `sending` or `unknown` batch with stored provider events carrying its `batch_key` (whatever state the
   batch was in when they arrived) is `accepted`: the evidence is written to the audit trail.
3. An `unknown` batch with no evidence after the wait is requeued (`planned`) for one resend, per batch and at
   most once; the audit trail records the decision and the (absent) evidence. A batch that already had its
   resend and still has no evidence stays `unknown` and is reported as needing an operator.

SendGrid has no idempotency key, so a 5xx answer is `unknown`, never `failed`: only the evidence (or its
absence for the whole wait) decides.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import polars as pl
from sqlalchemy import Connection, and_, func, select, update

from campaigns.governance.audit_trail import audit
from campaigns.store.op_database import OpStore, rows_frame
from campaigns.store.op_tables import outbox, webhook_events

MAX_RESENDS = 1
EVIDENCE_SCHEMA = {"campaign_id": pl.String, "batch_id": pl.String, "events": pl.Int64, "kinds": pl.String,
                   "first_event_at": pl.Datetime("us", "UTC")}


@dataclass(frozen=True)
class BatchDecision:
    """What reconciliation decided for one batch, and on what evidence."""

    campaign_id: str
    batch_id: str
    decision: str  # accepted | resend | unknown_in_flight | waiting | needs_operator
    evidence: str


@dataclass
class ReconcileReport:
    decisions: list[BatchDecision] = field(default_factory=list)

    def batches(self, decision: str) -> list[tuple[str, str]]:
        return [(d.campaign_id, d.batch_id) for d in self.decisions if d.decision == decision]

    @property
    def campaigns_to_resend(self) -> list[str]:
        return sorted({d.campaign_id for d in self.decisions if d.decision == "resend"})


def evidence(conn: Connection, campaign_id: str | None = None) -> pl.DataFrame:
    """Per batch with provider events: how many, which kinds, the first one's time."""
    statement = (select(outbox.c.campaign_id, outbox.c.batch_id, func.count().label("events"),
                        func.min(webhook_events.c.event).label("first_kind"),
                        func.max(webhook_events.c.event).label("last_kind"),
                        func.min(webhook_events.c.occurred_at).label("first_event_at"))
                 .select_from(outbox.join(webhook_events, and_(webhook_events.c.batch_key == outbox.c.batch_key,
                                                               webhook_events.c.campaign_id == outbox.c.campaign_id)))
                 .group_by(outbox.c.campaign_id, outbox.c.batch_id))
    if campaign_id is not None:
        statement = statement.where(outbox.c.campaign_id == campaign_id)
    frame = rows_frame(conn, statement, {"campaign_id": pl.String(), "batch_id": pl.String(), "events": pl.Int64(),
                                         "first_kind": pl.String(), "last_kind": pl.String(),
                                         "first_event_at": pl.Datetime("us", "UTC")})
    kinds = (pl.when(pl.col("first_kind") == pl.col("last_kind")).then(pl.col("first_kind"))
             .otherwise(pl.col("first_kind") + pl.lit("…") + pl.col("last_kind")))
    return frame.select("campaign_id", "batch_id", "events", kinds.alias("kinds"), "first_event_at").cast(EVIDENCE_SCHEMA)


def reconcile(store: OpStore, actor: str, wait: timedelta, campaign_id: str | None = None,
              now: datetime | None = None, max_resends: int = MAX_RESENDS) -> ReconcileReport:
    """Settle the open batches of one campaign (or all) from evidence; requeue the overdue ones once."""
    now = now or datetime.now(UTC)
    report = ReconcileReport()
    with store.transaction() as conn:
        scope = [outbox.c.state.in_(["sending", "unknown"])]
        if campaign_id is not None:
            scope.append(outbox.c.campaign_id == campaign_id)
        open_batches = conn.execute(select(outbox.c.campaign_id, outbox.c.batch_id, outbox.c.state, outbox.c.updated_at,
                                           outbox.c.unknown_since, outbox.c.resends).where(*scope)
                                    .order_by(outbox.c.campaign_id, outbox.c.batch_id)).all()
        proof = {(r["campaign_id"], r["batch_id"]): r for r in evidence(conn, campaign_id).iter_rows(named=True)}
        for row in open_batches:
            where = and_(outbox.c.campaign_id == row.campaign_id, outbox.c.batch_id == row.batch_id,
                         outbox.c.state == row.state)
            subject = f"{row.campaign_id}/{row.batch_id}"
            found = proof.get((row.campaign_id, row.batch_id))
            if found is not None:
                text = f"{found['events']} provider event(s) ({found['kinds']}), first at {found['first_event_at']:%Y-%m-%dT%H:%M:%SZ}"
                if conn.execute(update(outbox).where(where).values(
                        state="accepted", updated_at=now, last_error=f"accepted: {text}")).rowcount:
                    audit(conn, actor, "delivery.reconciled", subject,
                          {"decision": "accepted", "evidence": text, "state_before": row.state}, now)
                    report.decisions.append(BatchDecision(row.campaign_id, row.batch_id, "accepted", text))
                continue
            since = row.unknown_since or row.updated_at
            if row.state == "sending":
                if now - row.updated_at < wait:
                    report.decisions.append(BatchDecision(row.campaign_id, row.batch_id, "waiting",
                                                          "in flight; no provider event yet"))
                    continue
                conn.execute(update(outbox).where(where).values(
                    state="unknown", unknown_since=row.updated_at, updated_at=now,
                    last_error="in flight when its launcher stopped"))
                audit(conn, actor, "delivery.unknown", subject,
                      {"reason": "sending for longer than the reconcile wait; its launcher stopped"}, now)
                since = row.updated_at
            none = f"no provider event with the batch key since {since:%Y-%m-%dT%H:%M:%SZ}"
            if now - since < wait:
                report.decisions.append(BatchDecision(row.campaign_id, row.batch_id, "waiting",
                                                      f"{none}; waiting until {since + wait:%Y-%m-%dT%H:%M:%SZ}"))
                continue
            if row.resends >= max_resends:
                report.decisions.append(BatchDecision(row.campaign_id, row.batch_id, "needs_operator",
                                                      f"{none}; already resent {row.resends} time(s)"))
                continue
            if conn.execute(update(outbox).where(and_(outbox.c.campaign_id == row.campaign_id,
                                                      outbox.c.batch_id == row.batch_id, outbox.c.state == "unknown"))
                            .values(state="planned", resends=outbox.c.resends + 1, updated_at=now,
                                    last_error=f"requeued for one resend: {none}")).rowcount:
                audit(conn, actor, "delivery.resend_unknown", subject,
                      {"decision": "resend", "evidence": none, "wait_minutes": wait.total_seconds() / 60,
                       "resend": row.resends + 1, "max_resends": max_resends}, now)
                report.decisions.append(BatchDecision(row.campaign_id, row.batch_id, "resend", none))
    return report


def requeue(store: OpStore, campaign_id: str, batch_ids: Sequence[str], from_state: str, actor: str, action: str,
            reason: str, count_resend: bool = False) -> list[str]:
    """Operator requeue of named batches (admin): `from_state → planned`, audited; returns the batch ids moved.

    Refuses (returns nothing for) a batch that has provider evidence: it was accepted, and a resend would
    be a certain duplicate.
    """
    now = datetime.now(UTC)
    moved = []
    with store.transaction() as conn:
        proof = {r["batch_id"] for r in evidence(conn, campaign_id).iter_rows(named=True)}
        for batch_id in batch_ids:
            if batch_id in proof:
                continue
            values = {"state": "planned", "updated_at": now, "last_error": reason}
            if count_resend:
                values["resends"] = outbox.c.resends + 1
            if conn.execute(update(outbox).where(outbox.c.campaign_id == campaign_id, outbox.c.batch_id == batch_id,
                                                 outbox.c.state == from_state).values(**values)).rowcount:
                audit(conn, actor, action, f"{campaign_id}/{batch_id}", {"reason": reason, "from": from_state}, now)
                moved.append(batch_id)
    return moved


def batch_table(store: OpStore, campaign_id: str) -> pl.DataFrame:
    """Every batch of a campaign with its state, attempts, resends, last answer and provider evidence."""
    with store.transaction() as conn:
        batches = rows_frame(conn, select(
            outbox.c.batch_id, outbox.c.variant, outbox.c.state, outbox.c.member_count, outbox.c.attempts,
            outbox.c.resends, outbox.c.last_status, outbox.c.last_error, outbox.c.updated_at, outbox.c.unknown_since)
            .where(outbox.c.campaign_id == campaign_id).order_by(outbox.c.batch_id), {
            "batch_id": pl.String(), "variant": pl.String(), "state": pl.String(), "member_count": pl.Int64(),
            "attempts": pl.Int64(), "resends": pl.Int64(), "last_status": pl.Int64(), "last_error": pl.String(),
            "updated_at": pl.Datetime("us", "UTC"), "unknown_since": pl.Datetime("us", "UTC")})
        proof = evidence(conn, campaign_id).drop("campaign_id")
    return batches.join(proof, on="batch_id", how="left", maintain_order="left").with_columns(
        pl.col("events").fill_null(0))

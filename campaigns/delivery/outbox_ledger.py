"""The outbox ledger that makes every send at-most-once per person, shared by e-mail and vendor-file delivery.

`outbox` holds one row per campaign × batch; `outbox_recipients` one row per campaign × person, primary key
on both so nobody can sit in two batches. The first live launch with anyone to send freezes the audience
into deterministic batches, in one transaction; every later launch only works through batches still
`planned`. Batch states:

    planned → sending → accepted | failed | unknown | exported | empty      (413: split into two halves)
    unknown → accepted (provider evidence) | planned (resent once, after the reconcile wait, no evidence)
    failed  → planned (an admin retries it after a fix)

Every change of state is one transaction with a condition on the current state (`UPDATE … WHERE state =
'planned'` and a check of the row count), so two launchers can never both send a batch, and an answer
arriving late can never undo what provider evidence already settled.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import polars as pl
from sqlalchemy import Connection, and_, func, select, update
from sqlalchemy.exc import IntegrityError

from campaigns.campaign_errors import DeliveryHalted
from campaigns.definitions.template_file import Template
from campaigns.governance.audit_trail import audit
from campaigns.store.op_database import OpStore, insert_rows
from campaigns.store.op_tables import outbox, outbox_recipients

MAIN_VARIANT = "main"
# States in which a batch may still turn out to have been accepted by the provider.
OPEN_STATES = ("planned", "sending", "unknown")


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


def is_frozen(store: OpStore, campaign_id: str) -> bool:
    with store.transaction() as conn:
        return _batch_count(conn, campaign_id) > 0


def freeze_plan(store: OpStore, campaign_id: str, templates: Mapping[str, Template], eligible: pl.DataFrame,
                batch_size: int, actor: str, channel: str, send_instant: datetime | None) -> bool:
    """Freeze the audience into deterministic per-variant batches, once per campaign, in one transaction.

    Nothing is frozen for an empty audience (a later launch with people to send freezes then). Returns whether
    this call froze the plan.
    """
    batches = plan_variant_batches(eligible, batch_size) if eligible.height else []
    if not batches:
        return False
    now = datetime.now(UTC)
    outbox_rows, member_rows = [], []
    for number, (variant, members) in enumerate(batches):
        batch_id = f"{number:05d}"
        outbox_rows.append({
            "campaign_id": campaign_id, "batch_id": batch_id, "batch_key": batch_key(campaign_id, batch_id, members),
            "template_key": templates[variant].key, "member_count": len(members), "members_sha256": _sha(members),
            "state": "planned", "attempts": 0, "resends": 0, "planned_at": now, "updated_at": now,
            "variant": variant, "send_instant": send_instant, "channel": channel})
        member_rows.extend({"campaign_id": campaign_id, "user_id": user_id, "batch_id": batch_id, "skipped_reason": None}
                           for user_id in members)
    try:
        with store.transaction() as conn:
            if _batch_count(conn, campaign_id):
                return False
            insert_rows(conn, outbox, outbox_rows)
            insert_rows(conn, outbox_recipients, member_rows)
            audit(conn, actor, "campaign.plan_frozen", campaign_id,
                  {"templates": sorted({t.key for t in templates.values()}), "batches": len(batches),
                   "recipients": len(member_rows), "channel": channel})
    except IntegrityError:
        return False  # another launcher froze it first; its batches are the campaign's
    return True


def recover_in_flight(store: OpStore, campaign_id: str, actor: str) -> list[str]:
    """Batches left `sending` by a launch that stopped become `unknown` (since they were sent)."""
    now = datetime.now(UTC)
    with store.transaction() as conn:
        stuck = conn.execute(select(outbox.c.batch_id, outbox.c.updated_at).where(
            outbox.c.campaign_id == campaign_id, outbox.c.state == "sending")).all()
        for batch_id, sent_at in stuck:
            moved = conn.execute(update(outbox).where(_batch(campaign_id, batch_id), outbox.c.state == "sending").values(
                state="unknown", unknown_since=sent_at, updated_at=now,
                last_error="in flight when the previous launch stopped")).rowcount
            if moved:
                audit(conn, actor, "delivery.unknown", f"{campaign_id}/{batch_id}",
                      {"reason": "in flight when the previous launch stopped; resolved from provider events, or "
                                 "resent once after the reconcile wait"})
    return [batch_id for batch_id, _ in stuck]


def planned_batches(store: OpStore, campaign_id: str) -> list[str]:
    with store.transaction() as conn:
        return list(conn.execute(select(outbox.c.batch_id).where(
            outbox.c.campaign_id == campaign_id, outbox.c.state == "planned").order_by(outbox.c.batch_id)).scalars())


def claim(store: OpStore, campaign_id: str, batch_id: str, payload_sha256: str | None = None) -> bool:
    """`planned → sending` and one more attempt, if the batch is still planned; False when another launcher won."""
    with store.transaction() as conn:
        values = {"state": "sending", "attempts": outbox.c.attempts + 1, "updated_at": datetime.now(UTC)}
        if payload_sha256 is not None:
            values["payload_sha256"] = payload_sha256
        return conn.execute(update(outbox).where(_batch(campaign_id, batch_id), outbox.c.state == "planned")
                            .values(**values)).rowcount == 1


def transition(store: OpStore, campaign_id: str, batch_id: str, to_state: str, from_states: Sequence[str] = ("sending",),
               status: int | None = None, error: str | None = None, message_id: str | None = None,
               audit_action: str | None = None, actor: str = "", details: dict | None = None,
               **values) -> bool:
    """Move a batch to `to_state` if it is in one of `from_states` (one transaction, audited when asked)."""
    now = datetime.now(UTC)
    changes = {"state": to_state, "last_error": error, "updated_at": now, **values}
    if status is not None:
        changes["last_status"] = status
    if message_id is not None:
        changes["x_message_id"] = message_id
    if to_state == "unknown" and "unknown_since" not in values:
        changes["unknown_since"] = now
    with store.transaction() as conn:
        moved = conn.execute(update(outbox).where(_batch(campaign_id, batch_id), outbox.c.state.in_(list(from_states)))
                             .values(**changes)).rowcount == 1
        if moved and audit_action:
            audit(conn, actor, audit_action, f"{campaign_id}/{batch_id}", details or {})
    return moved


def batch_members(store: OpStore, campaign_id: str, batch_id: str) -> list[str]:
    """The batch's frozen members not skipped, sorted."""
    with store.transaction() as conn:
        return list(conn.execute(select(outbox_recipients.c.user_id).where(
            outbox_recipients.c.campaign_id == campaign_id, outbox_recipients.c.batch_id == batch_id,
            outbox_recipients.c.skipped_reason.is_(None)).order_by(outbox_recipients.c.user_id)).scalars())


def still_eligible(store: OpStore, campaign_id: str, batch_id: str, eligible_ids: set[str]) -> list[str]:
    """The batch's frozen members who are still eligible now; the others are marked skipped in the ledger."""
    members = batch_members(store, campaign_id, batch_id)
    still = [user_id for user_id in members if user_id in eligible_ids]
    skip_members(store, campaign_id, sorted(set(members) - set(still)), "no_longer_eligible")
    return still


def batch_template(store: OpStore, campaign_id: str, batch_id: str,
                   templates: Mapping[str, Template]) -> tuple[str, str, Template]:
    """The batch key, variant and the template the variant is rendered with (checked against the frozen key)."""
    with store.transaction() as conn:
        row = conn.execute(select(outbox.c.batch_key, outbox.c.variant, outbox.c.template_key).where(
            _batch(campaign_id, batch_id))).one()
    variant = row.variant or MAIN_VARIANT
    template = templates.get(variant)
    if template is None or template.key != row.template_key:
        raise DeliveryHalted(f"batch {batch_id} was frozen for variant {variant!r} with template {row.template_key}; "
                             "the campaign file no longer matches it")
    return row.batch_key, variant, template


def skip_members(store: OpStore, campaign_id: str, user_ids: list[str], reason: str) -> None:
    if not user_ids:
        return
    with store.transaction() as conn:
        conn.execute(update(outbox_recipients).where(
            outbox_recipients.c.campaign_id == campaign_id, outbox_recipients.c.user_id.in_(user_ids))
            .values(skipped_reason=reason))


def split_batch(store: OpStore, campaign_id: str, batch_id: str, members: list[str], actor: str) -> list[str]:
    """A batch the provider refused as too large (413) becomes two planned halves, in one transaction."""
    if len(members) <= 1:
        transition(store, campaign_id, batch_id, "failed", from_states=("planned", "sending"), status=413,
                   error="a single message is too large")
        return []
    now = datetime.now(UTC)
    half = len(members) // 2
    children = []
    with store.transaction() as conn:
        parent = conn.execute(select(outbox).where(_batch(campaign_id, batch_id))).one()._asdict()
        for index, part in enumerate((members[:half], members[half:])):
            child = f"{batch_id}.{index}"
            conn.execute(outbox.insert().values(
                {**parent, "batch_id": child, "batch_key": batch_key(campaign_id, child, part), "member_count": len(part),
                 "members_sha256": _sha(part), "payload_sha256": None, "state": "planned", "attempts": 0,
                 "resends": 0, "x_message_id": None, "last_status": None, "last_error": None, "planned_at": now,
                 "updated_at": now, "unknown_since": None}))
            conn.execute(update(outbox_recipients).where(
                outbox_recipients.c.campaign_id == campaign_id, outbox_recipients.c.user_id.in_(part))
                .values(batch_id=child))
            children.append(child)
        conn.execute(update(outbox).where(_batch(campaign_id, batch_id)).values(
            state="split", last_status=413, updated_at=now))
        audit(conn, actor, "delivery.split", f"{campaign_id}/{batch_id}", {"children": children})
    return children


def summarise(store: OpStore, report: LaunchReport, delivered_states: tuple[str, ...] = ("accepted",)) -> None:
    with store.transaction() as conn:
        report.batches = dict(conn.execute(select(outbox.c.state, func.count()).where(
            outbox.c.campaign_id == report.campaign_id).group_by(outbox.c.state)).all())
        joined = outbox_recipients.join(outbox, and_(outbox.c.campaign_id == outbox_recipients.c.campaign_id,
                                                     outbox.c.batch_id == outbox_recipients.c.batch_id))
        report.recipients_accepted = conn.execute(select(func.count()).select_from(joined).where(
            outbox_recipients.c.campaign_id == report.campaign_id, outbox.c.state.in_(delivered_states),
            outbox_recipients.c.skipped_reason.is_(None))).scalar_one()
        report.recipients_planned = conn.execute(select(func.count()).where(
            outbox_recipients.c.campaign_id == report.campaign_id)).scalar_one()
        report.skipped = dict(conn.execute(select(outbox_recipients.c.skipped_reason, func.count()).where(
            outbox_recipients.c.campaign_id == report.campaign_id, outbox_recipients.c.skipped_reason.is_not(None))
            .group_by(outbox_recipients.c.skipped_reason)).all())
        report.unknown_batches = list(conn.execute(select(outbox.c.batch_id).where(
            outbox.c.campaign_id == report.campaign_id, outbox.c.state == "unknown").order_by(outbox.c.batch_id))
            .scalars())


def unknown_batches(store: OpStore, campaign_id: str) -> list[str]:
    """The batches of a campaign whose outcome is unknown, by batch id."""
    with store.transaction() as conn:
        return list(conn.execute(select(outbox.c.batch_id).where(
            outbox.c.campaign_id == campaign_id, outbox.c.state == "unknown").order_by(outbox.c.batch_id)).scalars())


def batch_states(conn: Connection, campaign_id: str, batch_ids: Sequence[str]) -> dict[str, str]:
    return dict(conn.execute(select(outbox.c.batch_id, outbox.c.state).where(
        outbox.c.campaign_id == campaign_id, outbox.c.batch_id.in_(list(batch_ids)))).all())


def _batch_count(conn: Connection, campaign_id: str) -> int:
    return conn.execute(select(func.count()).where(outbox.c.campaign_id == campaign_id)).scalar_one()


def _batch(campaign_id: str, batch_id: str):
    return and_(outbox.c.campaign_id == campaign_id, outbox.c.batch_id == batch_id)


def _sha(values: list[str]) -> str:
    return hashlib.sha256("\x1f".join(values).encode()).hexdigest()

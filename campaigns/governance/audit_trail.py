"""The hash-chained audit trail (`audit_log` of the operational store): one row per action; an edited or
deleted row breaks the chain. Appends are serialised across processes, so the chain stays linear when
several launchers, the webhook receiver and the reconciler write at once."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, func, select

from campaigns.store.op_database import lock_audit_chain
from campaigns.store.op_tables import audit_log

GENESIS = "0" * 64


def audit(conn: Connection, actor: str, action: str, subject: str, details: dict[str, Any],
          at: datetime | None = None) -> None:
    """Append one hash-chained row, inside the caller's transaction. Never pass contact details or secrets."""
    lock_audit_chain(conn)
    at = (at or datetime.now(UTC)).astimezone(UTC)
    last = conn.execute(select(audit_log.c.seq, audit_log.c.row_sha256).order_by(audit_log.c.seq.desc())
                        .limit(1)).first()
    prev = last.row_sha256 if last else GENESIS
    seq = (last.seq if last else 0) + 1
    body = json.dumps(details, ensure_ascii=False, sort_keys=True, default=str)
    row_hash = _audit_hash(prev, seq, at, actor, action, subject, body)
    conn.execute(audit_log.insert().values(seq=seq, logged_at=at, actor=actor, action=action, subject=subject[:200],
                                           details_json=body, prev_sha256=prev, row_sha256=row_hash))


def verify_audit_chain(conn: Connection) -> bool:
    """True when every audit row still hashes to what was written and links to its predecessor."""
    prev = GENESIS
    rows = conn.execute(select(audit_log).order_by(audit_log.c.seq)).all()
    for row in rows:
        if row.prev_sha256 != prev or _audit_hash(prev, row.seq, row.logged_at, row.actor, row.action, row.subject,
                                                  row.details_json) != row.row_sha256:
            return False
        prev = row.row_sha256
    return True


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    logged_at: datetime
    actor: str
    action: str
    subject: str
    details: dict[str, Any]


def audit_entries(conn: Connection, actor: str | None = None, action: str | None = None, subject: str | None = None,
                  since: datetime | None = None, until: datetime | None = None, limit: int = 200) -> list[AuditEntry]:
    """The newest audit rows first, filtered: exact actor, action prefix, subject substring, [since, until)."""
    query = select(audit_log).order_by(audit_log.c.seq.desc()).limit(max(1, min(limit, 2000)))
    if actor:
        query = query.where(audit_log.c.actor == actor)
    if action:
        query = query.where(audit_log.c.action.startswith(action, autoescape=True))
    if subject:
        query = query.where(audit_log.c.subject.contains(subject, autoescape=True))
    if since:
        query = query.where(audit_log.c.logged_at >= since)
    if until:
        query = query.where(audit_log.c.logged_at < until)
    return [AuditEntry(r.seq, r.logged_at, r.actor, r.action, r.subject, json.loads(r.details_json))
            for r in conn.execute(query).all()]


def audit_count(conn: Connection) -> int:
    return conn.execute(select(func.count()).select_from(audit_log)).scalar_one()


def _audit_hash(prev: str, seq: int, at: datetime, actor: str, action: str, subject: str, body: str) -> str:
    stamp = at.astimezone(UTC).isoformat(timespec="microseconds")
    return hashlib.sha256("\x1f".join([prev, str(seq), stamp, actor, action, subject[:200], body]).encode()).hexdigest()

"""The hash-chained audit trail (`campaigns.audit_log`): one row per action, an edited or deleted row breaks the chain."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import duckdb

from warehouse.sql_files import load_query

GENESIS = "0" * 64


def ensure_audit_log(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute(load_query("campaigns", "audit_tables"))


def audit(conn: duckdb.DuckDBPyConnection, actor: str, action: str, subject: str, details: dict[str, Any],
          at: datetime | None = None) -> None:
    """Append one hash-chained row to `campaigns.audit_log`. Never pass contact details or secrets."""
    ensure_audit_log(conn)
    at = at or datetime.now(UTC)
    last = conn.execute("SELECT row_sha256 FROM campaigns.audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    prev = last[0] if last else GENESIS
    seq = conn.execute("SELECT nextval('campaigns.audit_seq')").fetchone()[0]
    body = json.dumps(details, ensure_ascii=False, sort_keys=True, default=str)
    row_hash = _audit_hash(prev, seq, at, actor, action, subject, body)
    conn.execute("INSERT INTO campaigns.audit_log VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                 [seq, at, actor, action, subject, body, prev, row_hash])


def verify_audit_chain(conn: duckdb.DuckDBPyConnection) -> bool:
    """True when every audit row still hashes to what was written and links to its predecessor."""
    prev = GENESIS
    rows = conn.execute("SELECT seq, logged_at, actor, action, subject, details_json, prev_sha256, row_sha256 "
                        "FROM campaigns.audit_log ORDER BY seq").fetchall()
    for seq, at, actor, action, subject, body, prev_hash, row_hash in rows:
        if prev_hash != prev or _audit_hash(prev, seq, at, actor, action, subject, body) != row_hash:
            return False
        prev = row_hash
    return True


def _audit_hash(prev: str, seq: int, at: datetime, actor: str, action: str, subject: str, body: str) -> str:
    stamp = at.astimezone(UTC).isoformat(timespec="microseconds")
    return hashlib.sha256("\x1f".join([prev, str(seq), stamp, actor, action, subject, body]).encode()).hexdigest()

"""SendGrid Event Webhook: verify the signature, record events once, feed suppressions and reconcile sends.

Tables (schema `campaigns`):
- `webhook_events`: one row per distinct provider event (grain: dedup_key). No e-mail addresses are kept;
  the person is identified by the pseudonymous `member_ref` we put in `custom_args`.
- `suppressions`: one row per person × suppression event (unsubscribe, group_unsubscribe, bounce,
  spamreport); the `not_suppressed` rule excludes anyone listed here from later campaigns.

An event carrying a `batch_key` proves SendGrid accepted that batch, so an outbox batch left `unknown`
(timeout or crash after sending) is marked `accepted` here, or later by `reconcile_unknown_batches`, instead
of being resent.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import duckdb
from sendgrid.helpers.eventwebhook import EventWebhook

from campaigns.governance.audit_trail import audit
from warehouse.sql_files import load_query

SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"
REPLAY_WINDOW_SECONDS = 300
SUPPRESSING_EVENTS = {"unsubscribe": "unsubscribe", "group_unsubscribe": "unsubscribe", "spamreport": "spamreport",
                      "bounce": "bounce"}
WEBHOOK_ACTOR = "sendgrid-webhook"


@dataclass(frozen=True)
class IngestResult:
    """What one webhook delivery did, and the HTTP status to answer it with (200, 400 or 401)."""

    status: int
    reason: str = ""
    new_events: int = 0
    duplicates: int = 0
    suppressed: int = 0
    unresolved: int = 0
    reconciled_batches: tuple[str, ...] = ()


@dataclass
class _Tally:
    new_events: int = 0
    duplicates: int = 0
    suppressed: int = 0
    unresolved: int = 0
    reconciled_batches: list[str] = field(default_factory=list)


def ensure_suppressions(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute(load_query("campaigns", "webhook_tables"))


def verify_signature(public_key_b64: str, raw_body: bytes, signature: str | None, timestamp: str | None,
                     now: float | None = None, window_seconds: int = REPLAY_WINDOW_SECONDS) -> str | None:
    """None when the request is authentic and fresh, else why it is not.

    The signature covers the timestamp header followed by the raw body bytes (ECDSA P-256, SHA-256), so
    the body must be verified exactly as received, before any JSON parsing.
    """
    if not signature or not timestamp:
        return "missing signature headers"
    try:
        stamp = int(timestamp)
    except ValueError:
        return "malformed timestamp"
    now = time.time() if now is None else now
    # The library has no replay window; a captured request must not be replayable later.
    if abs(now - stamp) > window_seconds:
        return "timestamp outside the replay window"
    try:
        valid = EventWebhook(public_key_b64).verify_signature(raw_body.decode("utf-8"), signature, timestamp)
    except Exception:  # malformed base64 or key raises instead of returning False
        return "malformed signature or key"
    return None if valid else "bad signature"


def authentic_events(raw_body: bytes, headers: Mapping[str, str], public_key_b64: str,
                     now: float | None = None) -> list[Any] | IngestResult:
    """The events of a signed, fresh delivery, or the refusal to answer with (401 forged or stale, 400 not an array).

    Needs no warehouse: a forged request is refused before anything is opened.
    """
    lower = {k.lower(): v for k, v in headers.items()}
    problem = verify_signature(public_key_b64, raw_body, lower.get(SIGNATURE_HEADER.lower()),
                               lower.get(TIMESTAMP_HEADER.lower()), now)
    if problem:
        return IngestResult(401, problem)
    try:
        events = json.loads(raw_body)
    except ValueError:
        return IngestResult(400, "body is not JSON")
    if not isinstance(events, list):
        return IngestResult(400, "body must be a JSON array of events")
    return events


def record_events(conn: duckdb.DuckDBPyConnection, events: list[Any]) -> IngestResult:
    """Record the events of an authentic delivery once each; suppress, and resolve unknown batches.

    Redelivered events (same `sg_event_id`, or the same message, event type, time and URL under a new id)
    are counted once.
    """
    ensure_suppressions(conn)
    tally = _Tally()
    received = datetime.now(timezone.utc)
    for event in events:
        if not isinstance(event, dict) or not isinstance(event.get("event"), str):
            continue
        _record(conn, event, received, tally)
    return IngestResult(200, "", tally.new_events, tally.duplicates, tally.suppressed, tally.unresolved,
                        tuple(tally.reconciled_batches))


def ingest(conn: duckdb.DuckDBPyConnection, raw_body: bytes, headers: Mapping[str, str], public_key_b64: str,
           now: float | None = None) -> IngestResult:
    """Verify and record one webhook delivery; returns the HTTP status to answer with."""
    events = authentic_events(raw_body, headers, public_key_b64, now)
    if isinstance(events, IngestResult):
        return events
    return record_events(conn, events)


def reconcile_unknown_batches(conn: duckdb.DuckDBPyConnection, campaign_id: str, actor: str) -> list[str]:
    """Mark `accepted` every `unknown` batch of a campaign that a stored provider event names by its batch key.

    Events usually resolve a batch as they arrive; this catches events that were stored before the batch
    was marked `unknown` (e.g. a launch that crashed after the request went out). Returns the batch ids.
    """
    if not (_has_outbox(conn) and _exists(conn, "campaigns", "webhook_events")):
        return []
    now = datetime.now(timezone.utc)
    resolved = conn.execute(load_query("campaigns", "reconcilable_batches"), {"campaign_id": campaign_id}).fetchall()
    for batch_id, evidence in resolved:
        conn.execute("UPDATE campaigns.outbox SET state = 'accepted', last_error = 'reconciled from provider event', "
                     "updated_at = ? WHERE campaign_id = ? AND batch_id = ? AND state = 'unknown'",
                     [now, campaign_id, batch_id])
        audit(conn, actor, "delivery.reconciled", f"{campaign_id}/{batch_id}", {"evidence": evidence})
    return [batch_id for batch_id, _ in resolved]


def _record(conn: duckdb.DuckDBPyConnection, event: dict[str, Any], received: datetime, result: _Tally) -> None:
    kind = event["event"]
    user_id = event.get("member_ref")
    if not user_id and event.get("email"):
        row = conn.execute("SELECT user_id FROM private.user_contacts WHERE lower(email) = lower(?) LIMIT 1",
                           [str(event["email"])]).fetchone() if _has_contacts(conn) else None
        user_id = row[0] if row else None
    occurred = datetime.fromtimestamp(int(event["timestamp"]), timezone.utc) if str(event.get("timestamp", "")).isdigit() else None
    # sg_event_id is the documented key, but retries have been seen with new ids: also key on content.
    content_key = hashlib.sha256(json.dumps([
        event.get("sg_message_id") or f"{event.get('batch_key')}/{user_id}", kind, event.get("timestamp"),
        event.get("url")], default=str).encode()).hexdigest()
    keys = [k for k in (event.get("sg_event_id"), content_key) if k]
    seen = conn.execute("SELECT count(*) FROM campaigns.webhook_events WHERE dedup_key IN (SELECT unnest(?)) "
                        "OR sg_event_id IN (SELECT unnest(?))", [keys, keys]).fetchone()[0]
    if seen:
        result.duplicates += 1
        return
    conn.execute("INSERT INTO campaigns.webhook_events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", [
        content_key, event.get("sg_event_id"), kind, user_id, event.get("campaign_id"), event.get("batch_key"),
        event.get("sg_message_id"), occurred, received])
    result.new_events += 1
    reason = SUPPRESSING_EVENTS.get(kind)
    if kind == "bounce" and event.get("type") == "blocked":
        reason = None  # a block is the receiving server's policy, not a dead address
    if reason:
        if user_id:
            conn.execute("INSERT INTO campaigns.suppressions VALUES (?, ?, ?, ?, ?, ?, ?)",
                         [str(user_id), reason, kind, content_key, event.get("campaign_id"), occurred, received])
            result.suppressed += 1
        else:
            result.unresolved += 1
    if event.get("batch_key") and event.get("campaign_id") and _has_outbox(conn):
        updated = conn.execute(
            "UPDATE campaigns.outbox SET state = 'accepted', last_error = 'reconciled from provider event', "
            "updated_at = ? WHERE campaign_id = ? AND batch_key = ? AND state = 'unknown' RETURNING batch_id",
            [received, str(event["campaign_id"]), str(event["batch_key"])]).fetchall()
        if updated:
            audit(conn, WEBHOOK_ACTOR, "delivery.reconciled", f"{event['campaign_id']}/{updated[0][0]}",
                  {"evidence": kind})
            result.reconciled_batches.append(updated[0][0])


def _has_contacts(conn: duckdb.DuckDBPyConnection) -> bool:
    return _exists(conn, "private", "user_contacts")


def _has_outbox(conn: duckdb.DuckDBPyConnection) -> bool:
    return _exists(conn, "campaigns", "outbox")


def _exists(conn: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return conn.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
                        [schema, table]).fetchone()[0] > 0

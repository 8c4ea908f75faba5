"""SendGrid Event Webhook: verify the signature, check each event, record events once, feed suppressions and
settle batches.

Tables (operational store):
- `webhook_events`: one row per distinct provider event (grain: dedup_key). No e-mail addresses are kept;
  the person is identified by the pseudonymous `member_ref` we put in `custom_args`. `batch_state` keeps
  the ledger state of the event's batch when it arrived.
- `event_quarantine`: one row per malformed event of an authentic delivery (a timestamp out of range, an
  id that is not a string, …) with the reason; the delivery's other events are stored and answered 2xx,
  so one bad event never makes SendGrid retry (and lose) the rest.
- `suppressions`: one row per person × suppression event (unsubscribe, group_unsubscribe, bounce,
  spamreport); the `not_suppressed` rule excludes anyone listed here from later campaigns.

An event carrying a `batch_key` proves SendGrid accepted that batch, whatever state the ledger had it in
when the event arrived: a batch still `sending` (the launcher is waiting for an answer, or died), `unknown`
(timeout, 5xx, crash) or requeued `planned` for a resend is marked `accepted` at once.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sendgrid.helpers.eventwebhook import EventWebhook
from sqlalchemy import Connection, select, update

from campaigns.delivery.outbox_ledger import OPEN_STATES
from campaigns.governance.audit_trail import audit
from campaigns.store.op_database import OpStore, insert_ignoring_duplicates
from campaigns.store.op_tables import event_quarantine, outbox, suppressions, webhook_events

SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"
REPLAY_WINDOW_SECONDS = 300
SUPPRESSING_EVENTS = {"unsubscribe": "unsubscribe", "group_unsubscribe": "unsubscribe", "spamreport": "spamreport",
                      "bounce": "bounce"}
WEBHOOK_ACTOR = "sendgrid-webhook"
# Event timestamps outside [2000-01-01, now + 1 day] are not SendGrid's.
EARLIEST_EVENT = 946_684_800
LATEST_EVENT_AHEAD = 86_400
_STRING_FIELDS = ("sg_event_id", "sg_message_id", "member_ref", "campaign_id", "batch_key", "email", "type", "url",
                  "reason")
_MAX_FIELD = 255
# Looks a person up by address when an event lacks `member_ref` (None: cannot now; the delivery is retried).
MemberLookup = Callable[[Sequence[str]], Mapping[str, str] | None]


@dataclass(frozen=True)
class IngestResult:
    """What one webhook delivery did, and the HTTP status to answer it with (200, 400, 401 or 503)."""

    status: int
    reason: str = ""
    new_events: int = 0
    duplicates: int = 0
    suppressed: int = 0
    unresolved: int = 0
    quarantined: int = 0
    reconciled_batches: tuple[str, ...] = ()


@dataclass
class _Tally:
    new_events: int = 0
    duplicates: int = 0
    suppressed: int = 0
    unresolved: int = 0
    quarantined: int = 0
    reconciled_batches: list[str] = field(default_factory=list)


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

    Needs no store: a forged request is refused before anything is opened.
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


def event_problem(event: Any, now: float) -> str | None:
    """Why an event of an authentic delivery cannot be recorded, or None when it can."""
    if not isinstance(event, dict):
        return "event is not an object"
    kind = event.get("event")
    if not isinstance(kind, str) or not kind or len(kind) > 64:
        return "event type missing or not a short string"
    stamp = event.get("timestamp")
    if isinstance(stamp, bool) or not isinstance(stamp, int):
        return "timestamp is not an integer"
    if not EARLIEST_EVENT <= stamp <= now + LATEST_EVENT_AHEAD:
        return "timestamp out of range"
    for name in _STRING_FIELDS:
        value = event.get(name)
        if value is not None and not isinstance(value, str):
            return f"{name} is not a string"
        if isinstance(value, str) and len(value) > _MAX_FIELD * (8 if name == "url" else 1):
            return f"{name} is too long"
    return None


def record_events(store: OpStore, events: list[Any], lookup: MemberLookup | None = None,
                  now: datetime | None = None) -> IngestResult:
    """Record the events of an authentic delivery once each; quarantine malformed ones; suppress; settle batches.

    Redelivered events (same `sg_event_id`, or the same message, event type, time and URL under a new id)
    are counted once. When an event names no `member_ref` and `lookup` cannot be asked now, the good events
    are stored and the answer is 503, so SendGrid retries the delivery (the stored ones are then duplicates).
    """
    received = now or datetime.now(UTC)
    tally = _Tally()
    good: list[dict[str, Any]] = []
    bad: list[dict[str, Any]] = []
    for position, event in enumerate(events):
        problem = event_problem(event, received.timestamp())
        if problem:
            bad.append(_quarantine_row(position, event, problem, received))
        else:
            good.append(event)
    missing_refs = sorted({str(e["email"]).strip().lower() for e in good if not e.get("member_ref") and e.get("email")})
    by_address: Mapping[str, str] | None = {}
    if missing_refs and lookup is not None:
        by_address = lookup(missing_refs)
    retry = by_address is None
    with store.transaction() as conn:
        tally.quarantined = insert_ignoring_duplicates(conn, event_quarantine, bad)
        for event in good:
            user_id = event.get("member_ref")
            if not user_id and event.get("email"):
                if retry:
                    continue
                user_id = (by_address or {}).get(str(event["email"]).strip().lower())
            _record(conn, event, user_id, received, tally)
    if retry:
        return IngestResult(503, "the warehouse cannot resolve addresses now; retry", tally.new_events,
                            tally.duplicates, tally.suppressed, tally.unresolved, tally.quarantined,
                            tuple(tally.reconciled_batches))
    return IngestResult(200, "", tally.new_events, tally.duplicates, tally.suppressed, tally.unresolved,
                        tally.quarantined, tuple(tally.reconciled_batches))


def _quarantine_row(position: int, event: Any, problem: str, received: datetime) -> dict[str, Any]:
    """What is kept of a malformed event: why, where, its type and ids if they are strings, its key names and
    a digest of it. Never its values (they may hold an address)."""
    raw = json.dumps(event, sort_keys=True, default=str, ensure_ascii=False)
    mapping = event if isinstance(event, dict) else {}

    def text(name: str, limit: int) -> str | None:
        value = mapping.get(name)
        return value[:limit] if isinstance(value, str) else None

    return {"received_at": received, "position": position, "reason": problem[:200], "event": text("event", 64),
            "sg_event_id": text("sg_event_id", 255), "campaign_id": text("campaign_id", 80),
            "batch_key": text("batch_key", 120), "keys_json": json.dumps(sorted(str(k) for k in mapping)[:50]),
            "event_sha256": hashlib.sha256(f"{position}\x1f{raw}".encode()).hexdigest()}


def _record(conn: Connection, event: dict[str, Any], user_id: str | None, received: datetime, result: _Tally) -> None:
    kind = event["event"]
    occurred = datetime.fromtimestamp(event["timestamp"], UTC)
    # sg_event_id is the documented key, but retries have been seen with new ids: also key on content.
    content_key = hashlib.sha256(json.dumps([
        event.get("sg_message_id") or f"{event.get('batch_key')}/{user_id}", kind, event.get("timestamp"),
        event.get("url")], default=str).encode()).hexdigest()
    seen = conn.execute(select(webhook_events.c.dedup_key).where(
        (webhook_events.c.dedup_key == content_key)
        | (webhook_events.c.sg_event_id == event.get("sg_event_id") if event.get("sg_event_id") else False))
        .limit(1)).first()
    if seen:
        result.duplicates += 1
        return
    key = event.get("batch_key")
    batch = None
    if key and event.get("campaign_id"):
        batch = conn.execute(select(outbox.c.campaign_id, outbox.c.batch_id, outbox.c.state).where(
            outbox.c.batch_key == key, outbox.c.campaign_id == event["campaign_id"])).first()
    inserted = insert_ignoring_duplicates(conn, webhook_events, [{
        "dedup_key": content_key, "sg_event_id": event.get("sg_event_id"), "event": kind, "user_id": user_id,
        "campaign_id": event.get("campaign_id"), "batch_key": key, "sg_message_id": event.get("sg_message_id"),
        "occurred_at": occurred, "received_at": received, "batch_state": batch.state if batch else None}])
    if not inserted:
        result.duplicates += 1
        return
    result.new_events += 1
    reason = SUPPRESSING_EVENTS.get(kind)
    if kind == "bounce" and event.get("type") == "blocked":
        reason = None  # a block is the receiving server's policy, not a dead address
    if reason:
        if user_id:
            insert_ignoring_duplicates(conn, suppressions, [{
                "user_id": str(user_id), "dedup_key": content_key, "reason": reason, "event": kind,
                "campaign_id": event.get("campaign_id"), "occurred_at": occurred, "recorded_at": received}])
            result.suppressed += 1
        else:
            result.unresolved += 1
    if batch is not None and batch.state in OPEN_STATES:
        settled = conn.execute(update(outbox).where(
            outbox.c.campaign_id == batch.campaign_id, outbox.c.batch_id == batch.batch_id,
            outbox.c.state.in_(OPEN_STATES)).values(
            state="accepted", last_error=f"accepted: provider event {kind} (batch was {batch.state})",
            updated_at=received)).rowcount
        if settled:
            audit(conn, WEBHOOK_ACTOR, "delivery.reconciled", f"{batch.campaign_id}/{batch.batch_id}",
                  {"evidence": kind, "batch_state_at_event": batch.state, "occurred_at": occurred.isoformat()},
                  received)
            result.reconciled_batches.append(batch.batch_id)

"""E-mail delivery through SendGrid, batch by batch through the outbox ledger (`outbox_ledger`).

Each batch is written and committed in the ledger before its request goes out:

- A crash while a batch is `sending` leaves no way to know whether SendGrid accepted it, and SendGrid
  has no idempotency key, so the next launch marks it `unknown`. The same holds for a timeout, a dropped
  connection or a 5xx after the request went out. An `unknown` batch is settled by provider events
  carrying its `batch_key`, or resent once after the reconcile wait (`batch_reconciliation`).
- Rejections the server answered (429, 401/403, 413, other 4xx) are safe: nothing was sent.

Contact details are read from `private.user_contacts` only for the batch being sent, never logged,
and never written to any table. `custom_args` carry only pseudonymous ids.
"""

from __future__ import annotations

import hashlib
import html
import http.client
import json
import random
import re
import socket
import time
import urllib.error
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

import polars as pl
import sendgrid
from python_http_client.exceptions import HTTPError as HttpClientError

from campaigns.campaign_errors import DeliveryHalted
from campaigns.definitions.template_file import PLACEHOLDER_PATTERN, Template
from campaigns.delivery.contact_book import ContactBook
from campaigns.delivery.outbox_ledger import (
    LaunchReport,
    batch_template,
    claim,
    freeze_plan,
    plan_variant_batches,
    planned_batches,
    recover_in_flight,
    skip_members,
    split_batch,
    still_eligible,
    summarise,
    transition,
    variant_template_map,
    with_variant,
)
from campaigns.governance.audit_trail import audit
from campaigns.store.op_database import OpStore

MAX_PER_REQUEST = 1000
_EMAIL_LIKE = re.compile(r"[^@\s<>\"']+@[^@\s<>\"']+")
# Network failures after which the request may or may not have reached SendGrid.
_AMBIGUOUS = (TimeoutError, socket.timeout, http.client.HTTPException, ConnectionError, OSError)


@dataclass(frozen=True)
class SenderConfig:
    """How to reach SendGrid and what every message carries. The API key is never stored here."""

    from_email: str
    from_name: str
    asm_group_id: int
    host: str = "https://api.sendgrid.com"
    batch_size: int = MAX_PER_REQUEST
    timeout_seconds: float = 10.0
    max_rate_limit_waits: int = 5
    max_wait_seconds: float = 60.0
    unsubscribe_base_url: str = "https://example.com/unsubscribe"

    def __post_init__(self) -> None:
        if not 1 <= self.batch_size <= MAX_PER_REQUEST:
            raise ValueError(f"batch size must be within 1..{MAX_PER_REQUEST}, got {self.batch_size}")
        if self.timeout_seconds <= 0:
            raise ValueError("the SendGrid timeout must be positive")


def deliver(
    store: OpStore,
    contact_book: ContactBook,
    *,
    campaign_id: str,
    template: Template,
    eligible: pl.DataFrame,
    config: SenderConfig,
    actor: str,
    api_key: str | None,
    live: bool,
    sleep: Callable[[float], None] = time.sleep,
    client_factory: Callable[[str, SenderConfig], Any] | None = None,
    variant_templates: Mapping[str, Template] | None = None,
    send_instant: datetime | None = None,
    before_sending: Callable[[], None] | None = None,
) -> LaunchReport:
    """Send `template` to the `eligible` people exactly once across any number of launches.

    Args:
        store: The operational store (the ledger).
        contact_book: Reads `private.user_contacts` for the batch being sent, and only for it.
        campaign_id: The campaign.
        template: The approved template.
        eligible: People whose decision *now* is `send`: `user_id` (and `variant` for A/B campaigns). The first
            live launch with anyone to send freezes this audience in the ledger; later launches only send to
            frozen members who are still eligible.
        config: Sender settings.
        actor: The acting user (for the audit trail).
        api_key: The SendGrid key; required when `live`.
        live: Without it, batches and payloads are built and counted but nothing is sent or frozen.
        sleep: Injectable for tests.
        client_factory: Builds the SendGrid client; default is the real `sendgrid.SendGridAPIClient`.
        variant_templates: Template per A/B variant name when `eligible` has a `variant` column; each batch
            holds one variant and is rendered with its template.
        send_instant: The instant the decisions were taken for (recorded in the ledger; frequency caps of
            later campaigns count this send at it and at the actual send time).
        before_sending: Called once the ledger is ready and before the first request (the service resolves
            unknown batches from provider evidence there).
    """
    started = time.perf_counter()
    report = LaunchReport(campaign_id, live)
    eligible = with_variant(eligible.with_columns(pl.col("user_id").cast(pl.String)).unique("user_id", keep="first"))
    templates = variant_template_map(template, variant_templates)
    if not live:
        batches = plan_variant_batches(eligible, config.batch_size)
        report.batches = {"planned (dry run)": len(batches)}
        report.recipients_planned = eligible.height
        with store.transaction() as conn:
            audit(conn, actor, "campaign.launch_dry_run", campaign_id,
                  {"template": template.key, "recipients": eligible.height, "batches": len(batches)})
        report.seconds = time.perf_counter() - started
        return report
    if not api_key:
        raise DeliveryHalted("a live send needs a SendGrid API key")
    freeze_plan(store, campaign_id, templates, eligible, config.batch_size, actor, "email", send_instant)
    recover_in_flight(store, campaign_id, actor)
    if before_sending is not None:
        before_sending()
    queue = planned_batches(store, campaign_id)
    if queue:
        client = (client_factory or _sendgrid_client)(api_key, config)
        eligible_ids = set(eligible.get_column("user_id").to_list())
        try:
            while queue:
                batch_id = queue.pop(0)
                children = _send_batch(store, contact_book, client, campaign_id, batch_id, templates, eligible_ids,
                                       config, actor, sleep, report)
                queue[:0] = children
        except DeliveryHalted as halt:
            report.halted = str(halt)
            with store.transaction() as conn:
                audit(conn, actor, "campaign.launch_halted", campaign_id, {"reason": str(halt)})
    summarise(store, report)
    with store.transaction() as conn:
        audit(conn, actor, "campaign.launch", campaign_id, {
            "template": template.key, "batches": report.batches, "recipients_accepted": report.recipients_accepted,
            "unknown_batches": report.unknown_batches, "halted": report.halted})
    report.seconds = time.perf_counter() - started
    return report


def _sendgrid_client(api_key: str, config: SenderConfig) -> Any:
    # The host is bound here; set_sendgrid_data_residency() would silently replace it, so it is never called.
    client = sendgrid.SendGridAPIClient(api_key=api_key, host=config.host)
    client.client.timeout = config.timeout_seconds
    if client.client.host != config.host:
        raise DeliveryHalted("the SendGrid client did not keep the configured host")
    return client


def _send_batch(store: OpStore, contact_book: ContactBook, client, campaign_id: str, batch_id: str,
                templates: Mapping[str, Template], eligible_ids: set[str], config: SenderConfig, actor: str, sleep,
                report: LaunchReport) -> list[str]:
    key, _, template = batch_template(store, campaign_id, batch_id, templates)
    still = still_eligible(store, campaign_id, batch_id, eligible_ids)
    contacts = dict(contact_book.contacts(still, "email").iter_rows())
    skip_members(store, campaign_id, sorted(set(still) - set(contacts)), "no_email")
    people = [user_id for user_id in still if user_id in contacts]
    if not people:
        transition(store, campaign_id, batch_id, "empty", from_states=("planned",))
        return []
    payload = build_payload(campaign_id, key, template, people, contacts, config)
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    if not claim(store, campaign_id, batch_id, hashlib.sha256(body.encode()).hexdigest()):
        return []  # another launcher (or the reconciler) holds this batch now
    waits = 0
    refused = 0
    while True:
        report.requests += 1
        try:
            response = client.client.mail.send.post(request_body=payload)
        except (HttpClientError, urllib.error.HTTPError) as error:
            status = getattr(error, "status_code", None) or getattr(error, "code", 0)
            headers = getattr(error, "headers", None) or {}
            if status == 429:
                # Refused, nothing sent; the batch stays ours (`sending`) while we wait, so no other launcher
                # can take it meanwhile.
                waits += 1
                if waits > config.max_rate_limit_waits:
                    transition(store, campaign_id, batch_id, "planned", status=429, error="rate limited")
                    raise DeliveryHalted(f"rate limited {waits} times in a row; launch again later to resume")
                sleep(_rate_limit_wait(headers, waits, config.max_wait_seconds))
                continue
            if status == 413:
                return split_batch(store, campaign_id, batch_id, members=people, actor=actor)
            if status in (401, 403):
                transition(store, campaign_id, batch_id, "planned", status=status, error=_error_text(error))
                raise DeliveryHalted(f"SendGrid answered {status} ({_error_text(error)}); no batch was sent after it")
            if 400 <= status < 500:
                transition(store, campaign_id, batch_id, "failed", status=status, error=_error_text(error),
                           audit_action="delivery.failed", actor=actor,
                           details={"status": status, "error": _error_text(error)})
                return []
            # SendGrid has no idempotency key: after a 5xx it may still have accepted the request.
            transition(store, campaign_id, batch_id, "unknown", status=status, error=f"server error {status}",
                       audit_action="delivery.unknown", actor=actor, details={"status": status})
            return []
        except urllib.error.URLError as error:
            if isinstance(error.reason, ConnectionRefusedError) and refused < 3:
                # Refused at connect: the request never left, so a retry cannot duplicate.
                refused += 1
                sleep(min(2 ** refused, config.max_wait_seconds))
                continue
            if isinstance(error.reason, ConnectionRefusedError):
                transition(store, campaign_id, batch_id, "planned", error="connection refused")
                raise DeliveryHalted("SendGrid unreachable (connection refused)") from None
            transition(store, campaign_id, batch_id, "unknown", error=type(error.reason).__name__,
                       audit_action="delivery.unknown", actor=actor, details={"error": type(error.reason).__name__})
            return []
        except _AMBIGUOUS as error:
            transition(store, campaign_id, batch_id, "unknown", error=type(error).__name__,
                       audit_action="delivery.unknown", actor=actor, details={"error": type(error).__name__})
            return []
        message_id = response.headers.get("X-Message-Id") if response.headers else None
        # From `sending` only: provider evidence may already have settled the batch as accepted.
        transition(store, campaign_id, batch_id, "accepted", status=response.status_code, message_id=message_id)
        return []


def build_payload(campaign_id: str, key: str, template: Template, people: list[str], contacts: dict[str, str],
                  config: SenderConfig) -> dict[str, Any]:
    """One personalization per person (GEN-02); per-person values go in substitutions, ids in custom_args.

    Only customer-safe values exist here (a pseudonymous reference, the campaign id, the unsubscribe link):
    no internal label can reach a message.
    """
    personalizations = []
    for user_id in people:
        values = _values(campaign_id, user_id, config)
        subject = PLACEHOLDER_PATTERN.sub(lambda m, values=values: values[m[1]], template.subject)
        substitutions = {}
        for name, value in values.items():
            substitutions[_token(name, False)] = value
            substitutions[_token(name, True)] = html.escape(value)
        personalizations.append({
            "to": [{"email": contacts[user_id]}],
            "subject": subject,
            "substitutions": substitutions,
            "custom_args": {"member_ref": str(user_id)},
        })
    return {
        "from": {"email": config.from_email, "name": config.from_name},
        "personalizations": personalizations,
        "content": [
            {"type": "text/plain", "value": PLACEHOLDER_PATTERN.sub(lambda m: _token(m[1], False), template.text_body)},
            {"type": "text/html", "value": PLACEHOLDER_PATTERN.sub(lambda m: _token(m[1], True), template.html_body)},
        ],
        "custom_args": {"campaign_id": campaign_id, "batch_key": key, "template": f"{template.template_id}-v{template.version}",
                        "content_sha256": template.content_sha256[:16]},
        "categories": [f"cmp_{campaign_id}"[:255], template.product_type],
        "asm": {"group_id": int(config.asm_group_id)},
        "tracking_settings": {"subscription_tracking": {"enable": False}},
    }


def _values(campaign_id: str, user_id: str, config: SenderConfig) -> dict[str, str]:
    separator = "&" if "?" in config.unsubscribe_base_url else "?"
    return {
        "user_ref": str(user_id),
        "campaign_id": campaign_id,
        "unsubscribe_url": f"{config.unsubscribe_base_url}{separator}c={quote(campaign_id)}&u={quote(str(user_id))}",
    }


def _token(name: str, for_html: bool) -> str:
    return f"%fg_{name}{'_html' if for_html else ''}%"


def _rate_limit_wait(headers: Any, attempt: int, cap: float) -> float:
    reset = None
    try:
        reset = float(headers.get("X-RateLimit-Reset")) if headers and headers.get("X-RateLimit-Reset") else None
    except (TypeError, ValueError):
        reset = None
    base = max(0.0, reset - time.time()) if reset is not None else float(2 ** attempt)
    return min(cap, base + random.uniform(0, 0.25))


def _error_text(error: Exception) -> str:
    body = getattr(error, "body", b"") or b""
    try:
        messages = [str(e.get("message", "")) for e in json.loads(body).get("errors", [])]
        # Provider messages may quote an address; nothing personal goes into the ledger or the audit trail.
        return _EMAIL_LIKE.sub("<address>", "; ".join(messages))[:300] or type(error).__name__
    except (ValueError, AttributeError):
        return type(error).__name__



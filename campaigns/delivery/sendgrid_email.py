"""E-mail delivery through SendGrid, batch by batch through the outbox ledger (`outbox_ledger`).

Each batch is written and committed in the ledger before its request goes out:

- A crash while a batch is `sending` leaves no way to know whether SendGrid accepted it, and SendGrid
  has no idempotency key, so the next launch marks it `unknown` and never resends it automatically.
  The same holds for a timeout, a dropped connection or a 5xx after the request went out.
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
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import duckdb
import polars as pl
import sendgrid
from python_http_client.exceptions import HTTPError as HttpClientError

from campaigns.campaign_errors import DeliveryHalted
from campaigns.definitions.template_file import PLACEHOLDER_PATTERN, Template
from campaigns.delivery.outbox_ledger import (
    LaunchReport,
    batch_template,
    ensure_outbox,
    freeze_plan,
    plan_variant_batches,
    recover_in_flight,
    requeue_unknown,
    set_state,
    skip_members,
    split_batch,
    still_eligible,
    summarise,
    variant_template_map,
    with_variant,
)
from campaigns.governance.audit_trail import audit

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
    conn: duckdb.DuckDBPyConnection,
    *,
    campaign_id: str,
    template: Template,
    eligible: pl.DataFrame,
    config: SenderConfig,
    actor: str,
    api_key: str | None,
    live: bool,
    resend_unknown: bool = False,
    sleep: Callable[[float], None] = time.sleep,
    client_factory: Callable[[str, SenderConfig], Any] | None = None,
    variant_templates: Mapping[str, Template] | None = None,
    send_instant: datetime | None = None,
) -> LaunchReport:
    """Send `template` to the `eligible` people exactly once across any number of launches.

    Args:
        conn: The warehouse (holds the ledger and `private.user_contacts`).
        campaign_id: The campaign.
        template: The approved template.
        eligible: People whose decision *now* is `send`: `user_id` and optional `persona_name`. The first
            live launch freezes this audience in the ledger; later launches only send to frozen members
            who are still eligible.
        config: Sender settings.
        actor: The acting user (for the audit trail).
        api_key: The SendGrid key; required when `live`.
        live: Without it, batches and payloads are built and counted but nothing is sent or recorded.
        resend_unknown: Requeue `unknown` batches (the operator accepts the risk of a duplicate).
        sleep: Injectable for tests.
        client_factory: Builds the SendGrid client; default is the real `sendgrid.SendGridAPIClient`.
        variant_templates: Template per A/B variant name when `eligible` has a `variant` column; each batch
            holds one variant and is rendered with its template.
        send_instant: The instant the decisions were taken for (recorded in the ledger; frequency caps of
            later campaigns count this send at it and at the actual send time).
    """
    started = time.perf_counter()
    report = LaunchReport(campaign_id, live)
    ensure_outbox(conn)
    eligible = with_variant(eligible.with_columns(pl.col("user_id").cast(pl.String)).unique("user_id", keep="first"))
    templates = variant_template_map(template, variant_templates)
    if not live:
        batches = plan_variant_batches(eligible, config.batch_size)
        report.batches = {"planned (dry run)": len(batches)}
        report.recipients_planned = eligible.height
        audit(conn, actor, "campaign.launch_dry_run", campaign_id,
              {"template": template.key, "recipients": eligible.height, "batches": len(batches)})
        report.seconds = time.perf_counter() - started
        return report
    if not api_key:
        raise DeliveryHalted("a live send needs a SendGrid API key")
    freeze_plan(conn, campaign_id, templates, eligible, config.batch_size, actor, "email", send_instant)
    recover_in_flight(conn, campaign_id, actor)
    if resend_unknown:
        requeue_unknown(conn, campaign_id, actor)
    client = (client_factory or _sendgrid_client)(api_key, config)
    fields = eligible.select("user_id", *(["persona_name"] if "persona_name" in eligible.columns else []))
    queue = [row[0] for row in conn.execute(
        "SELECT batch_id FROM campaigns.outbox WHERE campaign_id = ? AND state = 'planned' ORDER BY batch_id",
        [campaign_id]).fetchall()]
    try:
        while queue:
            batch_id = queue.pop(0)
            children = _send_batch(conn, client, campaign_id, batch_id, templates, fields, config, actor, sleep, report)
            queue[:0] = children
    except DeliveryHalted as halt:
        report.halted = str(halt)
        audit(conn, actor, "campaign.launch_halted", campaign_id, {"reason": str(halt)})
    summarise(conn, report)
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


def _send_batch(conn, client, campaign_id: str, batch_id: str, templates: Mapping[str, Template], fields: pl.DataFrame,
                config: SenderConfig, actor: str, sleep, report: LaunchReport) -> list[str]:
    key, template = batch_template(conn, campaign_id, batch_id, templates)
    still = still_eligible(conn, campaign_id, batch_id, fields)
    contacts = _contacts(conn, still.get_column("user_id").to_list())
    skip_members(conn, campaign_id, sorted(set(still.get_column("user_id").to_list()) - set(contacts)), "no_email")
    still = still.filter(pl.col("user_id").is_in(list(contacts)))
    if still.height == 0:
        set_state(conn, campaign_id, batch_id, "empty")
        return []
    payload = build_payload(campaign_id, key, template, still, contacts, config)
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    conn.execute("UPDATE campaigns.outbox SET state = 'sending', attempts = attempts + 1, payload_sha256 = ?, "
                 "updated_at = ? WHERE campaign_id = ? AND batch_id = ?",
                 [hashlib.sha256(body.encode()).hexdigest(), datetime.now(UTC), campaign_id, batch_id])
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
                waits += 1
                set_state(conn, campaign_id, batch_id, "planned", status=429, error="rate limited")
                if waits > config.max_rate_limit_waits:
                    raise DeliveryHalted(f"rate limited {waits} times in a row; launch again later to resume")
                sleep(_rate_limit_wait(headers, waits, config.max_wait_seconds))
                set_state(conn, campaign_id, batch_id, "sending", status=429)
                continue
            if status == 413:
                return split_batch(conn, campaign_id, batch_id, members=still.get_column("user_id").to_list(), actor=actor)
            if status in (401, 403):
                set_state(conn, campaign_id, batch_id, "planned", status=status, error=_error_text(error))
                raise DeliveryHalted(f"SendGrid answered {status} ({_error_text(error)}); no batch was sent after it")
            if 400 <= status < 500:
                set_state(conn, campaign_id, batch_id, "failed", status=status, error=_error_text(error))
                audit(conn, actor, "delivery.failed", f"{campaign_id}/{batch_id}", {"status": status, "error": _error_text(error)})
                return []
            set_state(conn, campaign_id, batch_id, "unknown", status=status, error=f"server error {status}")
            audit(conn, actor, "delivery.unknown", f"{campaign_id}/{batch_id}", {"status": status})
            return []
        except urllib.error.URLError as error:
            if isinstance(error.reason, ConnectionRefusedError) and refused < 3:
                # Refused at connect: the request never left, so a retry cannot duplicate.
                refused += 1
                sleep(min(2 ** refused, config.max_wait_seconds))
                continue
            if isinstance(error.reason, ConnectionRefusedError):
                set_state(conn, campaign_id, batch_id, "planned", error="connection refused")
                raise DeliveryHalted("SendGrid unreachable (connection refused)") from None
            set_state(conn, campaign_id, batch_id, "unknown", error=type(error.reason).__name__)
            audit(conn, actor, "delivery.unknown", f"{campaign_id}/{batch_id}", {"error": type(error.reason).__name__})
            return []
        except _AMBIGUOUS as error:
            set_state(conn, campaign_id, batch_id, "unknown", error=type(error).__name__)
            audit(conn, actor, "delivery.unknown", f"{campaign_id}/{batch_id}", {"error": type(error).__name__})
            return []
        message_id = response.headers.get("X-Message-Id") if response.headers else None
        set_state(conn, campaign_id, batch_id, "accepted", status=response.status_code, message_id=message_id)
        return []


def build_payload(campaign_id: str, key: str, template: Template, people: pl.DataFrame, contacts: dict[str, str],
                  config: SenderConfig) -> dict[str, Any]:
    """One personalization per person (GEN-02); per-person values go in substitutions, ids in custom_args."""
    personalizations = []
    for row in people.iter_rows(named=True):
        values = _values(campaign_id, row, config)
        subject = PLACEHOLDER_PATTERN.sub(lambda m, values=values: values[m[1]], template.subject)
        substitutions = {}
        for name, value in values.items():
            substitutions[_token(name, False)] = value
            substitutions[_token(name, True)] = html.escape(value)
        personalizations.append({
            "to": [{"email": contacts[row["user_id"]]}],
            "subject": subject,
            "substitutions": substitutions,
            "custom_args": {"member_ref": str(row["user_id"])},
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


def _values(campaign_id: str, row: dict[str, Any], config: SenderConfig) -> dict[str, str]:
    user_id = str(row["user_id"])
    separator = "&" if "?" in config.unsubscribe_base_url else "?"
    return {
        "user_ref": user_id,
        "campaign_id": campaign_id,
        "persona_name": str(row.get("persona_name") or "全部用户"),
        "unsubscribe_url": f"{config.unsubscribe_base_url}{separator}c={quote(campaign_id)}&u={quote(user_id)}",
    }


def _token(name: str, for_html: bool) -> str:
    return f"%fg_{name}{'_html' if for_html else ''}%"


def _contacts(conn, user_ids: list[str]) -> dict[str, str]:
    if not user_ids:
        return {}
    conn.register("_ids", pl.DataFrame({"user_id": user_ids}).to_arrow())
    try:
        rows = conn.execute("SELECT c.user_id, c.email FROM private.user_contacts c JOIN _ids USING (user_id) "
                            "WHERE c.email IS NOT NULL AND trim(c.email) <> ''").fetchall()
    finally:
        conn.unregister("_ids")
    # GEN-03: the same address under two ids would get two mails; keep the first id only.
    seen: dict[str, str] = {}
    contacts = {}
    for user_id, email in sorted(rows):
        folded = email.strip().lower()
        if folded not in seen:
            seen[folded] = user_id
            contacts[user_id] = email.strip()
    return contacts


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



"""E-mail delivery through SendGrid with an outbox ledger that makes every send at-most-once per person.

The ledger (`campaigns.outbox`, one row per campaign × batch; `campaigns.outbox_recipients`, one row per
campaign × person, primary key on both so nobody can sit in two batches) is written and committed
before each request:

    planned → sending → accepted | failed | unknown      (413: split into two planned halves)

- A crash while a batch is `sending` leaves no way to know whether SendGrid accepted it, and SendGrid
  has no idempotency key, so the next launch marks it `unknown` and never resends it automatically.
  The same holds for a timeout, a dropped connection or a 5xx after the request went out.
- An `unknown` batch is resolved by evidence, not by guessing: a webhook event carrying its
  `batch_key` marks it `accepted` (see `campaigns.webhook`), or an operator explicitly requeues it.
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
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import duckdb
import polars as pl
from python_http_client.exceptions import HTTPError as HttpClientError

from campaigns.registry import audit
from campaigns.template import PLACEHOLDER_PATTERN, Template

MAX_PER_REQUEST = 1000
_EMAIL_LIKE = re.compile(r"[^@\s<>\"']+@[^@\s<>\"']+")
OUTBOX_SQL = """
CREATE SCHEMA IF NOT EXISTS campaigns;
CREATE TABLE IF NOT EXISTS campaigns.outbox (
    campaign_id VARCHAR NOT NULL, batch_id VARCHAR NOT NULL, batch_key VARCHAR NOT NULL,
    template_key VARCHAR NOT NULL, member_count INTEGER NOT NULL, members_sha256 VARCHAR NOT NULL,
    payload_sha256 VARCHAR, state VARCHAR NOT NULL, attempts INTEGER NOT NULL, x_message_id VARCHAR,
    last_status INTEGER, last_error VARCHAR, planned_at TIMESTAMPTZ NOT NULL, updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (campaign_id, batch_id));
CREATE TABLE IF NOT EXISTS campaigns.outbox_recipients (
    campaign_id VARCHAR NOT NULL, user_id VARCHAR NOT NULL, batch_id VARCHAR NOT NULL, skipped_reason VARCHAR,
    PRIMARY KEY (campaign_id, user_id));
ALTER TABLE campaigns.outbox ADD COLUMN IF NOT EXISTS variant VARCHAR;
ALTER TABLE campaigns.outbox ADD COLUMN IF NOT EXISTS send_instant TIMESTAMPTZ;
ALTER TABLE campaigns.outbox ADD COLUMN IF NOT EXISTS channel VARCHAR;
ALTER TABLE campaigns.outbox ADD COLUMN IF NOT EXISTS export_file VARCHAR;
"""
_OUTBOX_INSERT = ("INSERT INTO campaigns.outbox (campaign_id, batch_id, batch_key, template_key, member_count, "
                  "members_sha256, payload_sha256, state, attempts, x_message_id, last_status, last_error, planned_at, "
                  "updated_at, variant, send_instant, channel) VALUES (?, ?, ?, ?, ?, ?, NULL, 'planned', 0, NULL, NULL, "
                  "NULL, ?, ?, ?, ?, ?)")
MAIN_VARIANT = "main"
# Network failures after which the request may or may not have reached SendGrid.
_AMBIGUOUS = (TimeoutError, socket.timeout, http.client.HTTPException, ConnectionError, OSError)


class DeliveryHalted(RuntimeError):
    """The launch stopped before finishing (bad key, sender refused, rate limit exhausted, unreachable)."""


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
    conn.execute(OUTBOX_SQL)


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
        raise DeliveryHalted("a live send needs SENDGRID_API_KEY (or FINGROWTH_SENDGRID_API_KEY) in the environment")
    freeze_plan(conn, campaign_id, templates, eligible, config.batch_size, actor, "email", send_instant)
    _recover_in_flight(conn, campaign_id, actor)
    if resend_unknown:
        _requeue_unknown(conn, campaign_id, actor)
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
    _summarise(conn, report)
    audit(conn, actor, "campaign.launch", campaign_id, {
        "template": template.key, "batches": report.batches, "recipients_accepted": report.recipients_accepted,
        "unknown_batches": report.unknown_batches, "halted": report.halted})
    report.seconds = time.perf_counter() - started
    return report


def _sendgrid_client(api_key: str, config: SenderConfig) -> Any:
    import sendgrid

    # The host is bound here; set_sendgrid_data_residency() would silently replace it, so it is never called.
    client = sendgrid.SendGridAPIClient(api_key=api_key, host=config.host)
    client.client.timeout = config.timeout_seconds
    if client.client.host != config.host:
        raise DeliveryHalted("the SendGrid client did not keep the configured host")
    return client


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


def _recover_in_flight(conn, campaign_id: str, actor: str) -> None:
    stuck = [r[0] for r in conn.execute(
        "SELECT batch_id FROM campaigns.outbox WHERE campaign_id = ? AND state = 'sending'", [campaign_id]).fetchall()]
    for batch_id in stuck:
        _set_state(conn, campaign_id, batch_id, "unknown", error="in flight when the previous launch stopped")
        audit(conn, actor, "delivery.unknown", f"{campaign_id}/{batch_id}",
              {"reason": "in flight when the previous launch stopped; not resent automatically"})


def _requeue_unknown(conn, campaign_id: str, actor: str) -> None:
    for (batch_id,) in conn.execute("SELECT batch_id FROM campaigns.outbox WHERE campaign_id = ? AND state = 'unknown'",
                                    [campaign_id]).fetchall():
        _set_state(conn, campaign_id, batch_id, "planned", error="requeued by operator after unknown outcome")
        audit(conn, actor, "delivery.requeue_unknown", f"{campaign_id}/{batch_id}",
              {"warning": "operator accepted the risk of a duplicate send"})


def still_eligible(conn, campaign_id: str, batch_id: str, fields: pl.DataFrame) -> pl.DataFrame:
    """The batch's frozen members who are still eligible now; the others are marked skipped in the ledger."""
    members = [r[0] for r in conn.execute(
        "SELECT user_id FROM campaigns.outbox_recipients WHERE campaign_id = ? AND batch_id = ? "
        "AND skipped_reason IS NULL ORDER BY user_id", [campaign_id, batch_id]).fetchall()]
    still = fields.filter(pl.col("user_id").is_in(members))
    _skip(conn, campaign_id, sorted(set(members) - set(still.get_column("user_id").to_list())), "no_longer_eligible")
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


def _send_batch(conn, client, campaign_id: str, batch_id: str, templates: Mapping[str, Template], fields: pl.DataFrame,
                config: SenderConfig, actor: str, sleep, report: LaunchReport) -> list[str]:
    key, template = batch_template(conn, campaign_id, batch_id, templates)
    still = still_eligible(conn, campaign_id, batch_id, fields)
    contacts = _contacts(conn, still.get_column("user_id").to_list())
    _skip(conn, campaign_id, sorted(set(still.get_column("user_id").to_list()) - set(contacts)), "no_email")
    still = still.filter(pl.col("user_id").is_in(list(contacts)))
    if still.height == 0:
        _set_state(conn, campaign_id, batch_id, "empty")
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
                _set_state(conn, campaign_id, batch_id, "planned", status=429, error="rate limited")
                if waits > config.max_rate_limit_waits:
                    raise DeliveryHalted(f"rate limited {waits} times in a row; launch again later to resume")
                sleep(_rate_limit_wait(headers, waits, config.max_wait_seconds))
                _set_state(conn, campaign_id, batch_id, "sending", status=429)
                continue
            if status == 413:
                return _split(conn, campaign_id, batch_id, members=still.get_column("user_id").to_list(), actor=actor)
            if status in (401, 403):
                _set_state(conn, campaign_id, batch_id, "planned", status=status, error=_error_text(error))
                raise DeliveryHalted(f"SendGrid answered {status} ({_error_text(error)}); no batch was sent after it")
            if 400 <= status < 500:
                _set_state(conn, campaign_id, batch_id, "failed", status=status, error=_error_text(error))
                audit(conn, actor, "delivery.failed", f"{campaign_id}/{batch_id}", {"status": status, "error": _error_text(error)})
                return []
            _set_state(conn, campaign_id, batch_id, "unknown", status=status, error=f"server error {status}")
            audit(conn, actor, "delivery.unknown", f"{campaign_id}/{batch_id}", {"status": status})
            return []
        except urllib.error.URLError as error:
            if isinstance(error.reason, ConnectionRefusedError) and refused < 3:
                # Refused at connect: the request never left, so a retry cannot duplicate.
                refused += 1
                sleep(min(2 ** refused, config.max_wait_seconds))
                continue
            if isinstance(error.reason, ConnectionRefusedError):
                _set_state(conn, campaign_id, batch_id, "planned", error="connection refused")
                raise DeliveryHalted("SendGrid unreachable (connection refused)") from None
            _set_state(conn, campaign_id, batch_id, "unknown", error=type(error.reason).__name__)
            audit(conn, actor, "delivery.unknown", f"{campaign_id}/{batch_id}", {"error": type(error.reason).__name__})
            return []
        except _AMBIGUOUS as error:
            _set_state(conn, campaign_id, batch_id, "unknown", error=type(error).__name__)
            audit(conn, actor, "delivery.unknown", f"{campaign_id}/{batch_id}", {"error": type(error).__name__})
            return []
        message_id = response.headers.get("X-Message-Id") if response.headers else None
        _set_state(conn, campaign_id, batch_id, "accepted", status=response.status_code, message_id=message_id)
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
    from urllib.parse import quote

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


def _skip(conn, campaign_id: str, user_ids: list[str], reason: str) -> None:
    if user_ids:
        conn.executemany("UPDATE campaigns.outbox_recipients SET skipped_reason = ? WHERE campaign_id = ? AND user_id = ?",
                         [(reason, campaign_id, u) for u in user_ids])


def _split(conn, campaign_id: str, batch_id: str, members: list[str], actor: str) -> list[str]:
    if len(members) <= 1:
        _set_state(conn, campaign_id, batch_id, "failed", status=413, error="a single message is too large")
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


def _set_state(conn, campaign_id: str, batch_id: str, state: str, status: int | None = None, error: str | None = None,
               message_id: str | None = None) -> None:
    conn.execute("UPDATE campaigns.outbox SET state = ?, last_status = coalesce(?, last_status), last_error = ?, "
                 "x_message_id = coalesce(?, x_message_id), updated_at = ? WHERE campaign_id = ? AND batch_id = ?",
                 [state, status, error, message_id, datetime.now(UTC), campaign_id, batch_id])


def _summarise(conn, report: LaunchReport) -> None:
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


def _sha(values: list[str]) -> str:
    return hashlib.sha256("\x1f".join(values).encode()).hexdigest()

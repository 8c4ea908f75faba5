"""The tables of the operational store, defined once (SQLAlchemy Core) for SQLite and Postgres alike.

Grain of each table:
- `templates`: one row per template version (insert-only).
- `template_approvals`: one row per review decision on a version (submitted, blocked, approved, rejected).
- `plans`: one row per plan, launch or resend decision run; a launch keeps the campaign file it launched.
- `plan_decisions`: one row per plan × audience member.
- `outbox`: one row per campaign × batch (the ledger); `outbox_recipients`: one row per campaign × person.
- `webhook_events`: one row per distinct provider event (no addresses); `event_quarantine`: one row per
  malformed event of an authentic delivery, with why it was set aside (no addresses, no raw body).
- `suppressions`: one row per person × suppression event.
- `audit_log`: one row per audited action, hash-chained.
- `accounts`: one row per console account (name, role, Argon2 password hash, disabled flag, failed sign-ins).
- `console_sessions`: one row per console sign-in (the SHA-256 of its random id; ended at sign-out or expiry).
- `campaign_drafts`: one row per campaign drafted in the console (the campaign definition as JSON).

No table holds an e-mail address, a phone number or a push token: contact details stay in the
warehouse's `private.user_contacts`.
"""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)


class UtcDateTime(TypeDecorator):
    """An instant: stored in UTC (naive in SQLite, timestamptz in Postgres), always read back tz-aware UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"an instant must be timezone-aware, got naive {value.isoformat()}")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData()

templates = Table(
    "templates", metadata,
    Column("template_id", String(120), primary_key=True), Column("version", Integer, primary_key=True),
    Column("content_sha256", String(64), nullable=False), Column("jurisdiction", String(8)),
    Column("channel", String(16)), Column("product_type", String(40)), Column("definition_json", Text, nullable=False),
    Column("author", String(120), nullable=False), Column("created_at", UtcDateTime, nullable=False),
)
template_approvals = Table(
    "template_approvals", metadata,
    Column("decision_id", Integer, primary_key=True, autoincrement=True),
    Column("template_id", String(120), nullable=False), Column("version", Integer, nullable=False),
    Column("content_sha256", String(64), nullable=False), Column("decision", String(16), nullable=False),
    Column("actor", String(120), nullable=False), Column("decided_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime), Column("reason", Text), Column("lint_version", String(120)),
    Column("lint_findings_json", Text), Column("acknowledged_json", Text),
)
plans = Table(
    "plans", metadata,
    Column("plan_id", String(32), primary_key=True), Column("campaign_id", String(80), nullable=False, index=True),
    Column("kind", String(16), nullable=False), Column("actor", String(120), nullable=False),
    Column("planned_at", UtcDateTime, nullable=False), Column("as_of", UtcDateTime, nullable=False),
    Column("template_key", String(140), nullable=False), Column("content_sha256", String(64), nullable=False),
    Column("rule_version", String(120), nullable=False), Column("audience_sha256", String(64), nullable=False),
    Column("counts_json", Text, nullable=False), Column("send_at", UtcDateTime), Column("campaign_json", Text),
)
plan_decisions = Table(
    "plan_decisions", metadata,
    Column("plan_id", String(32), primary_key=True), Column("user_id", String(120), primary_key=True),
    Column("campaign_id", String(80), nullable=False), Column("decision", String(16), nullable=False),
    Column("reason_codes", Text, nullable=False), Column("rule_version", String(120), nullable=False),
    Column("as_of", UtcDateTime, nullable=False), Column("variant", String(40)), Column("send_at", UtcDateTime),
)
outbox = Table(
    "outbox", metadata,
    Column("campaign_id", String(80), primary_key=True), Column("batch_id", String(40), primary_key=True),
    Column("batch_key", String(120), nullable=False, unique=True), Column("template_key", String(140), nullable=False),
    Column("member_count", Integer, nullable=False), Column("members_sha256", String(64), nullable=False),
    Column("payload_sha256", String(64)), Column("state", String(16), nullable=False, index=True),
    Column("attempts", Integer, nullable=False), Column("resends", Integer, nullable=False, default=0),
    Column("x_message_id", String(64)), Column("last_status", Integer), Column("last_error", Text),
    Column("planned_at", UtcDateTime, nullable=False), Column("updated_at", UtcDateTime, nullable=False),
    Column("unknown_since", UtcDateTime), Column("variant", String(40)), Column("send_instant", UtcDateTime),
    Column("channel", String(16)), Column("export_file", String(255)),
)
outbox_recipients = Table(
    "outbox_recipients", metadata,
    Column("campaign_id", String(80), primary_key=True), Column("user_id", String(120), primary_key=True),
    Column("batch_id", String(40), nullable=False, index=True), Column("skipped_reason", String(60)),
)
webhook_events = Table(
    "webhook_events", metadata,
    Column("dedup_key", String(64), primary_key=True), Column("sg_event_id", String(255), unique=True),
    Column("event", String(64), nullable=False), Column("user_id", String(120)), Column("campaign_id", String(80)),
    Column("batch_key", String(120), index=True), Column("sg_message_id", String(255)),
    Column("occurred_at", UtcDateTime), Column("received_at", UtcDateTime, nullable=False),
    # The batch's ledger state when the event arrived (evidence is matched whatever the state was).
    Column("batch_state", String(16)),
)
event_quarantine = Table(
    "event_quarantine", metadata,
    Column("quarantine_id", Integer, primary_key=True, autoincrement=True),
    Column("received_at", UtcDateTime, nullable=False), Column("position", Integer, nullable=False),
    Column("reason", String(200), nullable=False), Column("event", String(64)), Column("sg_event_id", String(255)),
    Column("campaign_id", String(80)), Column("batch_key", String(120)), Column("keys_json", Text, nullable=False),
    Column("event_sha256", String(64), nullable=False),
    UniqueConstraint("event_sha256", name="uq_event_quarantine_sha"),
)
suppressions = Table(
    "suppressions", metadata,
    Column("user_id", String(120), primary_key=True), Column("dedup_key", String(64), primary_key=True),
    Column("reason", String(40), nullable=False), Column("event", String(64), nullable=False),
    Column("campaign_id", String(80)), Column("occurred_at", UtcDateTime), Column("recorded_at", UtcDateTime, nullable=False),
)
audit_log = Table(
    "audit_log", metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False),
    Column("logged_at", UtcDateTime, nullable=False), Column("actor", String(120), nullable=False),
    Column("action", String(80), nullable=False), Column("subject", String(200), nullable=False),
    Column("details_json", Text, nullable=False), Column("prev_sha256", String(64), nullable=False),
    Column("row_sha256", String(64), nullable=False),
)

accounts = Table(
    "accounts", metadata,
    Column("user_name", String(120), primary_key=True), Column("role", String(16), nullable=False),
    Column("password_hash", String(255), nullable=False), Column("disabled", Boolean, nullable=False, default=False),
    Column("failed_sign_ins", Integer, nullable=False, default=0), Column("locked_until", UtcDateTime),
    Column("created_at", UtcDateTime, nullable=False), Column("updated_at", UtcDateTime, nullable=False),
)
console_sessions = Table(
    "console_sessions", metadata,
    Column("sid_sha256", String(64), primary_key=True), Column("user_name", String(120), nullable=False, index=True),
    Column("started_at", UtcDateTime, nullable=False), Column("seen_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False), Column("ended_at", UtcDateTime),
)
campaign_drafts = Table(
    "campaign_drafts", metadata,
    Column("campaign_id", String(80), primary_key=True), Column("definition_json", Text, nullable=False),
    Column("author", String(120), nullable=False), Column("updated_at", UtcDateTime, nullable=False),
)

# Every table of the store, in the order the warehouse snapshot copies them (`campaigns.<name>` there).
OP_TABLES: tuple[Table, ...] = (templates, template_approvals, plans, plan_decisions, outbox, outbox_recipients,
                                webhook_events, event_quarantine, suppressions, audit_log)


def polars_schema(table: Table) -> dict[str, pl.DataType]:
    """The Polars schema of a table's rows (instants as UTC datetimes)."""
    return {column.name: _polars_type(column.type) for column in table.columns}


def _polars_type(kind) -> pl.DataType:
    if isinstance(kind, UtcDateTime):
        return pl.Datetime("us", "UTC")
    if isinstance(kind, Boolean):
        return pl.Boolean()
    if isinstance(kind, (Integer, BigInteger)):
        return pl.Int64()
    if isinstance(kind, Float):
        return pl.Float64()
    return pl.String()

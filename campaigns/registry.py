"""Template registry with maker-checker approval, kept in the warehouse.

Tables (schema `campaigns`), all insert-only so history can be audited:
- `templates`: one row per template version (grain: template_id × version) with its full definition,
  content hash and author. A changed definition is always a new version.
- `template_approvals`: one row per decision (submitted, approved, rejected) on a version; the latest
  row is the version's status. Approvals carry an expiry.
- `audit_log`: one row per action (approvals, launches, deliveries), hash-chained so that an edited or
  deleted row breaks the chain (`verify_audit_chain`).

The acting user and their role are passed in by the caller (the CLI reads `FINGROWTH_USER` and a roles
file); every public function that changes state checks the role first.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import yaml

from campaigns.lint import LintReport, lint_template
from campaigns.template import Template, parse_template

ROLES: frozenset[str] = frozenset({"analyst", "marketer", "compliance", "admin"})
# Which roles may do what. Analysts read; marketers author and send; compliance approves; admin all.
PERMISSIONS: dict[str, frozenset[str]] = {
    "template.submit": frozenset({"marketer", "admin"}),
    "template.approve": frozenset({"compliance", "admin"}),
    "template.reject": frozenset({"compliance", "admin"}),
    "template.list": frozenset(ROLES),
    "template.lint": frozenset(ROLES),
    "campaign.plan": frozenset({"marketer", "compliance", "admin", "analyst"}),
    "campaign.launch": frozenset({"marketer", "admin"}),
    "campaign.resend_unknown": frozenset({"admin"}),
    "webhook.ingest": frozenset({"admin", "marketer", "compliance"}),
}
DEFAULT_APPROVAL_DAYS = 90

SCHEMA_SQL = """
CREATE SCHEMA IF NOT EXISTS campaigns;
CREATE TABLE IF NOT EXISTS campaigns.templates (
    template_id VARCHAR NOT NULL, version INTEGER NOT NULL, content_sha256 VARCHAR NOT NULL,
    jurisdiction VARCHAR, channel VARCHAR, product_type VARCHAR, definition_json VARCHAR NOT NULL,
    author VARCHAR NOT NULL, created_at TIMESTAMPTZ NOT NULL, PRIMARY KEY (template_id, version));
CREATE TABLE IF NOT EXISTS campaigns.template_approvals (
    template_id VARCHAR NOT NULL, version INTEGER NOT NULL, content_sha256 VARCHAR NOT NULL,
    decision VARCHAR NOT NULL, actor VARCHAR NOT NULL, decided_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ, reason VARCHAR, lint_version VARCHAR, lint_findings_json VARCHAR);
CREATE SEQUENCE IF NOT EXISTS campaigns.audit_seq;
CREATE TABLE IF NOT EXISTS campaigns.audit_log (
    seq BIGINT NOT NULL, logged_at TIMESTAMPTZ NOT NULL, actor VARCHAR NOT NULL, action VARCHAR NOT NULL,
    subject VARCHAR NOT NULL, details_json VARCHAR NOT NULL, prev_sha256 VARCHAR NOT NULL, row_sha256 VARCHAR NOT NULL);
"""


class PermissionDenied(PermissionError):
    """The acting user's role may not perform the action."""


class ApprovalError(ValueError):
    """An approval, rejection or use of a template that the rules do not allow."""


@dataclass(frozen=True)
class Actor:
    user: str
    role: str


def load_roles(path: str | Path) -> dict[str, str]:
    """Read a roles file: a mapping `users: {name: role}` (roles: analyst, marketer, compliance, admin)."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    users = data.get("users") if isinstance(data, dict) else None
    if not isinstance(users, dict) or not users:
        raise ValueError(f"roles file {Path(path).name}: needs a non-empty mapping 'users: {{name: role}}'")
    for user, role in users.items():
        if role not in ROLES:
            raise ValueError(f"roles file {Path(path).name}: user {user!r} has unknown role {role!r}; use {sorted(ROLES)}")
    return {str(user): str(role) for user, role in users.items()}


def resolve_actor(user: str | None, roles: dict[str, str]) -> Actor:
    """The acting user with their role; an unknown or missing user has no rights (fail closed)."""
    if not user:
        raise PermissionDenied("no acting user: set FINGROWTH_USER")
    if user not in roles:
        raise PermissionDenied(f"user {user!r} is not in the roles file")
    return Actor(user, roles[user])


def require(actor: Actor, action: str) -> None:
    if actor.role not in PERMISSIONS[action]:
        raise PermissionDenied(f"{actor.user} ({actor.role}) may not {action}; allowed roles: {sorted(PERMISSIONS[action])}")


def ensure_schema(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute(SCHEMA_SQL)


def audit(conn: duckdb.DuckDBPyConnection, actor: str, action: str, subject: str, details: dict[str, Any],
          at: datetime | None = None) -> None:
    """Append one hash-chained row to `campaigns.audit_log`. Never pass contact details or secrets."""
    ensure_schema(conn)
    at = at or datetime.now(UTC)
    last = conn.execute("SELECT row_sha256 FROM campaigns.audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    prev = last[0] if last else "0" * 64
    seq = conn.execute("SELECT nextval('campaigns.audit_seq')").fetchone()[0]
    body = json.dumps(details, ensure_ascii=False, sort_keys=True, default=str)
    row_hash = _audit_hash(prev, seq, at, actor, action, subject, body)
    conn.execute("INSERT INTO campaigns.audit_log VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                 [seq, at, actor, action, subject, body, prev, row_hash])


def verify_audit_chain(conn: duckdb.DuckDBPyConnection) -> bool:
    """True when every audit row still hashes to what was written and links to its predecessor."""
    prev = "0" * 64
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


def submit_template(conn: duckdb.DuckDBPyConnection, actor: Actor, definition: dict[str, Any],
                    now: datetime | None = None) -> tuple[Template, LintReport]:
    """Register a template for review. An edit of a registered version becomes the next version.

    Returns:
        The registered template (its version may differ from the file's) and its lint report.
    """
    require(actor, "template.submit")
    ensure_schema(conn)
    now = now or datetime.now(UTC)
    template = parse_template(definition)
    existing = conn.execute("SELECT content_sha256 FROM campaigns.templates WHERE template_id = ? AND version = ?",
                            [template.template_id, template.version]).fetchone()
    if existing and existing[0] == template.content_sha256:
        return template, lint_template(template)
    if existing:
        # Approved copy is immutable: the changed copy gets a fresh version and no approval.
        latest = conn.execute("SELECT max(version) FROM campaigns.templates WHERE template_id = ?",
                              [template.template_id]).fetchone()[0]
        template = parse_template({**definition, "version": latest + 1})
    report = lint_template(template)
    conn.execute("INSERT INTO campaigns.templates VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", [
        template.template_id, template.version, template.content_sha256, template.jurisdiction, template.channel,
        template.product_type, _definition_json(template), actor.user, now])
    conn.execute("INSERT INTO campaigns.template_approvals VALUES (?, ?, ?, 'submitted', ?, ?, NULL, NULL, ?, ?)", [
        template.template_id, template.version, template.content_sha256, actor.user, now, report.lint_version,
        report.as_json()])
    audit(conn, actor.user, "template.submit", template.key,
          {"content_sha256": template.content_sha256, "lint_passed": report.passed}, now)
    return template, report


def approve_template(conn: duckdb.DuckDBPyConnection, actor: Actor, template_id: str, version: int,
                     valid_days: int = DEFAULT_APPROVAL_DAYS, now: datetime | None = None) -> LintReport:
    """Approve a submitted version: never by its author, never with a blocking lint finding.

    Raises:
        PermissionDenied: the role may not approve, or the actor authored the template.
        ApprovalError: unknown version, not awaiting review, or lint findings block it (naming the rule ids).
    """
    require(actor, "template.approve")
    now = now or datetime.now(UTC)
    template, author = registered_template(conn, template_id, version)
    if actor.user == author:
        raise PermissionDenied(f"{actor.user} wrote {template.key} and may not approve it (maker-checker)")
    status = template_status(conn, template_id, version, now)
    if status["status"] not in ("submitted", "expired"):
        raise ApprovalError(f"{template.key} is {status['status']}, not awaiting approval")
    report = lint_template(template)
    if not report.passed:
        audit(conn, actor.user, "template.approve_refused", template.key,
              {"rule_ids": [f.rule_id for f in report.blocking]}, now)
        raise ApprovalError(f"{template.key} cannot be approved: " + "; ".join(str(f) for f in report.blocking))
    if valid_days < 1:
        raise ApprovalError("an approval must be valid for at least one day")
    expires = now + timedelta(days=valid_days)
    conn.execute("INSERT INTO campaigns.template_approvals VALUES (?, ?, ?, 'approved', ?, ?, ?, NULL, ?, ?)", [
        template_id, version, template.content_sha256, actor.user, now, expires, report.lint_version, report.as_json()])
    audit(conn, actor.user, "template.approve", template.key,
          {"content_sha256": template.content_sha256, "expires_at": expires.isoformat(),
           "review_findings": [f.rule_id for f in report.findings]}, now)
    return report


def reject_template(conn: duckdb.DuckDBPyConnection, actor: Actor, template_id: str, version: int, reason: str,
                    now: datetime | None = None) -> None:
    require(actor, "template.reject")
    if not reason or not reason.strip():
        raise ApprovalError("a rejection needs a reason")
    now = now or datetime.now(UTC)
    template, _ = registered_template(conn, template_id, version)
    conn.execute("INSERT INTO campaigns.template_approvals VALUES (?, ?, ?, 'rejected', ?, ?, NULL, ?, NULL, NULL)",
                 [template_id, version, template.content_sha256, actor.user, now, reason.strip()])
    audit(conn, actor.user, "template.reject", template.key, {"reason": reason.strip()}, now)


def template_status(conn: duckdb.DuckDBPyConnection, template_id: str, version: int,
                    now: datetime | None = None) -> dict[str, Any]:
    """`status` is unregistered, submitted, approved, expired or rejected, with the latest decision's details."""
    ensure_schema(conn)
    now = now or datetime.now(UTC)
    row = conn.execute(
        "SELECT a.decision, a.actor, a.decided_at, a.expires_at, a.reason, a.content_sha256 = t.content_sha256 "
        "FROM campaigns.template_approvals a JOIN campaigns.templates t USING (template_id, version) "
        "WHERE template_id = ? AND version = ? ORDER BY a.decided_at DESC, a.decision = 'submitted' LIMIT 1",
        [template_id, version]).fetchone()
    if row is None:
        return {"status": "unregistered"}
    decision, actor, decided_at, expires_at, reason, same_hash = row
    status = decision
    if decision == "approved" and (not same_hash or expires_at is None or expires_at <= now):
        status = "expired" if same_hash else "submitted"
    return {"status": status, "actor": actor, "decided_at": decided_at, "expires_at": expires_at, "reason": reason}


def approved_template(conn: duckdb.DuckDBPyConnection, template_id: str, version: int,
                      now: datetime | None = None) -> Template:
    """The registered copy of an approved, unexpired version whose content still hashes to what was approved.

    Raises:
        ApprovalError: naming why the template may not be sent (CN-APPROVAL-01).
    """
    template, _ = registered_template(conn, template_id, version)
    status = template_status(conn, template_id, version, now)
    if status["status"] != "approved":
        raise ApprovalError(f"CN-APPROVAL-01: template {template.key} is {status['status']}, not approved; "
                            "only approved, unexpired templates can be sent")
    approved_hash = conn.execute(
        "SELECT content_sha256 FROM campaigns.template_approvals WHERE template_id = ? AND version = ? "
        "AND decision = 'approved' ORDER BY decided_at DESC LIMIT 1", [template_id, version]).fetchone()[0]
    if approved_hash != template.content_sha256:
        raise ApprovalError(f"CN-APPROVAL-01: template {template.key} content changed after approval")
    return template


def list_templates(conn: duckdb.DuckDBPyConnection, now: datetime | None = None) -> list[dict[str, Any]]:
    ensure_schema(conn)
    rows = conn.execute("SELECT template_id, version, content_sha256, author, created_at FROM campaigns.templates "
                        "ORDER BY template_id, version").fetchall()
    out = []
    for template_id, version, sha, author, created_at in rows:
        out.append({"template_id": template_id, "version": version, "content_sha256": sha, "author": author,
                    "created_at": created_at, **template_status(conn, template_id, version, now)})
    return out


def registered_template(conn: duckdb.DuckDBPyConnection, template_id: str, version: int) -> tuple[Template, str]:
    ensure_schema(conn)
    row = conn.execute("SELECT definition_json, author, content_sha256 FROM campaigns.templates "
                       "WHERE template_id = ? AND version = ?", [template_id, version]).fetchone()
    if row is None:
        raise ApprovalError(f"template {template_id}@{version} is not registered; submit it first")
    template = parse_template(json.loads(row[0]), source=f"registry:{template_id}@{version}")
    if template.content_sha256 != row[2]:
        raise ApprovalError(f"template {template_id}@{version}: stored definition does not match its recorded hash")
    return template, row[1]


def _definition_json(template: Template) -> str:
    fields = {k: (list(v) if isinstance(v, tuple) else v) for k, v in template.__dict__.items() if k != "content_sha256"}
    return json.dumps(fields, ensure_ascii=False, sort_keys=True)

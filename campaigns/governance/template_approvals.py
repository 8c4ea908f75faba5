"""The template registry with maker-checker approval, kept in the warehouse.

Tables (schema `campaigns`), all insert-only so history can be audited:
- `templates`: one row per template version (grain: template_id × version) with its full definition,
  content hash and author. A changed definition is always a new version.
- `template_approvals`: one row per decision (submitted, approved, rejected) on a version; the latest
  row is the version's status. Approvals carry an expiry.

Every decision is also written to the audit trail (`campaigns.governance.audit_trail`). Each function
that changes state takes an `Actor` (resolved by the service from its role directory) and checks the
actor's permission first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb

from campaigns.campaign_errors import ApprovalError, PermissionDenied
from campaigns.content.copy_lint import LintReport, lint_template
from campaigns.definitions.template_file import Template, parse_template
from campaigns.governance.access import Actor, require
from campaigns.governance.audit_trail import audit
from warehouse.sql_files import load_query

DEFAULT_APPROVAL_DAYS = 90


@dataclass(frozen=True)
class TemplateStatus:
    """Where a template version stands: unregistered, submitted, approved, expired or rejected."""

    status: str
    actor: str | None = None
    decided_at: datetime | None = None
    expires_at: datetime | None = None
    reason: str | None = None


@dataclass(frozen=True)
class RegisteredTemplate:
    """One registered version with its author and status, as the template list shows it."""

    template_id: str
    version: int
    content_sha256: str
    author: str
    created_at: datetime
    status: TemplateStatus


def ensure_registry(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute(load_query("campaigns", "approval_tables"))


def submit_template(conn: duckdb.DuckDBPyConnection, actor: Actor, definition: dict[str, Any],
                    now: datetime | None = None) -> tuple[Template, LintReport]:
    """Register a template for review. An edit of a registered version becomes the next version.

    Returns:
        The registered template (its version may differ from the file's) and its lint report.
    """
    require(actor, "template.submit")
    ensure_registry(conn)
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
    if status.status not in ("submitted", "expired"):
        raise ApprovalError(f"{template.key} is {status.status}, not awaiting approval")
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
    """Reject a registered version, with a reason (kept in the registry and the audit trail)."""
    require(actor, "template.reject")
    if not reason or not reason.strip():
        raise ApprovalError("a rejection needs a reason")
    now = now or datetime.now(UTC)
    template, _ = registered_template(conn, template_id, version)
    conn.execute("INSERT INTO campaigns.template_approvals VALUES (?, ?, ?, 'rejected', ?, ?, NULL, ?, NULL, NULL)",
                 [template_id, version, template.content_sha256, actor.user, now, reason.strip()])
    audit(conn, actor.user, "template.reject", template.key, {"reason": reason.strip()}, now)


def template_status(conn: duckdb.DuckDBPyConnection, template_id: str, version: int,
                    now: datetime | None = None) -> TemplateStatus:
    """The version's status with the latest decision's details (`unregistered` when never submitted)."""
    ensure_registry(conn)
    now = now or datetime.now(UTC)
    row = conn.execute(load_query("campaigns", "template_status"),
                       {"template_id": template_id, "version": version}).fetchone()
    if row is None:
        return TemplateStatus("unregistered")
    decision, actor, decided_at, expires_at, reason, same_hash = row
    status = decision
    if decision == "approved" and (not same_hash or expires_at is None or expires_at <= now):
        status = "expired" if same_hash else "submitted"
    return TemplateStatus(status, actor, decided_at, expires_at, reason)


def approved_template(conn: duckdb.DuckDBPyConnection, template_id: str, version: int,
                      now: datetime | None = None) -> Template:
    """The registered copy of an approved, unexpired version whose content still hashes to what was approved.

    Raises:
        ApprovalError: naming why the template may not be sent (CN-APPROVAL-01).
    """
    template, _ = registered_template(conn, template_id, version)
    status = template_status(conn, template_id, version, now)
    if status.status != "approved":
        raise ApprovalError(f"CN-APPROVAL-01: template {template.key} is {status.status}, not approved; "
                            "only approved, unexpired templates can be sent")
    approved_hash = conn.execute(
        "SELECT content_sha256 FROM campaigns.template_approvals WHERE template_id = ? AND version = ? "
        "AND decision = 'approved' ORDER BY decided_at DESC LIMIT 1", [template_id, version]).fetchone()[0]
    if approved_hash != template.content_sha256:
        raise ApprovalError(f"CN-APPROVAL-01: template {template.key} content changed after approval")
    return template


def list_templates(conn: duckdb.DuckDBPyConnection, now: datetime | None = None) -> list[RegisteredTemplate]:
    """Every registered version, by template id and version, with its status."""
    ensure_registry(conn)
    rows = conn.execute("SELECT template_id, version, content_sha256, author, created_at FROM campaigns.templates "
                        "ORDER BY template_id, version").fetchall()
    return [RegisteredTemplate(template_id, version, sha, author, created_at,
                               template_status(conn, template_id, version, now))
            for template_id, version, sha, author, created_at in rows]


def registered_template(conn: duckdb.DuckDBPyConnection, template_id: str, version: int) -> tuple[Template, str]:
    """The registered copy of a version and its author, checked against its recorded hash."""
    ensure_registry(conn)
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

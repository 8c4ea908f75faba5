"""The template registry with maker-checker approval, kept in the operational store.

Tables, insert-only so history can be audited:
- `templates`: one row per template version (grain: template_id × version) with its full definition,
  content hash and author. A registered version never changes: an edit must be filed as a new version.
- `template_approvals`: one row per decision (submitted, blocked, approved, rejected) on a version; the
  latest row is the version's status. A submission whose lint has a BLOCK or FIX finding is recorded as
  `blocked`, never awaiting approval. Approvals carry an expiry and the REVIEW findings the approver
  acknowledged by id.

Every decision is also written to the audit trail (`campaigns.governance.audit_trail`); the service audits
refusals in their own transaction. Each function that changes state takes an `Actor` (resolved by the
service from its role directory) and checks the actor's permission first.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, select

from campaigns.campaign_errors import ApprovalError, PermissionDenied
from campaigns.content.copy_lint import LintReport, lint_template
from campaigns.definitions.template_file import Template, parse_template
from campaigns.governance.access import Actor, require
from campaigns.governance.audit_trail import audit
from campaigns.store.op_tables import template_approvals, templates

DEFAULT_APPROVAL_DAYS = 90


@dataclass(frozen=True)
class TemplateStatus:
    """Where a template version stands: unregistered, submitted, blocked, approved, expired or rejected."""

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


def submit_template(conn: Connection, actor: Actor, definition: dict[str, Any],
                    now: datetime | None = None) -> tuple[Template, LintReport, bool]:
    """Register a template version for review, exactly as filed.

    Returns:
        The registered template, its lint report, and whether it was new (an identical resubmission is not).

    Raises:
        ApprovalError: the file's version is registered with other content (an edit is a new version: the
            message names the next free one); nothing is registered.
    """
    require(actor, "template.submit")
    now = now or datetime.now(UTC)
    template = parse_template(definition)
    existing = conn.execute(select(templates.c.content_sha256).where(
        templates.c.template_id == template.template_id, templates.c.version == template.version)).scalar()
    if existing == template.content_sha256:
        return template, lint_template(template), False
    if existing is not None:
        latest = conn.execute(select(func.max(templates.c.version)).where(
            templates.c.template_id == template.template_id)).scalar()
        raise ApprovalError(
            f"{template.key} is already registered with other content (sha256 {existing[:12]}); a registered "
            f"version never changes: file the edit as version {latest + 1} (`version: {latest + 1}`) and submit it")
    report = lint_template(template)
    decision = "submitted" if report.passed else "blocked"
    conn.execute(templates.insert().values(
        template_id=template.template_id, version=template.version, content_sha256=template.content_sha256,
        jurisdiction=template.jurisdiction, channel=template.channel, product_type=template.product_type,
        definition_json=_definition_json(template), author=actor.user, created_at=now))
    conn.execute(template_approvals.insert().values(
        template_id=template.template_id, version=template.version, content_sha256=template.content_sha256,
        decision=decision, actor=actor.user, decided_at=now, lint_version=report.lint_version,
        lint_findings_json=report.as_json()))
    audit(conn, actor.user, "template.submit", template.key,
          {"content_sha256": template.content_sha256, "lint_passed": report.passed, "status": decision,
           "findings": [f.finding_id for f in report.findings]}, now)
    return template, report, True


def approve_template(conn: Connection, actor: Actor, template_id: str, version: int,
                     valid_days: int = DEFAULT_APPROVAL_DAYS, now: datetime | None = None,
                     acknowledged: Iterable[str] = ()) -> LintReport:
    """Approve a submitted version: never by its author, never with a blocking lint finding, and only with
    every REVIEW finding acknowledged by its id.

    Raises:
        PermissionDenied: the role may not approve, or the actor authored the template.
        ApprovalError: unknown version, not awaiting review (blocked, rejected, approved), lint findings block
            it, or a REVIEW finding is not acknowledged (each message names the finding ids).
    """
    require(actor, "template.approve")
    now = now or datetime.now(UTC)
    template, author = registered_template(conn, template_id, version)
    if actor.user == author:
        raise PermissionDenied(f"{actor.user} wrote {template.key} and may not approve it (maker-checker)")
    status = template_status(conn, template_id, version, now)
    report = lint_template(template)
    if status.status == "blocked" or not report.passed:
        raise ApprovalError(f"{template.key} is blocked by its lint and cannot be approved: "
                            + "; ".join(str(f) for f in report.blocking))
    if status.status not in ("submitted", "expired"):
        raise ApprovalError(f"{template.key} is {status.status}, not awaiting approval")
    acknowledged = {str(a).strip() for a in acknowledged if str(a).strip()}
    review_ids = {f.finding_id for f in report.review}
    unknown = sorted(acknowledged - review_ids)
    if unknown:
        raise ApprovalError(f"{template.key}: no REVIEW finding {', '.join(unknown)} to acknowledge; its REVIEW "
                            f"findings are {', '.join(sorted(review_ids)) or 'none'}")
    missing = [f for f in report.review if f.finding_id not in acknowledged]
    if missing:
        raise ApprovalError(f"{template.key} has REVIEW findings to acknowledge by id (--ack): "
                            + "; ".join(str(f) for f in missing))
    if valid_days < 1:
        raise ApprovalError("an approval must be valid for at least one day")
    expires = now + timedelta(days=valid_days)
    conn.execute(template_approvals.insert().values(
        template_id=template_id, version=version, content_sha256=template.content_sha256, decision="approved",
        actor=actor.user, decided_at=now, expires_at=expires, lint_version=report.lint_version,
        lint_findings_json=report.as_json(), acknowledged_json=json.dumps(sorted(acknowledged))))
    audit(conn, actor.user, "template.approve", template.key,
          {"content_sha256": template.content_sha256, "expires_at": expires.isoformat(),
           "review_findings": [f.finding_id for f in report.findings], "acknowledged": sorted(acknowledged)}, now)
    return report


def reject_template(conn: Connection, actor: Actor, template_id: str, version: int, reason: str,
                    now: datetime | None = None) -> None:
    """Reject a registered version, with a reason (kept in the registry and the audit trail)."""
    require(actor, "template.reject")
    if not reason or not reason.strip():
        raise ApprovalError("a rejection needs a reason")
    now = now or datetime.now(UTC)
    template, _ = registered_template(conn, template_id, version)
    conn.execute(template_approvals.insert().values(
        template_id=template_id, version=version, content_sha256=template.content_sha256, decision="rejected",
        actor=actor.user, decided_at=now, reason=reason.strip()))
    audit(conn, actor.user, "template.reject", template.key, {"reason": reason.strip()}, now)


def template_status(conn: Connection, template_id: str, version: int, now: datetime | None = None) -> TemplateStatus:
    """The version's status with the latest decision's details (`unregistered` when never submitted)."""
    now = now or datetime.now(UTC)
    registered = conn.execute(select(templates.c.content_sha256).where(
        templates.c.template_id == template_id, templates.c.version == version)).scalar()
    if registered is None:
        return TemplateStatus("unregistered")
    row = conn.execute(select(template_approvals).where(
        template_approvals.c.template_id == template_id, template_approvals.c.version == version)
        .order_by(template_approvals.c.decided_at.desc(), template_approvals.c.decision_id.desc()).limit(1)).first()
    if row is None:
        return TemplateStatus("submitted")
    status = row.decision
    same_hash = row.content_sha256 == registered
    if row.decision == "approved" and (not same_hash or row.expires_at is None or row.expires_at <= now):
        status = "expired" if same_hash else "submitted"
    return TemplateStatus(status, row.actor, row.decided_at, row.expires_at, row.reason)


def approved_template(conn: Connection, template_id: str, version: int, now: datetime | None = None) -> Template:
    """The registered copy of an approved, unexpired version whose content still hashes to what was approved.

    Raises:
        ApprovalError: naming why the template may not be sent (CN-APPROVAL-01).
    """
    template, _ = registered_template(conn, template_id, version)
    status = template_status(conn, template_id, version, now)
    if status.status != "approved":
        raise ApprovalError(f"CN-APPROVAL-01: template {template.key} is {status.status}, not approved; "
                            "only approved, unexpired templates can be sent")
    approved_hash = conn.execute(select(template_approvals.c.content_sha256).where(
        template_approvals.c.template_id == template_id, template_approvals.c.version == version,
        template_approvals.c.decision == "approved").order_by(template_approvals.c.decided_at.desc()).limit(1)).scalar()
    if approved_hash != template.content_sha256:
        raise ApprovalError(f"CN-APPROVAL-01: template {template.key} content changed after approval")
    return template


def list_templates(conn: Connection, now: datetime | None = None) -> list[RegisteredTemplate]:
    """Every registered version, by template id and version, with its status."""
    rows = conn.execute(select(templates.c.template_id, templates.c.version, templates.c.content_sha256,
                               templates.c.author, templates.c.created_at)
                        .order_by(templates.c.template_id, templates.c.version)).all()
    return [RegisteredTemplate(r.template_id, r.version, r.content_sha256, r.author, r.created_at,
                               template_status(conn, r.template_id, r.version, now)) for r in rows]


def registered_versions(conn: Connection, template_id: str) -> list[int]:
    """The registered versions of a template, ascending."""
    return list(conn.execute(select(templates.c.version).where(templates.c.template_id == template_id)
                             .order_by(templates.c.version)).scalars())


def registered_template(conn: Connection, template_id: str, version: int) -> tuple[Template, str]:
    """The registered copy of a version and its author, checked against its recorded hash."""
    row = conn.execute(select(templates.c.definition_json, templates.c.author, templates.c.content_sha256).where(
        templates.c.template_id == template_id, templates.c.version == version)).first()
    if row is None:
        raise ApprovalError(f"template {template_id}@{version} is not registered; submit it first")
    template = parse_template(json.loads(row.definition_json), source=f"registry:{template_id}@{version}")
    if template.content_sha256 != row.content_sha256:
        raise ApprovalError(f"template {template_id}@{version}: stored definition does not match its recorded hash")
    return template, row.author


def template_from_definition(definition_json: str, source: str) -> Template:
    """A template from its registered definition (as the warehouse snapshot keeps it)."""
    return parse_template(json.loads(definition_json), source=source)


def _definition_json(template: Template) -> str:
    fields = {k: (list(v) if isinstance(v, tuple) else v) for k, v in template.__dict__.items() if k != "content_sha256"}
    return json.dumps(fields, ensure_ascii=False, sort_keys=True)

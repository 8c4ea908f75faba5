"""The maker-checker template registry, the audit chain and role resolution, in the campaign store (SQLite and a
real Postgres server)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from campaigns.campaign_errors import ApprovalError, PermissionDenied, RolesFileError
from campaigns.content.copy_lint import lint_template
from campaigns.definitions.roles_file import RolesFile
from campaigns.governance.access import Actor, resolve_actor
from campaigns.governance.audit_trail import verify_audit_chain
from campaigns.governance.template_approvals import (
    approve_template,
    approved_template,
    list_templates,
    reject_template,
    submit_template,
    template_status,
)
from campaigns.store.op_tables import audit_log, template_approvals, templates
from tests.campaigns.conftest import make_template, template_data

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
MAKER = Actor("mei", "marketer")
CHECKER = Actor("chen", "compliance")
ADMIN = Actor("ada", "admin")


@pytest.fixture
def conn(op_store):
    with op_store.transaction() as connection:
        yield connection


def _personalised_without_opt_out(**overrides):
    """A personalised template that offers no way to refuse personalised marketing: a REVIEW finding (CN-PI-01)."""
    data = template_data(template_id="wealth_review", **overrides)
    for body in ("text_body", "html_body"):
        data[body] = data[body].replace("如需关闭个性化推荐，请在App“设置-隐私-个性化推荐”中关闭。", "")
    return data


def _loan_data(**overrides):
    base = template_data(template_id="loan_offer", product_type="loan", risk_grade=None)
    base["subject"] = "【广告】随借随还的消费贷款"
    base["text_body"] = base["text_body"].replace("理财非存款、产品有风险、投资须谨慎。", "日息低至0.02%，借款请理性。")
    base["html_body"] = base["html_body"].replace("理财非存款、产品有风险、投资须谨慎。", "日息低至0.02%，借款请理性。")
    base.update(overrides)
    return base


def test_guarantee_claim_cannot_be_approved_and_names_the_rule(conn) -> None:
    data = template_data()
    data["text_body"] = data["text_body"].replace("感谢您关注", "本产品保本保收益，感谢您关注")
    template, report, new = submit_template(conn, MAKER, data, now=T0)
    assert new and not report.passed and {f.rule_id for f in report.blocking} == {"CN-AD-01"}
    with pytest.raises(ApprovalError, match="CN-AD-01") as error:
        approve_template(conn, CHECKER, template.template_id, template.version, now=T0 + timedelta(hours=1))
    assert "保本" in str(error.value)
    # A submission its lint blocks is marked blocked, never left in the queue as if approvable.
    assert template_status(conn, template.template_id, template.version).status == "blocked"
    listed = {(r.template_id, r.version): r.status.status for r in list_templates(conn, T0)}
    assert listed[(template.template_id, template.version)] == "blocked"
    with pytest.raises(ApprovalError, match="not approved"):
        approved_template(conn, template.template_id, template.version)


def test_loan_daily_rate_without_apr_cannot_be_approved(conn) -> None:
    template, report, _ = submit_template(conn, MAKER, _loan_data(), now=T0)
    assert [f.rule_id for f in report.blocking] == ["CN-LOAN-01"]
    with pytest.raises(ApprovalError, match="CN-LOAN-01.*年化利率"):
        approve_template(conn, CHECKER, "loan_offer", template.version, now=T0)
    # The same copy with the APR stated passes lint.
    fixed = _loan_data()
    for body in ("text_body", "html_body"):
        fixed[body] = fixed[body].replace("日息低至0.02%", "日息低至0.02%（年化利率7.3%）")
    assert lint_template(make_template(**fixed)).passed


def test_maker_checker_edit_and_expiry(conn) -> None:
    template, report, _ = submit_template(conn, MAKER, template_data(), now=T0)
    assert report.passed
    # The author can never approve, whatever their role.
    submit_template(conn, ADMIN, template_data(template_id="admin_own"), now=T0)
    with pytest.raises(PermissionDenied, match="maker-checker"):
        approve_template(conn, ADMIN, "admin_own", 1, now=T0)
    with pytest.raises(PermissionDenied, match="may not template.approve"):
        approve_template(conn, MAKER, "wealth_welcome", 1, now=T0)
    with pytest.raises(PermissionDenied, match="may not template.submit"):
        submit_template(conn, CHECKER, template_data(), now=T0)
    approve_template(conn, CHECKER, "wealth_welcome", 1, valid_days=30, now=T0 + timedelta(hours=1))
    assert approved_template(conn, "wealth_welcome", 1, now=T0 + timedelta(days=29)).content_sha256 == template.content_sha256
    with pytest.raises(ApprovalError, match="expired"):
        approved_template(conn, "wealth_welcome", 1, now=T0 + timedelta(days=31))
    # An edit filed as version 1 is refused, naming the version to file it as; nothing is registered.
    edited = template_data(subject="【广告】欢迎了解稳健型理财产品（新版）")
    with pytest.raises(ApprovalError, match="already registered with other content.*as version 2"):
        submit_template(conn, MAKER, edited, now=T0 + timedelta(days=2))
    assert conn.execute(select(templates.c.version).where(templates.c.template_id == "wealth_welcome")).all() == [(1,)]
    # Filed as version 2 it is registered as version 2, unapproved; version 1 keeps its approval.
    new, _, _ = submit_template(conn, MAKER, {**edited, "version": 2}, now=T0 + timedelta(days=2))
    assert new.version == 2 and new.content_sha256 != template.content_sha256
    assert template_status(conn, "wealth_welcome", 2, T0 + timedelta(days=2)).status == "submitted"
    with pytest.raises(ApprovalError, match="submitted, not approved"):
        approved_template(conn, "wealth_welcome", 2, now=T0 + timedelta(days=2))
    with pytest.raises(ApprovalError, match="reason"):
        reject_template(conn, CHECKER, "wealth_welcome", 2, " ", now=T0 + timedelta(days=3))
    reject_template(conn, CHECKER, "wealth_welcome", 2, "新版主题未经法务确认", now=T0 + timedelta(days=3))
    statuses = {(r.template_id, r.version): r.status for r in list_templates(conn, T0 + timedelta(days=3))}
    assert statuses[("wealth_welcome", 2)].status == "rejected"
    assert statuses[("wealth_welcome", 2)].reason == "新版主题未经法务确认"
    assert statuses[("wealth_welcome", 1)].status == "approved"
    actions = list(conn.execute(select(audit_log.c.action).order_by(audit_log.c.seq)).scalars())
    assert actions == ["template.submit", "template.submit", "template.approve", "template.submit", "template.reject"]
    assert verify_audit_chain(conn)
    conn.execute(update(audit_log).where(audit_log.c.action == "template.approve").values(actor="someone"))
    assert not verify_audit_chain(conn)


def test_approval_needs_every_review_finding_acknowledged_by_id(conn) -> None:
    template, report, _ = submit_template(conn, MAKER, _personalised_without_opt_out(), now=T0)
    assert report.passed and [f.finding_id for f in report.review] == ["CN-PI-01.1"]
    assert report.review[0].title  # the rule's name comes with the finding
    with pytest.raises(ApprovalError, match="REVIEW findings to acknowledge.*CN-PI-01.1"):
        approve_template(conn, CHECKER, template.template_id, 1, now=T0)
    with pytest.raises(ApprovalError, match="no REVIEW finding CN-AD-01.1"):
        approve_template(conn, CHECKER, template.template_id, 1, now=T0, acknowledged=["CN-PI-01.1", "CN-AD-01.1"])
    assert template_status(conn, template.template_id, 1).status == "submitted"
    approve_template(conn, CHECKER, template.template_id, 1, now=T0, acknowledged=["CN-PI-01.1"])
    assert template_status(conn, template.template_id, 1, T0).status == "approved"
    acknowledged = conn.execute(select(template_approvals.c.acknowledged_json).where(
        template_approvals.c.template_id == template.template_id, template_approvals.c.decision == "approved")).scalar()
    assert acknowledged == '["CN-PI-01.1"]'


def test_roles_file_and_acting_user(tmp_path) -> None:
    path = tmp_path / "roles.yaml"
    roles = RolesFile(path)
    with pytest.raises(PermissionDenied, match="no roles file"):
        resolve_actor("chen", roles)
    path.write_text("users:\n  mei: marketer\n  chen: compliance\n", encoding="utf-8")
    assert resolve_actor("chen", roles) == CHECKER
    with pytest.raises(PermissionDenied, match="FINGROWTH_USER"):
        resolve_actor(None, roles)
    with pytest.raises(PermissionDenied, match="not in the roles file"):
        resolve_actor("mallory", roles)
    path.write_text("users:\n  mei: superuser\n", encoding="utf-8")
    with pytest.raises(RolesFileError, match="roles.yaml:1: key 'users': user 'mei' has unknown role 'superuser'"):
        resolve_actor("mei", roles)
    path.write_text("users:\n  mei: marketer\nadmins: [ada]\n", encoding="utf-8")
    with pytest.raises(RolesFileError, match="roles.yaml:3: key 'admins': unknown key"):
        resolve_actor("mei", roles)

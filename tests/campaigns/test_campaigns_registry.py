"""Template lint and the maker-checker registry in a DuckDB warehouse."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb
import pytest

from campaigns.lint import lint_template, normalise, shipped_lint_pack
from campaigns.registry import (
    Actor,
    ApprovalError,
    PermissionDenied,
    approve_template,
    approved_template,
    list_templates,
    load_roles,
    reject_template,
    resolve_actor,
    submit_template,
    template_status,
    verify_audit_chain,
)
from tests.campaigns.conftest import make_template, template_data

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
MAKER = Actor("mei", "marketer")
CHECKER = Actor("chen", "compliance")
ADMIN = Actor("ada", "admin")


@pytest.fixture
def conn():
    with duckdb.connect(":memory:") as connection:
        yield connection


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
    template, report = submit_template(conn, MAKER, data, now=T0)
    assert not report.passed and {f.rule_id for f in report.blocking} == {"CN-AD-01"}
    with pytest.raises(ApprovalError, match="CN-AD-01") as error:
        approve_template(conn, CHECKER, template.template_id, template.version, now=T0 + timedelta(hours=1))
    assert "保本" in str(error.value)
    assert template_status(conn, template.template_id, template.version)["status"] == "submitted"
    with pytest.raises(ApprovalError, match="not approved"):
        approved_template(conn, template.template_id, template.version)


def test_loan_daily_rate_without_apr_cannot_be_approved(conn) -> None:
    template, report = submit_template(conn, MAKER, _loan_data(), now=T0)
    assert [f.rule_id for f in report.blocking] == ["CN-LOAN-01"]
    with pytest.raises(ApprovalError, match="CN-LOAN-01.*年化利率"):
        approve_template(conn, CHECKER, "loan_offer", template.version, now=T0)
    # The same copy with the APR stated passes lint.
    fixed = _loan_data()
    for body in ("text_body", "html_body"):
        fixed[body] = fixed[body].replace("日息低至0.02%", "日息低至0.02%（年化利率7.3%）")
    assert lint_template(make_template(**fixed)).passed


@pytest.mark.parametrize(("field", "old", "new", "rule_id"), [
    ("subject", "【广告】", "", "CN-EM-02"),
    ("text_body", "理财非存款、产品有风险、投资须谨慎。", "", "CN-AD-02"),
    ("text_body", "感谢您关注", "Ｇｕａｒａｎｔｅｅｄ  Return！感谢您关注", "CN-AD-01"),
    ("html_body", "感谢您关注", "无 风 险，感谢您关注", "CN-AD-01"),
    ("html_body", "本邮件由示例数字金融服务有限公司发送。", "", "CN-EM-03"),
    ("text_body", "感谢您关注", "预期年化4.5%，感谢您关注", "CN-WM-02"),
])
def test_each_lint_rule_fires_on_its_violation(field, old, new, rule_id) -> None:
    data = template_data()
    assert old in data[field]
    data[field] = data[field].replace(old, new)
    report = lint_template(make_template(**data))
    assert rule_id in {f.rule_id for f in report.blocking}


def test_shipped_template_passes_lint_with_only_a_review_note(wealth_template) -> None:
    report = lint_template(wealth_template)
    assert report.passed
    assert {f.severity for f in report.findings} <= {"REVIEW", "WARN"}
    assert normalise("<b>ＡＢＣ</b>&amp;  x") == "abc & x"


def test_us_and_eu_packs_lint_english_copy() -> None:
    us = shipped_lint_pack("US")
    data = template_data(jurisdiction="US", template_id="us_loan", product_type="loan", risk_grade=None,
                         subject="Advertisement: rates from 5.99% interest rate")
    report = lint_template(make_template(**data), us)
    assert "US-TILA-02" in {f.rule_id for f in report.blocking}
    eu = lint_template(make_template(**{**data, "jurisdiction": "EU"}), shipped_lint_pack("EU"))
    assert "EU-CCD-01" in {f.rule_id for f in eu.blocking}


def test_maker_checker_edit_and_expiry(conn) -> None:
    template, report = submit_template(conn, MAKER, template_data(), now=T0)
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
    # An edit of version 1 becomes version 2, unapproved; version 1 keeps its approval.
    edited = template_data(subject="【广告】欢迎了解稳健型理财产品（新版）")
    new, _ = submit_template(conn, MAKER, edited, now=T0 + timedelta(days=2))
    assert new.version == 2 and new.content_sha256 != template.content_sha256
    assert template_status(conn, "wealth_welcome", 2, T0 + timedelta(days=2))["status"] == "submitted"
    with pytest.raises(ApprovalError, match="submitted, not approved"):
        approved_template(conn, "wealth_welcome", 2, now=T0 + timedelta(days=2))
    with pytest.raises(ApprovalError, match="reason"):
        reject_template(conn, CHECKER, "wealth_welcome", 2, " ", now=T0 + timedelta(days=3))
    reject_template(conn, CHECKER, "wealth_welcome", 2, "新版主题未经法务确认", now=T0 + timedelta(days=3))
    statuses = {(r["template_id"], r["version"]): r for r in list_templates(conn, T0 + timedelta(days=3))}
    assert statuses[("wealth_welcome", 2)]["status"] == "rejected"
    assert statuses[("wealth_welcome", 2)]["reason"] == "新版主题未经法务确认"
    assert statuses[("wealth_welcome", 1)]["status"] == "approved"
    actions = [row[0] for row in conn.execute("SELECT action FROM campaigns.audit_log ORDER BY seq").fetchall()]
    assert actions == ["template.submit", "template.submit", "template.approve", "template.submit", "template.reject"]
    assert verify_audit_chain(conn)
    conn.execute("UPDATE campaigns.audit_log SET actor = 'someone' WHERE action = 'template.approve'")
    assert not verify_audit_chain(conn)


def test_roles_file_and_acting_user(tmp_path) -> None:
    path = tmp_path / "roles.yaml"
    path.write_text("users:\n  mei: marketer\n  chen: compliance\n", encoding="utf-8")
    roles = load_roles(path)
    assert resolve_actor("chen", roles) == CHECKER
    with pytest.raises(PermissionDenied, match="FINGROWTH_USER"):
        resolve_actor(None, roles)
    with pytest.raises(PermissionDenied, match="not in the roles file"):
        resolve_actor("mallory", roles)
    path.write_text("users:\n  mei: superuser\n", encoding="utf-8")
    with pytest.raises(ValueError, match="unknown role"):
        load_roles(path)

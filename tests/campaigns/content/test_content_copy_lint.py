"""Template copy lint: each shipped lint rule fires on its violation; normalised matching; the US and EU packs."""

from __future__ import annotations

import dataclasses

import pytest

from campaigns.content.copy_lint import lint_template, normalise, shipped_lint_pack
from tests.campaigns.conftest import make_template, template_data


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


def test_lint_checks_placeholders_against_the_customer_safe_list(wealth_template) -> None:
    """A template that slipped an internal label past the file schema (e.g. registered before the rule) is blocked."""
    leaked = dataclasses.replace(
        wealth_template, placeholders=(*wealth_template.placeholders, "persona_name"),
        text_body=wealth_template.text_body.replace("我们为您介绍", "根据您「{{persona_name}}」的使用习惯，我们为您介绍"))
    report = lint_template(leaked)
    assert not report.passed
    safe = [f for f in report.blocking if f.rule_id == "GEN-SAFE-01"]
    assert safe and "persona_name" in safe[0].message and safe[0].finding_id == "GEN-SAFE-01.1"
    assert "GEN-SAFE-01" not in {f.rule_id for f in lint_template(wealth_template).findings}
    for jurisdiction in ("US", "EU"):
        allowed = next(r for r in shipped_lint_pack(jurisdiction).rules if r.rule_id == "GEN-SAFE-01").params["allowed"]
        assert "persona_name" not in allowed

"""Template files: the shipped file, the content hash (pinned: approvals are recorded against it), placeholder safety."""

from __future__ import annotations

import pytest

from campaigns import TemplateFileError, load_template, parse_template, template_path
from tests.campaigns.conftest import make_template, template_data

# The hashes of the shipped templates as approvals recorded them; a change here voids every approval. The
# e-mail templates changed when the persona label left customer copy and the 关闭个性化推荐 line came in.
SHIPPED_HASHES = {
    ("wealth_welcome", 1): "ddcbf54c5b62783da8b95b950f18a87bd373036594e86eadacf35d95231f20ef",
    ("wealth_welcome", 2): "8126666ec08b464dfea1423b275581b423bdb659e68ed1cc93984c3c569001f8",
    ("wealth_welcome_sms", 1): "f75282d0e1a4fd6d30e1ad1e11d6642f66990497e6ac9b6cb79b78057843c896",
}


def test_shipped_template_loads_with_required_copy(wealth_template) -> None:
    assert wealth_template.subject.startswith("【广告】")
    for body in (wealth_template.text_body, wealth_template.html_body):
        assert "理财非存款、产品有风险、投资须谨慎" in body
        assert wealth_template.sender_legal_name in body
        assert "{{unsubscribe_url}}" in body
    assert wealth_template.jurisdiction == "CN" and wealth_template.channel == "email"
    assert len(wealth_template.content_sha256) == 64
    assert load_template(template_path("wealth_welcome", 1)) == wealth_template


@pytest.mark.parametrize(("template_id", "version"), sorted(SHIPPED_HASHES))
def test_shipped_template_hashes_are_unchanged(template_id: str, version: int) -> None:
    assert load_template(template_path(template_id, version)).content_sha256 == SHIPPED_HASHES[(template_id, version)]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("subject", "【广告】欢迎了解稳健型理财产品!"),
        ("text_body", template_data()["text_body"].replace("投资须谨慎", "投资需谨慎")),
        ("html_body", template_data()["html_body"] + " "),
        ("risk_grade", "R3"),
        ("version", 2),
        ("sender_contact", "客服电话 400-000-0001"),
        ("is_personalized", False),
        ("placeholders", ["user_ref", "unsubscribe_url", "campaign_id"]),
    ],
)
def test_hash_changes_when_any_content_changes(wealth_template, key: str, value: object) -> None:
    assert make_template(**{key: value}).content_sha256 != wealth_template.content_sha256


def test_hash_ignores_line_ending_style(wealth_template) -> None:
    data = template_data()
    crlf = parse_template({**data, "text_body": data["text_body"].replace("\n", "\r\n")})
    assert crlf.content_sha256 == wealth_template.content_sha256


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        ({"placeholders": ["user_ref", "email", "unsubscribe_url"]}, "placeholders"),
        # An internal label is never a customer-safe field.
        ({"placeholders": ["user_ref", "unsubscribe_url", "persona_name"]}, "placeholders"),
        ({"placeholders": ["unsubscribe_url"]}, "text_body"),  # user_ref used, not declared
        ({"subject": "【广告】{{ phone-number }}"}, "subject"),
        ({"text_body": "没有退订链接 {{user_ref}}"}, "text_body"),
        ({"product_type": "wealth_mgmt", "risk_grade": None}, "risk_grade"),
        ({"risk_grade": "R9"}, "risk_grade"),
        ({"channel": "fax"}, "channel"),
        ({"version": "1"}, "version"),
        ({"subjet": "typo"}, "subjet"),
    ],
)
def test_invalid_templates_name_the_key(overrides: dict, key: str) -> None:
    with pytest.raises(TemplateFileError, match=f"key '{key}'") as error:
        make_template(**overrides)
    assert error.value.key == key


def test_template_file_error_names_the_file(tmp_path) -> None:
    path = tmp_path / "broken_v1.yaml"
    path.write_text("template_id: [unclosed\n", encoding="utf-8")
    with pytest.raises(TemplateFileError, match="broken_v1.yaml"):
        load_template(path)

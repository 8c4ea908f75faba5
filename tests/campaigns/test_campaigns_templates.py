"""Templates: the shipped file, the content hash, placeholder safety and rendering."""

from __future__ import annotations

import polars as pl
import pytest

from campaigns import (
    MissingPlaceholderError,
    TemplateFileError,
    load_template,
    parse_template,
    render,
    render_frame,
    template_path,
)
from tests.campaigns.conftest import make_template, template_data

FIELDS = {"user_ref": "u-001", "persona_name": "稳健理财族", "unsubscribe_url": "https://example.com/u?c=x&u=u-001"}


def test_shipped_template_loads_with_required_copy(wealth_template) -> None:
    assert wealth_template.subject.startswith("【广告】")
    for body in (wealth_template.text_body, wealth_template.html_body):
        assert "理财非存款、产品有风险、投资须谨慎" in body
        assert wealth_template.sender_legal_name in body
        assert "{{unsubscribe_url}}" in body
    assert wealth_template.jurisdiction == "CN" and wealth_template.channel == "email"
    assert len(wealth_template.content_sha256) == 64
    assert load_template(template_path("wealth_welcome", 1)) == wealth_template


def test_render_fills_placeholders_and_escapes_html(wealth_template) -> None:
    message = render(wealth_template, {**FIELDS, "persona_name": "<b>&"})
    assert "u-001" in message.text_body and "{{" not in message.text_body + message.html_body + message.subject
    assert "<b>&" in message.text_body
    assert "&lt;b&gt;&amp;" in message.html_body and "<b>&" not in message.html_body
    assert "https://example.com/u?c=x&amp;u=u-001" in message.html_body
    assert message.content_sha256 == wealth_template.content_sha256


@pytest.mark.parametrize("missing", ["persona_name", "unsubscribe_url", "user_ref"])
def test_render_names_a_missing_placeholder(wealth_template, missing: str) -> None:
    with pytest.raises(MissingPlaceholderError, match=missing) as error:
        render(wealth_template, {k: v for k, v in FIELDS.items() if k != missing})
    assert error.value.placeholder == missing
    with pytest.raises(MissingPlaceholderError, match=missing):
        render(wealth_template, {**FIELDS, missing: "  "})


def test_values_cannot_inject_placeholders(wealth_template) -> None:
    with pytest.raises(ValueError, match="braces"):
        render(wealth_template, {**FIELDS, "persona_name": "{{user_ref}}"})


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
        ("placeholders", ["user_ref", "persona_name", "unsubscribe_url", "campaign_id"]),
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
        ({"placeholders": ["user_ref", "email", "unsubscribe_url", "persona_name"]}, "placeholders"),
        ({"placeholders": ["user_ref", "unsubscribe_url"]}, "text_body"),  # persona_name used, not declared
        ({"subject": "【广告】{{ phone-number }}"}, "subject"),
        ({"text_body": "没有退订链接 {{user_ref}} {{persona_name}}"}, "text_body"),
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


def test_render_frame_matches_render(wealth_template) -> None:
    rows = [FIELDS, {**FIELDS, "user_ref": "u-002", "persona_name": "A&B <x>"}]
    frame = render_frame(wealth_template, pl.DataFrame(rows), include_html=True)
    for row, out in zip(rows, frame.iter_rows(named=True), strict=True):
        expected = render(wealth_template, row)
        assert (out["subject"], out["text_body"], out["html_body"]) == (
            expected.subject, expected.text_body, expected.html_body
        )
    assert frame.get_column("content_sha256").unique().to_list() == [wealth_template.content_sha256]


def test_render_frame_rejects_null_or_absent_values(wealth_template) -> None:
    with pytest.raises(MissingPlaceholderError, match="persona_name"):
        render_frame(wealth_template, pl.DataFrame([FIELDS, {**FIELDS, "persona_name": None}]))
    with pytest.raises(MissingPlaceholderError, match="user_ref"):
        render_frame(wealth_template, pl.DataFrame([FIELDS]).drop("user_ref"))

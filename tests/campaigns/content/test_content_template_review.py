"""What a reviewer reads: a template rendered with sample values, its HTML as text, diffs between versions."""

from __future__ import annotations

from campaigns.content.template_review import html_as_text, preview, template_diff
from tests.campaigns.conftest import make_template


def test_preview_renders_subject_text_and_html_as_text_with_sample_values(wealth_template) -> None:
    shown = preview(wealth_template, "https://example.com/unsubscribe")
    assert shown.language == "zh" and shown.template_key == "wealth_welcome@1"
    assert shown.subject == wealth_template.subject
    assert "SAMPLE-0001" in shown.text_body and "{{" not in shown.text_body + shown.html_as_text
    assert "理财非存款、产品有风险、投资须谨慎。" in shown.html_as_text
    assert "<p" not in shown.html_as_text and "&amp;" not in shown.html_as_text
    assert "退订此类邮件 <https://example.com/unsubscribe?c=sample_campaign&u=SAMPLE-0001>" in shown.html_as_text
    assert dict(shown.sample_values) == {"unsubscribe_url": "https://example.com/unsubscribe?c=sample_campaign&u=SAMPLE-0001",
                                         "user_ref": "SAMPLE-0001"}
    # The whole text body, every line of it.
    assert shown.text_body.count("\n") == wealth_template.text_body.strip("\n").count("\n")


def test_html_as_text_keeps_paragraphs_and_links() -> None:
    assert html_as_text('<p>a &amp; b</p><p>see <a href="https://x/y">here</a><br>next</p>') == \
        "a & b\nsee here <https://x/y>\nnext"


def test_diff_names_what_changed_between_versions(wealth_template) -> None:
    changed = make_template(version=2, subject="【广告】为您精选：中低风险理财产品")
    lines = template_diff(wealth_template, changed)
    assert lines[0] == "--- wealth_welcome@1" and lines[1] == "+++ wealth_welcome@2"
    assert f"-  {wealth_template.subject}" in lines and "+  【广告】为您精选：中低风险理财产品" in lines
    assert template_diff(wealth_template, wealth_template) == []

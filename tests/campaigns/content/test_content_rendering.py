"""Rendering: placeholders filled by plain replacement, HTML-escaped, never injected; frame and row renders agree."""

from __future__ import annotations

import polars as pl
import pytest

from campaigns import MissingPlaceholderError, render, render_frame

FIELDS = {"user_ref": "u-001", "unsubscribe_url": "https://example.com/u?c=x&u=u-001"}


def test_render_fills_placeholders_and_escapes_html(wealth_template) -> None:
    message = render(wealth_template, {**FIELDS, "user_ref": "<b>&"})
    assert "{{" not in message.text_body + message.html_body + message.subject
    assert "<b>&" in message.text_body
    assert "&lt;b&gt;&amp;" in message.html_body and "<b>&" not in message.html_body
    assert "https://example.com/u?c=x&amp;u=u-001" in message.html_body
    assert message.content_sha256 == wealth_template.content_sha256


@pytest.mark.parametrize("missing", ["unsubscribe_url", "user_ref"])
def test_render_names_a_missing_placeholder(wealth_template, missing: str) -> None:
    with pytest.raises(MissingPlaceholderError, match=missing) as error:
        render(wealth_template, {k: v for k, v in FIELDS.items() if k != missing})
    assert error.value.placeholder == missing
    with pytest.raises(MissingPlaceholderError, match=missing):
        render(wealth_template, {**FIELDS, missing: "  "})


def test_values_cannot_inject_placeholders(wealth_template) -> None:
    with pytest.raises(ValueError, match="braces"):
        render(wealth_template, {**FIELDS, "user_ref": "{{unsubscribe_url}}"})


def test_render_frame_matches_render(wealth_template) -> None:
    rows = [FIELDS, {**FIELDS, "user_ref": "A&B <x>"}]
    frame = render_frame(wealth_template, pl.DataFrame(rows), include_html=True)
    for row, out in zip(rows, frame.iter_rows(named=True), strict=True):
        expected = render(wealth_template, row)
        assert (out["subject"], out["text_body"], out["html_body"]) == (
            expected.subject, expected.text_body, expected.html_body
        )
    assert frame.get_column("content_sha256").unique().to_list() == [wealth_template.content_sha256]


def test_render_frame_rejects_null_or_absent_values(wealth_template) -> None:
    with pytest.raises(MissingPlaceholderError, match="unsubscribe_url"):
        render_frame(wealth_template, pl.DataFrame([FIELDS, {**FIELDS, "unsubscribe_url": None}]))
    with pytest.raises(MissingPlaceholderError, match="user_ref"):
        render_frame(wealth_template, pl.DataFrame([FIELDS]).drop("user_ref"))

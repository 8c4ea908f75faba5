"""Fill a template's `{{name}}` placeholders by plain string replacement (no template engine, no eval)."""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

from campaigns.campaign_errors import MissingPlaceholderError
from campaigns.definitions.template_file import (
    PLACEHOLDER_PATTERN,
    TEXT_FIELDS,
    Template,
    placeholders_used,
)


@dataclass(frozen=True)
class RenderedMessage:
    """One message ready to hand to a channel; carries the hash of the template it came from."""

    template_id: str
    version: int
    subject: str
    text_body: str
    html_body: str
    content_sha256: str


def render(template: Template, fields: Mapping[str, object]) -> RenderedMessage:
    """Render one message.

    Args:
        template: A loaded template.
        fields: Values for the template's placeholders; extra keys are ignored.

    Returns:
        The rendered subject, text and HTML bodies (values are HTML-escaped in the HTML body).

    Raises:
        MissingPlaceholderError: a placeholder has no value or an empty one (GEN-01).
        ValueError: a value itself contains placeholder braces.
    """
    values = {name: _checked_value(template, name, fields) for name in _needed(template)}

    def fill(text: str, escape: bool) -> str:
        return PLACEHOLDER_PATTERN.sub(lambda m: html.escape(values[m[1]]) if escape else values[m[1]], text)

    return RenderedMessage(
        template_id=template.template_id,
        version=template.version,
        subject=fill(template.subject, escape=False),
        text_body=fill(template.text_body, escape=False),
        html_body=fill(template.html_body, escape=True),
        content_sha256=template.content_sha256,
    )


def render_frame(template: Template, fields: pl.DataFrame, include_html: bool = False) -> pl.DataFrame:
    """Render one message per row of `fields`, vectorised.

    Args:
        template: A loaded template.
        fields: One row per recipient, one String column per placeholder (extra columns are kept).
        include_html: Also return `html_body` (large; off by default).

    Returns:
        `fields` plus `subject`, `text_body` (and `html_body`) String columns and `content_sha256`.

    Raises:
        MissingPlaceholderError: a placeholder column is absent, or null/empty for some row.
        ValueError: a value contains placeholder braces.
    """
    for name in sorted(_needed(template)):
        if name not in fields.columns:
            raise MissingPlaceholderError(name, template.template_id, "no such column in the recipient frame")
        values = fields.get_column(name).cast(pl.String)
        blank = values.is_null() | (values.str.strip_chars() == "")
        if blank.any():
            raise MissingPlaceholderError(name, template.template_id, f"null or empty for {blank.sum()} recipient(s)")
        if values.str.contains("{{", literal=True).any() or values.str.contains("}}", literal=True).any():
            raise ValueError(f"template '{template.template_id}': values for '{name}' contain placeholder braces")
    outputs = ["subject", "text_body"] + (["html_body"] if include_html else [])
    return fields.with_columns(
        *[_fill_expr(template, getattr(template, out), escape=(out == "html_body")).alias(out) for out in outputs],
        pl.lit(template.content_sha256).alias("content_sha256"),
    )


def _needed(template: Template) -> set[str]:
    return set().union(*(placeholders_used(getattr(template, name)) for name in TEXT_FIELDS))


def _checked_value(template: Template, name: str, fields: Mapping[str, object]) -> str:
    value = fields.get(name)
    if value is None or str(value).strip() == "":
        raise MissingPlaceholderError(name, template.template_id)
    text = str(value)
    if "{{" in text or "}}" in text:
        raise ValueError(f"template '{template.template_id}': value for '{name}' contains placeholder braces")
    return text


def _fill_expr(template: Template, text: str, escape: bool) -> pl.Expr:
    # Broadcast the copy to one value per row before per-row replacement.
    expr = pl.repeat(pl.lit(text, pl.String), pl.len())
    # Values were checked to hold no braces, so replacing one placeholder can never create another.
    tokens = {match[0]: match[1] for match in PLACEHOLDER_PATTERN.finditer(text)}
    for token, name in sorted(tokens.items()):
        value = pl.col(name).cast(pl.String)
        expr = expr.str.replace_all(token, _html_escape(value) if escape else value, literal=True)
    return expr


def _html_escape(value: pl.Expr) -> pl.Expr:
    # Same escapes as html.escape(quote=True); '&' first so the others are not double-escaped.
    for raw, escaped in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;"), ("'", "&#x27;")):
        value = value.str.replace_all(raw, escaped, literal=True)
    return value

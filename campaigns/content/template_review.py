"""What a reviewer reads before approving: a template rendered with sample values, its HTML as text, and the
differences between two versions.

No per-person data is involved: the sample values are made up and say so.
"""

from __future__ import annotations

import difflib
import html
import re
from dataclasses import dataclass

from campaigns.content.rendering import render
from campaigns.definitions.template_file import TEXT_FIELDS, Template, placeholders_used

SAMPLE_VALUES: dict[str, str] = {
    "user_ref": "SAMPLE-0001",
    "campaign_id": "sample_campaign",
    "unsubscribe_url": "https://example.com/unsubscribe?c=sample_campaign&u=SAMPLE-0001",
}
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
METADATA_FIELDS = ("jurisdiction", "channel", "message_class", "product_type", "risk_grade", "issuer",
                   "sender_legal_name", "sender_contact", "is_personalized", "placeholders")


@dataclass(frozen=True)
class TemplatePreview:
    """A template as a customer would read it, with sample values for its placeholders."""

    template_key: str
    content_sha256: str
    # The language of the copy (`zh` when it is written in Chinese characters, else `en`).
    language: str
    sample_values: tuple[tuple[str, str], ...]
    subject: str
    text_body: str
    html_as_text: str
    metadata: tuple[tuple[str, str], ...]
    # The rendered HTML body as markup: written by a template author, so show it only inert (escaped, or in a
    # sandboxed frame that runs no script).
    html_body: str = ""


def preview(template: Template, unsubscribe_base_url: str | None = None) -> TemplatePreview:
    """Render the template with sample values (every placeholder it uses gets one)."""
    values = dict(SAMPLE_VALUES)
    if unsubscribe_base_url:
        separator = "&" if "?" in unsubscribe_base_url else "?"
        values["unsubscribe_url"] = f"{unsubscribe_base_url}{separator}c=sample_campaign&u=SAMPLE-0001"
    used = set().union(*(placeholders_used(getattr(template, name)) for name in TEXT_FIELDS))
    message = render(template, values)
    copy = template.subject + template.text_body + template.html_body
    return TemplatePreview(
        template_key=template.key, content_sha256=template.content_sha256,
        language="zh" if _CJK.search(copy) else "en",
        sample_values=tuple((name, values[name]) for name in sorted(used)),
        subject=message.subject, text_body=message.text_body.rstrip("\n"),
        html_as_text=html_as_text(message.html_body) if template.html_body else "",
        metadata=tuple((name, _field_text(getattr(template, name))) for name in METADATA_FIELDS),
        html_body=message.html_body if template.html_body else "",
    )


def html_as_text(markup: str) -> str:
    """The HTML body as a reader sees it: paragraphs on their own lines, links as `text <url>`, no tags."""
    text = re.sub(r"(?is)<(script|style)\b.*?</\1>", "", markup)
    text = re.sub(r'(?is)<a\b[^>]*href\s*=\s*["\']([^"\']*)["\'][^>]*>(.*?)</a>', "\\2 \x00\\1\x01", text)
    text = re.sub(r"(?i)<br\s*/?>", "\n", text)
    text = re.sub(r"(?i)</(p|div|li|h[1-6]|tr|table|ul|ol)>", "\n", text)
    text = re.sub(r"<[^>]+>", "", text).replace("\x00", "<").replace("\x01", ">")
    lines = [re.sub(r"[ \t]+", " ", html.unescape(line)).strip() for line in text.splitlines()]
    return "\n".join(line for line in lines if line)


def template_text(template: Template) -> list[str]:
    """A template as lines of text: metadata first, then each copy field, for diffing."""
    lines = [f"{name}: {_field_text(getattr(template, name))}" for name in METADATA_FIELDS]
    for name in TEXT_FIELDS:
        lines.append(f"{name}:")
        lines.extend(f"  {line}" for line in getattr(template, name).splitlines())
    return lines


def template_diff(old: Template, new: Template) -> list[str]:
    """A unified diff of two template versions (metadata and copy); empty when they say the same."""
    return list(difflib.unified_diff(template_text(old), template_text(new), fromfile=old.key, tofile=new.key,
                                     lineterm=""))


def _field_text(value: object) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return "" if value is None else str(value)

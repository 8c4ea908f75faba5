"""Message templates: data files with compliance metadata and a content hash."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from campaigns._yaml_file import read_mapping, reject_unknown_keys, required
from campaigns.errors import TemplateFileError
from campaigns.products import (
    CHANNELS,
    INVESTMENT_PRODUCT_TYPES,
    PRODUCT_TYPES,
    RISK_GRADES,
)

# Only pseudonymous or non-personal values may reach rendered copy (PIPL data minimisation, CN-PI-03):
# never names, e-mail addresses, phone numbers, ID or account numbers, balances.
SAFE_PLACEHOLDERS: frozenset[str] = frozenset({"user_ref", "persona_name", "unsubscribe_url", "campaign_id"})

PLACEHOLDER_PATTERN = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}")
TEXT_FIELDS: tuple[str, ...] = ("subject", "text_body", "html_body")
NON_EMAIL_OPTIONAL: frozenset[str] = frozenset({"subject", "html_body"})
_FIELDS: set[str] = {
    "template_id", "version", "jurisdiction", "channel", "message_class", "product_type", "risk_grade",
    "issuer", "sender_legal_name", "sender_contact", "is_personalized", "placeholders", *TEXT_FIELDS,
}


@dataclass(frozen=True)
class Template:
    """An immutable message template as loaded from its file.

    `content_sha256` covers every field below (metadata and copy), so any edit changes it and voids
    an approval recorded against the old hash.
    """

    template_id: str
    version: int
    jurisdiction: str
    channel: str
    message_class: str
    product_type: str
    risk_grade: str | None
    issuer: str
    sender_legal_name: str
    sender_contact: str
    is_personalized: bool
    placeholders: tuple[str, ...]
    subject: str
    text_body: str
    html_body: str
    content_sha256: str

    @property
    def key(self) -> str:
        """`template_id@version`, the reference a campaign uses."""
        return f"{self.template_id}@{self.version}"


def load_template(path: str | Path) -> Template:
    """Load and validate a template file.

    Args:
        path: A YAML template file.

    Returns:
        The validated template with its `content_sha256`.

    Raises:
        TemplateFileError: naming the file and the offending key.
    """
    return parse_template(read_mapping(path, TemplateFileError), source=path)


def parse_template(data: dict[str, Any], source: str | Path = "<memory>") -> Template:
    """Validate a template given as a mapping (the parsed YAML file)."""
    err = TemplateFileError
    reject_unknown_keys(data, _FIELDS, source, err)
    fields: dict[str, Any] = {
        "template_id": required(data, "template_id", str, source, err),
        "version": required(data, "version", int, source, err),
        "jurisdiction": required(data, "jurisdiction", str, source, err),
        "channel": required(data, "channel", str, source, err),
        "message_class": data.get("message_class", "commercial"),
        "product_type": required(data, "product_type", str, source, err),
        "risk_grade": data.get("risk_grade"),
        "issuer": required(data, "issuer", str, source, err),
        "sender_legal_name": required(data, "sender_legal_name", str, source, err),
        "sender_contact": required(data, "sender_contact", str, source, err),
        "is_personalized": required(data, "is_personalized", bool, source, err),
        "placeholders": tuple(required(data, "placeholders", list, source, err)),
    }
    for name in TEXT_FIELDS:
        if fields["channel"] != "email" and name in NON_EMAIL_OPTIONAL:
            # An SMS or push message is plain text: no HTML body, and a subject (push title) is optional.
            value = data.get(name) or ""
            if not isinstance(value, str):
                raise err(source, name, f"must be a string, got {value!r}")
            fields[name] = _normalise_text(value)
        else:
            fields[name] = _normalise_text(required(data, name, str, source, err))
    _validate(fields, source)
    fields["content_sha256"] = content_sha256(fields)
    return Template(**fields)


def content_sha256(fields: dict[str, Any]) -> str:
    """SHA-256 over the canonical JSON of a template's fields (excluding the hash itself)."""
    canonical = {k: (list(v) if isinstance(v, tuple) else v) for k, v in fields.items() if k != "content_sha256"}
    payload = json.dumps(canonical, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def placeholders_used(text: str) -> set[str]:
    """Names of the `{{name}}` placeholders that occur in `text`."""
    return set(PLACEHOLDER_PATTERN.findall(text))


def _normalise_text(text: str) -> str:
    # The same copy checked out on Windows or typed with composed characters must hash the same.
    return unicodedata.normalize("NFC", text.replace("\r\n", "\n"))


def _validate(fields: dict[str, Any], source: str | Path) -> None:
    err = TemplateFileError
    if fields["channel"] not in CHANNELS:
        raise err(source, "channel", f"must be one of {sorted(CHANNELS)}, got {fields['channel']!r}")
    if fields["message_class"] not in ("commercial", "transactional"):
        raise err(source, "message_class", "must be 'commercial' or 'transactional'")
    if fields["product_type"] not in PRODUCT_TYPES:
        raise err(source, "product_type", f"must be one of {sorted(PRODUCT_TYPES)}, got {fields['product_type']!r}")
    grade = fields["risk_grade"]
    if grade is not None and grade not in RISK_GRADES:
        raise err(source, "risk_grade", f"must be one of {list(RISK_GRADES)}, got {grade!r}")
    if grade is None and fields["product_type"] in INVESTMENT_PRODUCT_TYPES:
        raise err(source, "risk_grade", f"is required for investment product type {fields['product_type']!r}")
    declared = fields["placeholders"]
    for name in declared:
        if name not in SAFE_PLACEHOLDERS:
            raise err(source, "placeholders", f"{name!r} is not a safe field; allowed: {sorted(SAFE_PLACEHOLDERS)}")
    for text_field in TEXT_FIELDS:
        text = fields[text_field]
        undeclared = sorted(placeholders_used(text) - set(declared))
        if undeclared:
            raise err(source, text_field, f"uses undeclared placeholder {undeclared[0]!r}")
        if "{{" in PLACEHOLDER_PATTERN.sub("", text) or "}}" in PLACEHOLDER_PATTERN.sub("", text):
            raise err(source, text_field, "has a malformed placeholder; use {{name}} with a-z, 0-9, _")
    if fields["channel"] != "email" and fields["html_body"]:
        raise err(source, "html_body", f"a {fields['channel']} template is plain text; leave html_body out")
    if fields["message_class"] == "commercial" and fields["channel"] == "email":
        # A refusal method in every commercial e-mail (CN-EM-03, US-CS-04, EU-CONS-02). SMS and push state
        # theirs in the text (e.g. 回复TD退订), which the jurisdiction's lint pack checks.
        for body in ("text_body", "html_body"):
            if "unsubscribe_url" not in placeholders_used(fields[body]):
                raise err(source, body, "must contain the {{unsubscribe_url}} placeholder")

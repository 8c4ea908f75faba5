"""Message template files: copy with compliance metadata, and the content hash approvals are recorded against."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import PlainValidator, model_validator

from campaigns.campaign_errors import TemplateFileError
from campaigns.definitions.vocabulary import (
    CHANNELS,
    INVESTMENT_PRODUCT_TYPES,
    PRODUCT_TYPES,
    RISK_GRADES,
)
from file_schemas.yaml_source import (
    NO_LINES,
    FileModel,
    Flag,
    Integer,
    KeyLines,
    Text,
    TextList,
    fail,
    read_mapping,
    validate_file,
)

# Only customer-safe values may reach rendered copy: pseudonymous or non-personal ones (PIPL data minimisation,
# CN-PI-03), never names, e-mail addresses, phone numbers, ID or account numbers, balances, and never an
# internal label (persona names or ids, segment names, scores) that describes the customer to us.
SAFE_PLACEHOLDERS: frozenset[str] = frozenset({"user_ref", "unsubscribe_url", "campaign_id"})

PLACEHOLDER_PATTERN = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}")
TEXT_FIELDS: tuple[str, ...] = ("subject", "text_body", "html_body")
NON_EMAIL_OPTIONAL: frozenset[str] = frozenset({"subject", "html_body"})


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


def _any(value: Any) -> Any:
    # Checked against the other fields once they are known (see `TemplateFileModel._copy_rules`).
    return value


def _optional_text(value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ValueError(f"must be a string, got {value!r}")
    return value


OptionalText = Annotated[str | None, PlainValidator(_optional_text)]


class TemplateFileModel(FileModel):
    """The template file format; fields in the order their problems are reported."""

    template_id: Text
    version: Integer
    jurisdiction: Text
    channel: Text
    message_class: Annotated[Any, PlainValidator(_any)] = "commercial"
    product_type: Text
    risk_grade: Annotated[Any, PlainValidator(_any)] = None
    issuer: Text
    sender_legal_name: Text
    sender_contact: Text
    is_personalized: Flag
    placeholders: TextList
    subject: OptionalText = None
    text_body: OptionalText = None
    html_body: OptionalText = None

    @model_validator(mode="after")
    def _copy_rules(self) -> TemplateFileModel:
        for name in TEXT_FIELDS:
            optional = self.channel != "email" and name in NON_EMAIL_OPTIONAL
            # An SMS or push message is plain text: no HTML body, and a subject (push title) is optional.
            if not optional and not getattr(self, name):
                fail("is required", name)
        _check_fields(self.fields())
        return self

    def fields(self) -> dict[str, Any]:
        """The template's fields as hashed: copy normalised, absent optional copy empty."""
        values = {name: getattr(self, name) for name in (
            "template_id", "version", "jurisdiction", "channel", "message_class", "product_type", "risk_grade",
            "issuer", "sender_legal_name", "sender_contact", "is_personalized", "placeholders")}
        values.update({name: _normalise_text(getattr(self, name) or "") for name in TEXT_FIELDS})
        return values

    def to_template(self) -> Template:
        fields = self.fields()
        return Template(**fields, content_sha256=content_sha256(fields))


def load_template(path: str | Path) -> Template:
    """Load and validate a template file.

    Raises:
        TemplateFileError: naming the file, the line and the offending key.
    """
    data, lines = read_mapping(path, TemplateFileError)
    return parse_template(data, source=path, lines=lines)


def load_template_definition(path: str | Path) -> dict[str, Any]:
    """A template file's mapping, once it validates (the registry stores and re-versions the mapping).

    Raises:
        TemplateFileError: naming the file, the line and the offending key.
    """
    data, lines = read_mapping(path, TemplateFileError)
    parse_template(data, source=path, lines=lines)
    return data


def parse_template(data: dict[str, Any], source: str | Path = "<memory>", lines: KeyLines = NO_LINES) -> Template:
    """Validate a template given as a mapping (the parsed YAML file, or a registered definition)."""
    model: TemplateFileModel = validate_file(TemplateFileModel, data, source, TemplateFileError, lines)
    return model.to_template()


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


def _check_fields(fields: dict[str, Any]) -> None:
    if fields["channel"] not in CHANNELS:
        fail(f"must be one of {sorted(CHANNELS)}, got {fields['channel']!r}", "channel")
    if fields["message_class"] not in ("commercial", "transactional"):
        fail("must be 'commercial' or 'transactional'", "message_class")
    if fields["product_type"] not in PRODUCT_TYPES:
        fail(f"must be one of {sorted(PRODUCT_TYPES)}, got {fields['product_type']!r}", "product_type")
    grade = fields["risk_grade"]
    if grade is not None and grade not in RISK_GRADES:
        fail(f"must be one of {list(RISK_GRADES)}, got {grade!r}", "risk_grade")
    if grade is None and fields["product_type"] in INVESTMENT_PRODUCT_TYPES:
        fail(f"is required for investment product type {fields['product_type']!r}", "risk_grade")
    declared = fields["placeholders"]
    for name in declared:
        if name not in SAFE_PLACEHOLDERS:
            fail(f"{name!r} is not a safe field; allowed: {sorted(SAFE_PLACEHOLDERS)}", "placeholders")
    for text_field in TEXT_FIELDS:
        text = fields[text_field]
        undeclared = sorted(placeholders_used(text) - set(declared))
        if undeclared:
            fail(f"uses undeclared placeholder {undeclared[0]!r}", text_field)
        if "{{" in PLACEHOLDER_PATTERN.sub("", text) or "}}" in PLACEHOLDER_PATTERN.sub("", text):
            fail("has a malformed placeholder; use {{name}} with a-z, 0-9, _", text_field)
    if fields["channel"] != "email" and fields["html_body"]:
        fail(f"a {fields['channel']} template is plain text; leave html_body out", "html_body")
    if fields["message_class"] == "commercial" and fields["channel"] == "email":
        # A refusal method in every commercial e-mail (CN-EM-03, US-CS-04, EU-CONS-02). SMS and push state
        # theirs in the text (e.g. 回复TD退订), which the jurisdiction's lint pack checks.
        for body in ("text_body", "html_body"):
            if "unsubscribe_url" not in placeholders_used(fields[body]):
                fail("must contain the {{unsubscribe_url}} placeholder", body)

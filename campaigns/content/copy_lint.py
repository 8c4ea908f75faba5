"""Template copy lint: the checks a template must pass before compliance may approve it.

Lint rules live in data files (`campaigns/library/lint/<jurisdiction>.yaml`), like the recipient rule packs, so
compliance can change term lists without a code change. Matching is done on normalised copy: full-width
characters folded (NFKC), HTML tags stripped, case folded, and whitespace removed for CJK terms, so
"保 本" or "ＧＵＡＲＡＮＴＥＥＤ return" do not slip through.
"""

from __future__ import annotations

import html
import json
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from campaigns.definitions.pack_file import read_pack_file
from campaigns.definitions.shipped_library import shipped_pack_path
from campaigns.definitions.template_file import (
    PLACEHOLDER_PATTERN,
    TEXT_FIELDS,
    Template,
    placeholders_used,
)

# Findings of these severities stop an approval; REVIEW is what the approving officer does anyway.
BLOCKING_SEVERITIES: frozenset[str] = frozenset({"BLOCK", "FIX"})


@dataclass(frozen=True)
class LintRule:
    rule_id: str
    check: str
    severity: str
    title: str
    applies_to: frozenset[str] | None
    params: dict[str, Any] = field(default_factory=dict, hash=False)

    def applies(self, template: Template) -> bool:
        wanted_class = self.params.get("message_class")
        if wanted_class and template.message_class != wanted_class:
            return False
        channels = self.params.get("channels")
        if channels and template.channel not in channels:
            return False
        return self.applies_to is None or template.product_type in self.applies_to


@dataclass(frozen=True)
class LintPack:
    jurisdiction: str
    version: str
    rules: tuple[LintRule, ...]
    sha256: str

    @property
    def lint_version(self) -> str:
        return f"lint-{self.jurisdiction}-{self.version}+{self.sha256[:12]}"


@dataclass(frozen=True)
class Finding:
    """One problem a lint rule found. `finding_id` (`RULE-ID.n`) is what an approver acknowledges; `title`
    is the rule's name."""

    rule_id: str
    severity: str
    title: str
    message: str
    finding_id: str = ""

    def __str__(self) -> str:
        return f"{self.finding_id or self.rule_id} [{self.severity}] {self.title}: {self.message}"


@dataclass(frozen=True)
class LintReport:
    template_key: str
    lint_version: str
    findings: tuple[Finding, ...]

    @property
    def blocking(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity in BLOCKING_SEVERITIES)

    @property
    def passed(self) -> bool:
        return not self.blocking

    @property
    def review(self) -> tuple[Finding, ...]:
        """Findings a person must acknowledge (by `finding_id`) before approving."""
        return tuple(f for f in self.findings if f.severity == "REVIEW")

    def as_json(self) -> str:
        return json.dumps([f.__dict__ for f in self.findings], ensure_ascii=False, sort_keys=True)


def lint_template(template: Template, pack: LintPack | None = None) -> LintReport:
    """Run every lint rule of the template's jurisdiction that applies to its product type.

    Raises:
        NotImplementedError: there is no lint pack for the template's jurisdiction (fail closed).
    """
    pack = pack or shipped_lint_pack(template.jurisdiction)
    copy = _Copy.of(template)
    findings: list[Finding] = []
    for rule in pack.rules:
        if not rule.applies(template):
            continue
        for number, message in enumerate(_CHECKS[rule.check](template, copy, rule.params), start=1):
            findings.append(Finding(rule.rule_id, rule.severity, rule.title, message, f"{rule.rule_id}.{number}"))
    return LintReport(template.key, pack.lint_version, tuple(findings))


@lru_cache(maxsize=8)
def shipped_lint_pack(jurisdiction: str) -> LintPack:
    """The lint pack shipped for a jurisdiction (e.g. "CN").

    Raises:
        NotImplementedError: no lint pack exists for that jurisdiction (fail closed).
    """
    path = shipped_pack_path("lint", jurisdiction)
    if not path.is_file():
        raise NotImplementedError(f"no template lint pack for jurisdiction {jurisdiction!r}")
    return load_lint_pack(path)


def load_lint_pack(path: str | Path) -> LintPack:
    """Load and validate a lint-pack file (the rule-pack format); errors name the file, line and key."""
    pack = read_pack_file(path, _CHECKS, "lint check")
    rules = tuple(LintRule(rule.id, rule.check, rule.severity, rule.title, rule.applies_to, rule.params)
                  for rule in pack.rules)
    return LintPack(pack.jurisdiction, pack.version, rules, pack.sha256)


def normalise(text: str) -> str:
    """Fold width and case, strip HTML tags and entities, collapse whitespace."""
    text = re.sub(r"<[^>]*>", " ", text)
    text = unicodedata.normalize("NFKC", html.unescape(text)).casefold()
    return re.sub(r"\s+", " ", text).strip()


@dataclass(frozen=True)
class _Copy:
    """Each text field normalised twice: with single spaces, and with no whitespace at all (for CJK terms)."""

    spaced: dict[str, str]
    compact: dict[str, str]

    @classmethod
    def of(cls, template: Template) -> _Copy:
        spaced = {name: normalise(PLACEHOLDER_PATTERN.sub(" ", getattr(template, name))) for name in TEXT_FIELDS}
        return cls(spaced, {name: re.sub(r"\s", "", text) for name, text in spaced.items()})

    def contains(self, term: str, fields: tuple[str, ...] = TEXT_FIELDS) -> str | None:
        """The first field containing `term`, or None."""
        needle = normalise(term)
        ascii_term = needle.isascii()
        for name in fields:
            if ascii_term:
                # Word boundaries keep "APR" from matching inside "APRIL"; latin terms keep their spaces.
                if re.search(rf"(?<![a-z0-9]){re.escape(needle)}(?![a-z0-9])", self.spaced[name]):
                    return name
            elif re.sub(r"\s", "", needle) in self.compact[name]:
                return name
        return None

    def matches(self, pattern: str, fields: tuple[str, ...] = TEXT_FIELDS) -> str | None:
        for name in fields:
            if re.search(pattern, self.spaced[name]) or re.search(pattern, self.compact[name]):
                return name
        return None


def _deny_terms(template: Template, copy: _Copy, params: dict[str, Any]) -> list[str]:
    hits = []
    for term in params.get("terms", []):
        where = copy.contains(str(term))
        if where:
            hits.append(f"prohibited term {term!r} in {where}")
    return hits


def _bodies(template: Template, fields: tuple[str, ...] = ("text_body", "html_body")) -> tuple[str, ...]:
    """The body fields a template of this channel has (SMS and push have no HTML body)."""
    return tuple(name for name in fields if template.channel == "email" or name != "html_body")


def _require_phrases(template: Template, copy: _Copy, params: dict[str, Any]) -> list[str]:
    fields = _bodies(template, tuple(params.get("fields", ("text_body", "html_body"))))
    problems = []
    for phrase in params.get("phrases", []):
        missing = [name for name in fields if copy.contains(str(phrase), (name,)) is None]
        if missing:
            problems.append(f"required phrase {phrase!r} missing from {', '.join(missing)}")
    any_of = [str(p) for p in params.get("any_of", [])]
    if any_of and not any(copy.contains(p, fields) for p in any_of):
        problems.append(f"none of {any_of} appears in {', '.join(fields)}")
    return problems


def _price_terms_require(template: Template, copy: _Copy, params: dict[str, Any]) -> list[str]:
    triggers = [str(t) for t in params.get("triggers", []) if copy.contains(str(t))]
    triggers += [p for p in params.get("trigger_patterns", []) if copy.matches(p)]
    if not triggers:
        return []
    problems = []
    for phrase in params.get("require", []):
        missing = [name for name in _bodies(template) if copy.contains(str(phrase), (name,)) is None]
        if missing:
            problems.append(f"price term {triggers[0]!r} appears but {phrase!r} is missing from {', '.join(missing)}")
    any_of = [str(p) for p in params.get("require_any", [])]
    if any_of and not all(any(copy.contains(p, (name,)) for p in any_of) for name in _bodies(template)):
        problems.append(f"price term {triggers[0]!r} appears but none of {any_of} is stated in every body")
    return problems


def _subject_marker(template: Template, copy: _Copy, params: dict[str, Any]) -> list[str]:
    subject = unicodedata.normalize("NFKC", template.subject)
    if re.match(params.get("pattern", r"^\s*[\[【(（]?\s*(广告|AD)\b"), subject):
        return []
    return [f"subject {template.subject!r} does not start with the advertising marker (广告/AD)"]


def _sender_identity(template: Template, copy: _Copy, params: dict[str, Any]) -> list[str]:
    problems = []
    for body in _bodies(template):
        if copy.contains(template.sender_legal_name, (body,)) is None:
            problems.append(f"sender legal name {template.sender_legal_name!r} missing from {body}")
        if copy.contains(template.sender_contact, (body,)) is None:
            problems.append(f"sender contact missing from {body}")
        if template.channel == "email" and "unsubscribe_url" not in placeholders_used(getattr(template, body)):
            # SMS and push state their refusal method in the text (e.g. CN-SMS-02 回复TD退订).
            problems.append(f"no {{{{unsubscribe_url}}}} link in {body}")
    return problems


def _personalised_opt_out(template: Template, copy: _Copy, params: dict[str, Any]) -> list[str]:
    if not template.is_personalized:
        return []
    phrases = [str(p) for p in params.get("phrases", [])]
    if any(copy.contains(p, _bodies(template)) for p in phrases):
        return []
    return [f"personalised template offers no way to refuse personalised marketing (one of {phrases})"]


def _text_pattern(template: Template, copy: _Copy, params: dict[str, Any]) -> list[str]:
    """The raw text body matches `pattern` (e.g. an SMS starting with its 【签名】 signature)."""
    text = unicodedata.normalize("NFKC", getattr(template, params.get("field", "text_body")))
    if re.search(params["pattern"], text):
        return []
    return [str(params.get("message", f"{params.get('field', 'text_body')} does not match {params['pattern']!r}"))]


def _placeholders_fillable(template: Template, copy: _Copy, params: dict[str, Any]) -> list[str]:
    fillable = set(params.get("fillable", []))
    used = set().union(*(placeholders_used(getattr(template, name)) for name in TEXT_FIELDS))
    return [f"placeholder {{{{{name}}}}} cannot be filled for every recipient" for name in sorted(used - fillable)]


def _safe_placeholders(template: Template, copy: _Copy, params: dict[str, Any]) -> list[str]:
    """Customer-facing text may only use the customer-safe fields the pack lists (never internal labels such
    as persona names or ids, segment names or scores); declared placeholders are checked too."""
    allowed = set(params.get("allowed", []))
    used = set(template.placeholders).union(*(placeholders_used(getattr(template, name)) for name in TEXT_FIELDS))
    return [f"placeholder {{{{{name}}}}} is not a customer-safe field (allowed: {sorted(allowed)})"
            for name in sorted(used - allowed)]


_CHECKS: dict[str, Callable[[Template, _Copy, dict[str, Any]], list[str]]] = {
    "safe_placeholders": _safe_placeholders,
    "deny_terms": _deny_terms,
    "require_phrases": _require_phrases,
    "price_terms_require": _price_terms_require,
    "subject_marker": _subject_marker,
    "sender_identity": _sender_identity,
    "personalised_opt_out": _personalised_opt_out,
    "placeholders_fillable": _placeholders_fillable,
    "text_pattern": _text_pattern,
}

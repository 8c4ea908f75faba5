"""The pack file format shared by recipient rule packs and template lint packs: per-jurisdiction rule lists.

This module knows the format only. Which checks exist, and what parameters each takes, belongs to the
code that runs them (`campaigns.eligibility.recipient_rules`, `campaigns.content.copy_lint`); they pass
their check names in, so the format never imports a check registry.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainValidator, ValidationInfo, field_validator

from campaigns.campaign_errors import RulePackFileError
from campaigns.definitions.vocabulary import PRODUCT_TYPES
from file_schemas.yaml_source import (
    FileModel,
    KeyLines,
    Text,
    read_mapping,
    validate_file,
)

SEVERITIES: frozenset[str] = frozenset({"BLOCK", "FIX", "REVIEW", "WARN"})


@dataclass(frozen=True)
class Rule:
    """One recipient rule: which check to run, with which parameters, for which product types."""

    rule_id: str
    check: str
    severity: str
    title: str
    # None means every product type.
    applies_to: frozenset[str] | None
    params: dict[str, Any] = field(default_factory=dict, hash=False)

    def applies(self, product_type: str, channel: str | None = None) -> bool:
        """Whether the rule is evaluated for a template of this product type (and channel).

        A rule may name `params.channels` (e.g. `[sms]`); without it the rule covers every channel.
        """
        channels = self.params.get("channels")
        if channel is not None and channels and channel not in channels:
            return False
        return self.applies_to is None or product_type in self.applies_to


@dataclass(frozen=True)
class RulePack:
    """An ordered list of rules for one jurisdiction; order is evaluation and funnel order."""

    jurisdiction: str
    version: str
    rules: tuple[Rule, ...]
    sha256: str

    @property
    def rule_version(self) -> str:
        """Recorded with every decision: the pack version plus a hash that catches unversioned edits."""
        return f"{self.jurisdiction}-{self.version}+{self.sha256[:12]}"

    def applicable(self, product_type: str, channel: str | None = None) -> tuple[Rule, ...]:
        """The rules evaluated for a template of this product type (and channel), in order."""
        return tuple(rule for rule in self.rules if rule.applies(product_type, channel))


def _check_name(value: Any, info: ValidationInfo) -> str:
    if value is None or value == "":
        raise ValueError("is required")
    if not isinstance(value, str):
        raise ValueError(f"must be a string, got {value!r}")
    known, kind = (info.context or {})["known_checks"], (info.context or {})["check_kind"]
    if value not in known:
        raise ValueError(f"unknown {kind} {value!r}; known: {sorted(known)}")
    return value


def _severity(value: Any) -> str:
    if value is None or value == "":
        raise ValueError("is required")
    if not isinstance(value, str):
        raise ValueError(f"must be a string, got {value!r}")
    if value not in SEVERITIES:
        raise ValueError(f"must be one of {sorted(SEVERITIES)}")
    return value


def _applies_to(value: Any) -> frozenset[str] | None:
    if value == "all":
        return None
    if not isinstance(value, list) or not set(value) <= PRODUCT_TYPES:
        raise ValueError(f"must be 'all' or a list of {sorted(PRODUCT_TYPES)}")
    return frozenset(value)


def _params(value: Any) -> dict[str, Any]:
    value = value or {}
    if not isinstance(value, dict):
        raise ValueError("must be a mapping")
    return value


def _version(value: Any) -> str:
    if value is None or value == "":
        raise ValueError("is required")
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(f"must be a string or an integer or a number, got {value!r}")
    return str(value)


def _rules(value: Any) -> Any:
    if value is None or value == "":
        raise ValueError("is required")
    if not isinstance(value, list):
        raise ValueError(f"must be a list, got {value!r}")
    return value


class RuleEntry(FileModel):
    """One entry of `rules`; fields in the order their problems are reported."""

    check: Annotated[str, PlainValidator(_check_name)]
    severity: Annotated[str, PlainValidator(_severity)]
    applies_to: Annotated[frozenset[str] | None, PlainValidator(_applies_to)] = None
    params: Annotated[dict[str, Any], PlainValidator(_params)] = {}
    id: Text
    title: Annotated[Any, PlainValidator(lambda value: value)] = ""


class PackFileModel(FileModel):
    """The pack file format: `jurisdiction`, `version` and the ordered `rules`."""

    rules: Annotated[tuple[RuleEntry, ...], BeforeValidator(_rules)]
    jurisdiction: Text
    version: Annotated[str, PlainValidator(_version)]

    @field_validator("rules")
    @classmethod
    def _unique_ids(cls, rules: tuple[RuleEntry, ...]) -> tuple[RuleEntry, ...]:
        ids = [rule.id for rule in rules]
        if len(set(ids)) != len(ids):
            raise ValueError("rule ids must be unique")
        return rules


@dataclass(frozen=True)
class PackFile:
    """A validated pack file: its rules as entries, the line of every key, and the hash of its content."""

    path: Path
    jurisdiction: str
    version: str
    rules: tuple[RuleEntry, ...]
    sha256: str
    lines: KeyLines

    def error(self, index: int, *key: str, problem: str) -> RulePackFileError:
        """The file's error for `rules[index].<key>` (for checks of parameters the format cannot know)."""
        location = ("rules", index, *key)
        dotted = f"rules[{index}]" + "".join(f".{part}" for part in key)
        return RulePackFileError(self.path, dotted, problem, self.lines.line_of(location))


def read_pack_file(path: str | Path, known_checks: Collection[str], check_kind: str) -> PackFile:
    """Validate a pack file (recipient rules or template lint rules share one format).

    Args:
        path: The YAML file.
        known_checks: The check names the caller can run; any other is an error naming them.
        check_kind: What a check is called in errors ("check", "lint check").

    Raises:
        RulePackFileError: naming the file, the line and the offending key.
    """
    data, lines = read_mapping(path, RulePackFileError)
    model: PackFileModel = validate_file(PackFileModel, data, path, RulePackFileError, lines, context={
        "known_checks": frozenset(known_checks), "check_kind": check_kind})
    canonical = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return PackFile(Path(path), model.jurisdiction, model.version, model.rules,
                    hashlib.sha256(canonical.encode("utf-8")).hexdigest(), lines)

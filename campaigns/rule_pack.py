"""Rule packs: per-jurisdiction lists of recipient rules, as data files."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from campaigns._yaml_file import read_mapping, reject_unknown_keys, required
from campaigns.errors import RulePackFileError
from campaigns.products import PRODUCT_TYPES

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


def load_rule_pack(path: str | Path) -> RulePack:
    """Load and validate a rule-pack file.

    Raises:
        RulePackFileError: naming the file and the offending key.
    """
    from campaigns.checks import (  # the check registry imports rule types; avoid a cycle
        CHECKS,
        param_problem,
    )

    pack = RulePack(*parse_pack(path, CHECKS, "check", Rule))
    for index, rule in enumerate(pack.rules):
        problem = param_problem(rule)
        if problem:
            key, message = problem
            raise RulePackFileError(path, f"rules[{index}].params.{key}", f"({rule.rule_id}) {message}")
    return pack


def parse_pack(path: str | Path, known_checks: Collection[str], check_kind: str, make_rule: Callable):
    """Validate a pack file (recipient rules or template lint rules share one format).

    Returns:
        (jurisdiction, version, rules built with ``make_rule``, sha256 of the canonical content).

    Raises:
        RulePackFileError: naming the file and the offending key.
    """
    err = RulePackFileError
    data = read_mapping(path, err)
    reject_unknown_keys(data, {"jurisdiction", "version", "rules"}, path, err)
    rules = []
    for index, raw in enumerate(required(data, "rules", list, path, err)):
        prefix = f"rules[{index}]."
        if not isinstance(raw, dict):
            raise err(path, f"rules[{index}]", "must be a mapping")
        reject_unknown_keys(raw, {"id", "check", "severity", "title", "applies_to", "params"}, path, err, prefix)
        check = required(raw, "check", str, path, err, prefix)
        if check not in known_checks:
            raise err(path, prefix + "check", f"unknown {check_kind} {check!r}; known: {sorted(known_checks)}")
        severity = required(raw, "severity", str, path, err, prefix)
        if severity not in SEVERITIES:
            raise err(path, prefix + "severity", f"must be one of {sorted(SEVERITIES)}")
        applies_to = raw.get("applies_to", "all")
        if applies_to != "all" and (not isinstance(applies_to, list) or not set(applies_to) <= PRODUCT_TYPES):
            raise err(path, prefix + "applies_to", f"must be 'all' or a list of {sorted(PRODUCT_TYPES)}")
        params = raw.get("params") or {}
        if not isinstance(params, dict):
            raise err(path, prefix + "params", "must be a mapping")
        rules.append(make_rule(
            rule_id=required(raw, "id", str, path, err, prefix),
            check=check,
            severity=severity,
            title=raw.get("title", ""),
            applies_to=None if applies_to == "all" else frozenset(applies_to),
            params=params,
        ))
    ids = [rule.rule_id for rule in rules]
    if len(set(ids)) != len(ids):
        raise err(path, "rules", "rule ids must be unique")
    canonical = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return (
        required(data, "jurisdiction", str, path, err),
        str(required(data, "version", (str, int, float), path, err)),
        tuple(rules),
        hashlib.sha256(canonical.encode("utf-8")).hexdigest(),
    )

"""Recipient rule packs: a pack file read with the recipient check registry, its parameters checked at load."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from campaigns.definitions.pack_file import Rule, RulePack, read_pack_file
from campaigns.definitions.shipped_library import shipped_pack_path
from campaigns.eligibility.recipient_rules import CHECKS, param_problem


def load_rule_pack(path: str | Path) -> RulePack:
    """Load and validate a rule-pack file, including every rule's parameters.

    Raises:
        RulePackFileError: naming the file, the line and the offending key.
    """
    pack = read_pack_file(path, CHECKS, "check")
    rules = tuple(Rule(rule.id, rule.check, rule.severity, rule.title, rule.applies_to, rule.params)
                  for rule in pack.rules)
    for index, rule in enumerate(rules):
        problem = param_problem(rule)
        if problem:
            key, message = problem
            raise pack.error(index, "params", key, problem=f"({rule.rule_id}) {message}")
    return RulePack(pack.jurisdiction, pack.version, rules, pack.sha256)


@lru_cache(maxsize=8)
def shipped_rule_pack(jurisdiction: str) -> RulePack:
    """The rule pack shipped for a jurisdiction (e.g. "CN").

    Raises:
        NotImplementedError: no pack exists yet for that jurisdiction.
    """
    path = shipped_pack_path("rules", jurisdiction)
    if not path.is_file():
        raise NotImplementedError(f"no rule pack for jurisdiction {jurisdiction!r} yet")
    return load_rule_pack(path)

"""Targets for the executive KPIs, read from a YAML file the business owns.

```yaml
# Targets over the latest 30 days (user counts are daily averages, money is summed).
targets:
  new_users: 9000
  revenue: 2500000
  cac: 180          # at most: lower is better
  ltv_to_cac: 3
```
"""

from __future__ import annotations

from pathlib import Path

import yaml

# Every KPI tile that a target may be set for.
TARGET_KEYS = ("new_users", "active_users", "transacting_users", "txn_amount", "revenue", "spend", "cac",
               "avg_ltv", "ltv_to_cac")


class TargetsError(ValueError):
    """The targets file is malformed; the message names the file, line and key."""


def load_targets(path: Path) -> dict[str, float]:
    """Targets by KPI key from `path`; raises TargetsError naming file, line and key on any problem."""
    path = Path(path)
    try:
        root = yaml.compose(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise TargetsError(f"{path}: not valid YAML: {error}") from error
    if root is None:
        return {}
    if not isinstance(root, yaml.MappingNode):
        raise TargetsError(f"{path}:{root.start_mark.line + 1}: expected a mapping with a 'targets' key")
    mapping = None
    for key_node, value_node in root.value:
        if key_node.value != "targets":
            raise TargetsError(f"{path}:{key_node.start_mark.line + 1}: unknown key {key_node.value!r}; expected 'targets'")
        mapping = value_node
    if mapping is None:
        return {}
    if not isinstance(mapping, yaml.MappingNode):
        raise TargetsError(f"{path}:{mapping.start_mark.line + 1}: 'targets' must map KPI names to numbers")
    targets: dict[str, float] = {}
    for key_node, value_node in mapping.value:
        line = key_node.start_mark.line + 1
        key = key_node.value
        if key not in TARGET_KEYS:
            raise TargetsError(f"{path}:{line}: unknown KPI {key!r}; known: {', '.join(TARGET_KEYS)}")
        try:
            value = float(value_node.value)
        except (TypeError, ValueError):
            raise TargetsError(f"{path}:{line}: target for {key!r} must be a number, got {value_node.value!r}") from None
        if not value > 0:
            raise TargetsError(f"{path}:{line}: target for {key!r} must be positive, got {value_node.value}")
        targets[key] = value
    return targets


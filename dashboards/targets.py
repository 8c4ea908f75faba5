"""Monthly targets for the headline metrics, read from a YAML file the business owns.

```yaml
# Monthly targets; keys are headline metric ids of metrics/registry.yaml.
targets:
  new_users: 9000       # a floor (the registry: target at_least); prorated to the month to date
  revenue: 2500000
  cac: 180              # a ceiling (target at_most): lower is better
  ltv_to_cac: 3
```

Whether a target is a floor or a ceiling, and whether it is prorated to the part of the month the period covers,
is the metric's registry entry (`target`, `prorate`), never the file's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, model_validator

from file_schemas import FileModel, FileSchemaError, fail, read_mapping, validate_file
from metrics import default_registry

# Every headline metric that takes a target (those with `target:` in the registry).
TARGET_KEYS = default_registry().target_ids


class TargetsError(FileSchemaError):
    """The targets file is malformed; the message names the file, line and key."""

    def describe(self) -> str:
        return f"{self.path}{f':{self.line}' if self.line is not None else ''}: {self.problem}"


class TargetsFile(FileModel):
    """The targets file: `targets` maps headline metric ids (`TARGET_KEYS`) to positive numbers."""

    targets: dict[str, float] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _known_kpis_and_positive_numbers(cls, data: Any) -> Any:
        for key in data:
            if key != "targets":
                fail(f"unknown key {key!r}; expected 'targets'", key)
        targets = data.get("targets")
        if targets is None:
            return {"targets": {}}
        if not isinstance(targets, dict):
            fail("'targets' must map KPI names to numbers", "targets")
        for key, value in targets.items():
            if key not in TARGET_KEYS:
                fail(f"unknown KPI {key!r}; known: {', '.join(TARGET_KEYS)}", "targets", key)
            if isinstance(value, bool) or not isinstance(value, int | float):
                fail(f"target for {key!r} must be a number, got {value!r}", "targets", key)
            if not value > 0:
                fail(f"target for {key!r} must be positive, got {value}", "targets", key)
        return data


def load_targets(path: Path) -> dict[str, float]:
    """Targets by KPI key from `path`; raises TargetsError naming file, line and key on any problem."""
    data, lines = read_mapping(path, TargetsError, allow_empty=True)
    return dict(validate_file(TargetsFile, data, path, TargetsError, lines).targets)

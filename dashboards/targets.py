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
from typing import Any

from pydantic import Field, model_validator

from file_schemas import FileModel, FileSchemaError, fail, read_mapping, validate_file

# Every KPI tile that a target may be set for.
TARGET_KEYS = ("new_users", "active_users", "transacting_users", "txn_amount", "revenue", "spend", "cac",
               "avg_ltv", "ltv_to_cac")


class TargetsError(FileSchemaError):
    """The targets file is malformed; the message names the file, line and key."""

    def describe(self) -> str:
        return f"{self.path}{f':{self.line}' if self.line is not None else ''}: {self.problem}"


class TargetsFile(FileModel):
    """The targets file: `targets` maps KPI keys (`TARGET_KEYS`) to positive numbers."""

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

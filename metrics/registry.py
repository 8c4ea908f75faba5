"""The metric registry: one definition per metric, read from `metrics/registry.yaml` (documented in its header).

Marts (`marts.metric_values`) compute the headline metrics from it, and dashboard pages take every figure's
name, unit, window and direction from it, so a metric reads the same wherever it appears.
"""

from __future__ import annotations

import re
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from file_schemas import FileModel, FileSchemaError, fail, read_mapping, validate_file

REGISTRY_FILE = "registry.yaml"
LANGUAGES = ("en", "zh")
COLUMN_PATTERN = re.compile(r"^[a-z_]+\.[a-z_0-9]+\.[a-z_0-9]+$")
IDENTIFIER_PATTERN = re.compile(r"^[a-z_][a-z_0-9]*$")
FORMULA_PATTERN = re.compile(r"^\s*([a-z_0-9]+)\s*/\s*([a-z_0-9]+)\s*$")
Unit = Literal["users", "customers", "money", "share", "ratio", "months", "transactions"]
Aggregate = Literal["sum", "count_distinct", "mean_of_new_customers", "cohort_cell"]
WINDOW_FIELDS = ("start", "end", "previous_start", "previous_end", "horizon")


class RegistryError(FileSchemaError):
    """The metric registry is malformed; the message names the file, line and key."""


class Text(FileModel):
    """A text in both languages."""

    en: str
    zh: str

    def __getitem__(self, language: str) -> str:
        return getattr(self, language)


class Metric(FileModel):
    """One metric (see the registry file's header for every key)."""

    id: str
    name: Text
    definition: Text
    reads: str | None = None
    formula: str | None = None
    aggregate: Aggregate | None = None
    date: str = "date"
    per: str | None = None
    period: int | None = None
    grain: str
    unit: Unit
    window: str
    better: Literal["higher", "lower", "neither"]
    target: Literal["at_least", "at_most"] | None = None
    prorate: bool = False
    cumulative: bool = False

    @model_validator(mode="after")
    def _one_source(self) -> Metric:
        if (self.reads is None) == (self.formula is None):
            fail("give exactly one of 'reads' (a mart column) and 'formula' (a ratio of metrics)", "reads")
        if self.reads is not None and not COLUMN_PATTERN.match(self.reads):
            fail(f"'reads' must be schema.table.column, got {self.reads!r}", "reads")
        if self.formula is not None and not FORMULA_PATTERN.match(self.formula):
            fail(f"'formula' must be 'metric / metric', got {self.formula!r}", "formula")
        for key in ("date", "per"):
            value = getattr(self, key)
            if value is not None and not IDENTIFIER_PATTERN.match(value):
                fail(f"{key!r} must be a column name, got {value!r}", key)
        if self.per is not None and self.aggregate != "sum":
            fail("'per' goes with aggregate: sum", "per")
        if (self.period is None) != (self.aggregate != "cohort_cell"):
            fail("'period' goes with aggregate: cohort_cell, which needs it", "period")
        if self.prorate and self.target is None:
            fail("'prorate' scales a target, but the metric has none", "prorate")
        return self

    @property
    def table(self) -> str | None:
        return None if self.reads is None else self.reads.rsplit(".", 1)[0]

    @property
    def column(self) -> str | None:
        return None if self.reads is None else self.reads.rsplit(".", 1)[1]

    @property
    def ratio_of(self) -> tuple[str, str] | None:
        """(numerator id, denominator id) of a formula metric."""
        match = FORMULA_PATTERN.match(self.formula or "")
        return (match.group(1), match.group(2)) if match else None

    @property
    def is_headline(self) -> bool:
        """Computed per period in marts.metric_values (an aggregate, or a ratio of headline metrics)."""
        return self.aggregate is not None or self.formula is not None


class Registry(FileModel):
    """The whole registry: window texts and metrics, in file order."""

    windows: dict[str, Text]
    metrics: tuple[Metric, ...] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _unique_ids(cls, data: Any) -> Any:
        seen: set[str] = set()
        for index, entry in enumerate(data.get("metrics") or []):
            metric_id = entry.get("id") if isinstance(entry, dict) else None
            if metric_id in seen:
                fail(f"metric {metric_id!r} is defined twice", "metrics", index, "id")
            seen.add(metric_id)
        return data

    @model_validator(mode="after")
    def _references(self) -> Registry:
        by_id = {metric.id: metric for metric in self.metrics}
        for index, metric in enumerate(self.metrics):
            if metric.window not in self.windows:
                fail(f"unknown window {metric.window!r}; known: {', '.join(self.windows)}", "metrics", index, "window")
            for part in metric.ratio_of or ():
                if part not in by_id or not by_id[part].is_headline:
                    fail(f"formula of {metric.id!r} names {part!r}, which is not a headline metric", "metrics", index,
                         "formula")
        for name, text in self.windows.items():
            for language in LANGUAGES:
                unknown = set(re.findall(r"{(\w+)}", text[language])) - set(WINDOW_FIELDS)
                if unknown:
                    fail(f"window {name!r} uses unknown field(s) {sorted(unknown)}", "windows", name, language)
        return self

    def __getitem__(self, metric_id: str) -> Metric:
        for metric in self.metrics:
            if metric.id == metric_id:
                return metric
        raise KeyError(f"no metric {metric_id!r} in the registry")

    def __contains__(self, metric_id: object) -> bool:
        return any(metric.id == metric_id for metric in self.metrics)

    @property
    def headline(self) -> tuple[Metric, ...]:
        return tuple(metric for metric in self.metrics if metric.is_headline)

    @property
    def target_ids(self) -> tuple[str, ...]:
        return tuple(metric.id for metric in self.metrics if metric.target is not None)

    def window_text(self, window: str, language: str, **fields: object) -> str:
        """The window of a figure in words; fields it does not use are ignored, missing ones show as '?'."""
        values = {name: fields.get(name, "?") for name in WINDOW_FIELDS}
        return self.windows[window][language].format(**values)


def load_registry(path: str | Path | None = None) -> Registry:
    """The registry at `path` (default: the one shipped with the package); RegistryError names file, line and key."""
    if path is None:
        return default_registry()
    data, lines = read_mapping(path, RegistryError)
    return validate_file(Registry, data, path, RegistryError, lines)


@cache
def default_registry() -> Registry:
    """The shipped registry, read once per process."""
    resource = files("metrics") / REGISTRY_FILE
    data, lines = read_mapping(str(resource), RegistryError)
    return validate_file(Registry, data, str(resource), RegistryError, lines)

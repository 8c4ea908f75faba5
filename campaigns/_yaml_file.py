"""Strict reading of the small YAML files the library ships (templates, campaigns, rule packs)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from campaigns.errors import ConfigFileError


def read_mapping(path: str | Path, error: type[ConfigFileError]) -> dict[str, Any]:
    """Read a YAML file whose top level must be a mapping."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise error(path, None, f"cannot be read ({exc.strerror})") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise error(path, None, f"is not valid YAML ({exc})") from exc
    if not isinstance(data, dict):
        raise error(path, None, "must contain a mapping of keys at the top level")
    return data


def reject_unknown_keys(
    data: dict[str, Any], allowed: set[str], path: str | Path, error: type[ConfigFileError], prefix: str = ""
) -> None:
    """Fail on keys the schema does not know, so a typo never silently drops a setting."""
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise error(path, prefix + str(unknown[0]), f"unknown key; allowed keys are {sorted(allowed)}")


def required(
    data: dict[str, Any], key: str, kind: type | tuple[type, ...], path: str | Path,
    error: type[ConfigFileError], prefix: str = "",
) -> Any:
    """Return `data[key]`, failing unless it is present, non-empty and of the given type."""
    if key not in data or data[key] is None or data[key] == "":
        raise error(path, prefix + key, "is required")
    value = data[key]
    # bool is an int subclass; a YAML `yes` must not pass as a version number.
    if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        raise error(path, prefix + key, f"must be {_kind_name(kind)}, got {value!r}")
    if not isinstance(value, kind):
        raise error(path, prefix + key, f"must be {_kind_name(kind)}, got {value!r}")
    return value


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join({str: "a string", int: "an integer", float: "a number", bool: "true or false",
                        list: "a list", dict: "a mapping"}.get(k, k.__name__) for k in kinds)

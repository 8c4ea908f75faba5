"""The template, campaign and rule-pack files shipped inside the package."""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files
from pathlib import Path

from campaigns.rule_pack import RulePack, load_rule_pack


def library_dir() -> Path:
    """The folder holding `templates/`, `campaigns/` and `rules/`."""
    return Path(str(files("campaigns") / "library"))


def template_path(template_id: str, version: int, directory: str | Path | None = None) -> Path:
    """Where template `template_id` version `version` lives: `<dir>/<template_id>_v<version>.yaml`."""
    base = Path(directory) if directory is not None else library_dir() / "templates"
    return base / f"{template_id}_v{version}.yaml"


def campaign_paths(directory: str | Path | None = None) -> list[Path]:
    """All campaign files in a folder (default: the shipped examples), sorted by name."""
    base = Path(directory) if directory is not None else library_dir() / "campaigns"
    return sorted(base.glob("*.yaml"))


@lru_cache(maxsize=8)
def shipped_rule_pack(jurisdiction: str) -> RulePack:
    """The rule pack shipped for a jurisdiction (e.g. "CN").

    Raises:
        NotImplementedError: no pack exists yet for that jurisdiction.
    """
    path = library_dir() / "rules" / f"{jurisdiction.lower()}.yaml"
    if not path.is_file():
        raise NotImplementedError(f"no rule pack for jurisdiction {jurisdiction!r} yet")
    return load_rule_pack(path)

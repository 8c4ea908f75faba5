"""Where the template, campaign, rule-pack and lint-pack files shipped inside the package live."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def library_dir() -> Path:
    """The folder holding `templates/`, `campaigns/`, `rules/` and `lint/`."""
    return Path(str(files("campaigns") / "library"))


def template_path(template_id: str, version: int, directory: str | Path | None = None) -> Path:
    """Where template `template_id` version `version` lives: `<dir>/<template_id>_v<version>.yaml`."""
    base = Path(directory) if directory is not None else library_dir() / "templates"
    return base / f"{template_id}_v{version}.yaml"


def campaign_paths(directory: str | Path | None = None) -> list[Path]:
    """All campaign files in a folder (default: the shipped examples), sorted by name."""
    base = Path(directory) if directory is not None else library_dir() / "campaigns"
    return sorted(base.glob("*.yaml"))


def shipped_pack_path(kind: str, jurisdiction: str) -> Path:
    """The shipped pack file of a jurisdiction: `kind` is `rules` (recipient rules) or `lint` (copy lint)."""
    return library_dir() / kind / f"{jurisdiction.lower()}.yaml"

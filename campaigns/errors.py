"""Errors raised by the campaigns library; each names what is wrong and where."""

from __future__ import annotations

from pathlib import Path


class ConfigFileError(ValueError):
    """A template, campaign or rule-pack file is malformed.

    Attributes:
        path: The file that failed to load.
        key: The offending key (dotted for nested keys), or None for file-level problems.
    """

    def __init__(self, path: str | Path, key: str | None, problem: str) -> None:
        self.path = str(path)
        self.key = key
        where = f"{Path(path).name}: key '{key}'" if key else Path(path).name
        super().__init__(f"{where}: {problem} (file {self.path})")


class TemplateFileError(ConfigFileError):
    """A template file is malformed."""


class CampaignFileError(ConfigFileError):
    """A campaign file is malformed."""


class RulePackFileError(ConfigFileError):
    """A rule-pack file is malformed."""


class MissingPlaceholderError(KeyError):
    """A placeholder in the template has no (non-empty) value to fill it."""

    def __init__(self, placeholder: str, template_id: str, detail: str = "") -> None:
        self.placeholder = placeholder
        self.template_id = template_id
        message = f"template '{template_id}': no value for placeholder '{{{{{placeholder}}}}}'"
        super().__init__(f"{message}{': ' + detail if detail else ''}")

    def __str__(self) -> str:
        # KeyError quotes its argument; a plain message reads better in logs.
        return str(self.args[0])


class CampaignMismatchError(ValueError):
    """A campaign and the template or rule pack given with it do not belong together."""

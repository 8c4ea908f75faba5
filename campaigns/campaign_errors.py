"""The typed errors of the campaigns domain; each names what is wrong and where.

Every error the service raises on purpose is a `CampaignError`, so a caller can map the whole family
(the CLI to exit codes, the console to messages) without catching unrelated failures.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from file_schemas import FileSchemaError


class CampaignError(Exception):
    """Base of every error the campaigns domain raises on purpose."""


class ConfigFileError(CampaignError, FileSchemaError):
    """A template, campaign, rule-pack, lint-pack or roles file is malformed (file, line, key, problem)."""


class TemplateFileError(ConfigFileError):
    """A template file is malformed."""


class CampaignFileError(ConfigFileError):
    """A campaign file is malformed."""


class RulePackFileError(ConfigFileError):
    """A rule-pack or lint-pack file is malformed."""


class RolesFileError(ConfigFileError):
    """A roles file is malformed."""


class MissingPlaceholderError(CampaignError, KeyError):
    """A placeholder in the template has no (non-empty) value to fill it."""

    def __init__(self, placeholder: str, template_id: str, detail: str = "") -> None:
        self.placeholder = placeholder
        self.template_id = template_id
        message = f"template '{template_id}': no value for placeholder '{{{{{placeholder}}}}}'"
        super().__init__(f"{message}{': ' + detail if detail else ''}")

    def __str__(self) -> str:
        # KeyError quotes its argument; a plain message reads better in logs.
        return str(self.args[0])


class CampaignMismatchError(CampaignError, ValueError):
    """A campaign and the template or rule pack given with it do not belong together."""


class PermissionDenied(CampaignError, PermissionError):
    """The acting user's role may not perform the action, or the user has no role at all."""


class ApprovalError(CampaignError, ValueError):
    """An approval, rejection or use of a template that the rules do not allow."""


class ScheduleError(CampaignError, ValueError):
    """A launch was asked for before the campaign's scheduled send instant.

    Attributes:
        source: The campaign file.
        send_at: The scheduled instant (tz-aware), as the file gives it.
    """

    def __init__(self, source: str | Path, send_at: datetime) -> None:
        self.source = str(source)
        self.send_at = send_at
        super().__init__(f"campaign {source} is scheduled for {send_at.isoformat()}; launch at or after that time, "
                         "or send now (quiet hours and frequency caps are then decided for now)")


class StaleScheduleError(CampaignError, ValueError):
    """A launch was asked for a `send_at` further in the past than the grace: the rules would be judged for an
    instant long gone. Re-plan with a new `send_at` (or send now).

    Attributes:
        source: The campaign file.
        send_at: The scheduled instant (tz-aware).
        grace_hours: How far in the past a `send_at` may lie.
    """

    def __init__(self, source: str | Path, send_at: datetime, grace_hours: float) -> None:
        self.source = str(source)
        self.send_at = send_at
        self.grace_hours = grace_hours
        super().__init__(f"campaign {source} is scheduled for {send_at.isoformat()}, more than {grace_hours:g} hour(s) "
                         "ago; set a new send_at and plan again, or send now (the rules are then judged for now)")


class BatchRequestError(CampaignError, ValueError):
    """An operator named batches that cannot be requeued (unknown id, wrong state, or provider evidence shows
    the batch was accepted, so a resend would be a certain duplicate)."""


class DeliverySetupError(CampaignError, ValueError):
    """A live send lacks a delivery setting (API key, unsubscribe group); nothing was decided or sent.

    Attributes:
        setting: The name of the missing delivery setting (`sendgrid_api_key`, `sendgrid_asm_group`), so a
            caller can say where to set it.
    """

    def __init__(self, setting: str, problem: str) -> None:
        self.setting = setting
        super().__init__(problem)


class StoreUnavailable(CampaignError):
    """A store cannot be used now: the operational database is unreachable or busy, or the warehouse is held
    by another process (e.g. an analytics run writing it)."""


class DeliveryHalted(CampaignError, RuntimeError):
    """A launch stopped before finishing (bad key, sender refused, rate limit exhausted, unreachable)."""


class AccountError(CampaignError, ValueError):
    """A console account request the rules do not allow (bad name, role or password, an existing or missing
    account)."""


class DraftError(CampaignError, ValueError):
    """A campaign draft that does not exist or cannot be used."""

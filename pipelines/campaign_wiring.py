"""Build the campaign service from the settings: the one place campaign configuration is assembled."""

from __future__ import annotations

from pathlib import Path

import duckdb

from campaigns.definitions.roles_file import RolesFile
from campaigns.service import CampaignService, DeliveryOptions
from pipelines.settings import Settings
from warehouse import connect


def delivery_options(settings: Settings) -> DeliveryOptions:
    """The sender, limits and folders of launches, from the settings."""
    return DeliveryOptions(
        sender_email=settings.sender_email,
        sender_name=settings.sender_name,
        asm_group=settings.sendgrid_asm_group,
        host=settings.sendgrid_host,
        batch_size=settings.sendgrid_batch_size,
        timeout_seconds=settings.sendgrid_timeout,
        unsubscribe_url=settings.unsubscribe_url,
        export_dir=settings.export_dir,
    )


class WarehouseSessions:
    """Opens the existing warehouse file for one session at a time (the file is free in between)."""

    def __init__(self, path: Path, timezone: str) -> None:
        self.path = Path(path)
        self.timezone = timezone

    def __call__(self) -> duckdb.DuckDBPyConnection:
        if not self.path.is_file():
            raise FileNotFoundError(f"warehouse {self.path} does not exist; run `fingrowth run` first")
        # A DuckDB connection is its own context manager: it closes when the session ends.
        return connect(self.path, self.timezone)


def campaign_service(settings: Settings, **collaborators) -> CampaignService:
    """The campaign service over the settings' warehouse, roles file, delivery options and keys.

    `collaborators` (e.g. `sendgrid_client_factory`, `clock`, `sleep`) go to `CampaignService` unchanged.
    """
    return CampaignService(
        warehouse=WarehouseSessions(settings.warehouse, settings.timezone),
        roles=RolesFile(settings.roles),
        delivery=delivery_options(settings),
        timezone=settings.timezone,
        sendgrid_api_key=settings.sendgrid_key(),
        webhook_public_key=settings.webhook_public_key(),
        **collaborators,
    )


def setting_hint(field: str) -> str:
    """`SENDGRID_API_KEY or FINGROWTH_SENDGRID_API_KEY`: where a setting (by field name) is read from."""
    return " or ".join(Settings.environment_variables().get(field, (field,)))

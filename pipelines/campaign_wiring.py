"""Build the campaign service from the settings: the one place campaign configuration is assembled."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import duckdb

from campaigns.definitions.roles_file import RolesFile
from campaigns.governance.accounts import AccountRoles
from campaigns.service import CampaignService, DeliveryOptions
from campaigns.store.op_database import OpStore
from pipelines.settings import Settings
from warehouse import connect

# A read-only open of the warehouse is retried briefly while another process is between its writes.
OPEN_ATTEMPTS = 5
OPEN_BACKOFF_SECONDS = 0.2


def delivery_options(settings: Settings) -> DeliveryOptions:
    """The sender, limits, folders and waits of launches and reconciliation, from the settings."""
    return DeliveryOptions(
        sender_email=settings.sender_email,
        sender_name=settings.sender_name,
        asm_group=settings.sendgrid_asm_group,
        host=settings.sendgrid_host,
        batch_size=settings.sendgrid_batch_size,
        timeout_seconds=settings.sendgrid_timeout,
        unsubscribe_url=settings.unsubscribe_url,
        export_dir=settings.export_dir,
        reconcile_wait=timedelta(minutes=settings.reconcile_wait_minutes),
        send_at_grace=timedelta(hours=settings.send_at_grace_hours),
    )


class WarehouseSessions:
    """Opens the existing warehouse file read-only for one short session at a time (the file is free in between).

    The campaign service only reads the warehouse (segments, consents, people, the contacts of one batch), so
    it never takes the write lock an analytics run needs.
    """

    def __init__(self, path: Path, timezone: str, read_only: bool = True) -> None:
        self.path = Path(path)
        self.timezone = timezone
        self.read_only = read_only

    def __call__(self) -> duckdb.DuckDBPyConnection:
        if not self.path.is_file():
            raise FileNotFoundError(f"warehouse {self.path} does not exist; run `fingrowth run` first")
        for attempt in range(OPEN_ATTEMPTS):
            try:
                # A DuckDB connection is its own context manager: it closes when the session ends.
                return connect(self.path, self.timezone, read_only=self.read_only)
            except duckdb.IOException:
                if attempt == OPEN_ATTEMPTS - 1:
                    raise
                time.sleep(OPEN_BACKOFF_SECONDS * (attempt + 1))
        raise AssertionError("unreachable")


def campaign_store(settings: Settings) -> OpStore:
    """The operational campaign store the settings name (opened lazily, at its first use)."""
    return OpStore(settings.campaign_db_url())


def campaign_service(settings: Settings, accounts_only: bool = False, **collaborators) -> CampaignService:
    """The campaign service over the settings' warehouse, campaign store, roles, delivery options and keys.

    Roles: a console account's role (a disabled account has none), else the roles file; with `accounts_only`
    (the console) only accounts count. `collaborators` (e.g. `sendgrid_client_factory`, `clock`, `sleep`,
    `store`) go to `CampaignService` unchanged.
    """
    store = collaborators.pop("store", None) or campaign_store(settings)
    return CampaignService(
        warehouse=WarehouseSessions(settings.warehouse, settings.timezone),
        store=store,
        roles=AccountRoles(store, fallback=None if accounts_only else RolesFile(settings.roles)),
        delivery=delivery_options(settings),
        timezone=settings.timezone,
        sendgrid_api_key=settings.sendgrid_key(),
        webhook_public_key=settings.webhook_public_key(),
        **collaborators,
    )


def setting_hint(field: str) -> str:
    """`SENDGRID_API_KEY or FINGROWTH_SENDGRID_API_KEY`: where a setting (by field name) is read from."""
    return " or ".join(Settings.environment_variables().get(field, (field,)))

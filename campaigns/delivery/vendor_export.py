"""SMS and push: the same decisions and outbox ledger as e-mail, but a vendor file instead of an HTTP call.

For each frozen batch (see `campaigns.delivery.outbox_ledger.freeze_plan`) one CSV file is written into
`<out_dir>/<campaign_id>/<campaign_id>-<batch_id>.csv`, one row per recipient:

    member_ref, <phone | push_token>, [title (push)], text, campaign_id, batch_id, batch_key, variant, template

The ledger moves each batch planned → sending → exported. The file is written to a temporary name and
renamed into place, so a vendor polling the folder never sees half a file, and the rename is the
commit point: a batch left `sending` by a crash is marked `exported` if its file exists (it may have
been picked up) and is written again otherwise (nothing left the machine). A person therefore lands in
at most one exported file per campaign, however often launch runs.

Phone numbers and push tokens are read from `private.user_contacts` only for the batch being written
and go nowhere but the vendor file; tables, logs and the audit trail carry pseudonymous ids only.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

import polars as pl
from sqlalchemy import select

from campaigns.content.rendering import render_frame
from campaigns.definitions.template_file import Template
from campaigns.delivery.contact_book import CONTACT_COLUMN, ContactBook
from campaigns.delivery.outbox_ledger import (
    LaunchReport,
    batch_template,
    claim,
    freeze_plan,
    plan_variant_batches,
    planned_batches,
    recover_in_flight,
    skip_members,
    still_eligible,
    summarise,
    transition,
    variant_template_map,
    with_variant,
)
from campaigns.governance.audit_trail import audit
from campaigns.store.op_database import OpStore
from campaigns.store.op_tables import outbox

EXPORT_COLUMNS = ("member_ref", "text", "campaign_id", "batch_id", "batch_key", "variant", "template")


def export_batches(
    store: OpStore,
    contact_book: ContactBook,
    *,
    campaign_id: str,
    channel: str,
    template: Template,
    eligible: pl.DataFrame,
    out_dir: str | Path,
    actor: str,
    live: bool,
    batch_size: int = 1000,
    unsubscribe_base_url: str = "https://example.com/unsubscribe",
    variant_templates: Mapping[str, Template] | None = None,
    send_instant: datetime | None = None,
) -> LaunchReport:
    """Write the vendor files for an SMS or push campaign, exactly once per person across launches.

    Args:
        store: The operational store (the ledger).
        contact_book: Reads `private.user_contacts` for the batch being written, and only for it.
        campaign_id: The campaign.
        channel: `sms` or `push`; every template must be of this channel.
        template: The approved template (the "main" arm).
        eligible: People whose decision now is `send`: `user_id` and `variant`.
        out_dir: Folder the vendor collects files from.
        actor: The acting user (audit trail).
        live: Without it nothing is frozen or written; batches are counted.
        batch_size: Rows per file.
        unsubscribe_base_url: For templates that carry an `{{unsubscribe_url}}` link.
        variant_templates: Template per A/B variant name.
        send_instant: The instant the decisions were taken for (kept in the ledger).

    Returns:
        A `LaunchReport`; `recipients_accepted` counts people in exported files.
    """
    if channel not in ("sms", "push"):
        raise ValueError(f"channel {channel!r} is not exported to a file; expected one of ['push', 'sms']")
    templates = variant_template_map(template, variant_templates)
    for name, each in templates.items():
        if each.channel != channel:
            raise ValueError(f"variant {name!r} uses template {each.key} of channel {each.channel!r}, not {channel!r}")
    started = time.perf_counter()
    report = LaunchReport(campaign_id, live)
    eligible = with_variant(eligible.with_columns(pl.col("user_id").cast(pl.String)).unique("user_id", keep="first"))
    if not live:
        report.batches = {"planned (dry run)": len(plan_variant_batches(eligible, batch_size))}
        report.recipients_planned = eligible.height
        with store.transaction() as conn:
            audit(conn, actor, "campaign.export_dry_run", campaign_id,
                  {"channel": channel, "recipients": eligible.height, "batches": report.batches["planned (dry run)"]})
        report.seconds = time.perf_counter() - started
        return report
    folder = Path(out_dir) / campaign_id
    folder.mkdir(parents=True, exist_ok=True)
    freeze_plan(store, campaign_id, templates, eligible, batch_size, actor, channel, send_instant)
    _recover_exports(store, campaign_id, folder)
    recover_in_flight(store, campaign_id, actor)  # anything else left `sending` (should not happen) is unknown
    eligible_ids = set(eligible.get_column("user_id").to_list())
    for batch_id in planned_batches(store, campaign_id):
        _export_batch(store, contact_book, campaign_id, batch_id, channel, templates, eligible_ids, folder,
                      unsubscribe_base_url)
        report.requests += 1
    summarise(store, report, delivered_states=("exported",))
    with store.transaction() as conn:
        audit(conn, actor, "campaign.export", campaign_id, {
            "channel": channel, "batches": report.batches, "recipients_exported": report.recipients_accepted,
            "folder": folder.name})
    report.seconds = time.perf_counter() - started
    return report


def batch_file(folder: Path, campaign_id: str, batch_id: str) -> Path:
    return folder / f"{campaign_id}-{batch_id}.csv"


def _recover_exports(store: OpStore, campaign_id: str, folder: Path) -> None:
    with store.transaction() as conn:
        stuck = list(conn.execute(select(outbox.c.batch_id).where(
            outbox.c.campaign_id == campaign_id, outbox.c.state == "sending")).scalars())
    for batch_id in stuck:
        if batch_file(folder, campaign_id, batch_id).exists():
            transition(store, campaign_id, batch_id, "exported", error="file found after an interrupted launch",
                       export_file=batch_file(folder, campaign_id, batch_id).name)
        else:
            transition(store, campaign_id, batch_id, "planned", error="interrupted before the file was written")


def _export_batch(store: OpStore, contact_book: ContactBook, campaign_id: str, batch_id: str, channel: str,
                  templates: Mapping[str, Template], eligible_ids: set[str], folder: Path,
                  unsubscribe_base_url: str) -> None:
    key, variant, template = batch_template(store, campaign_id, batch_id, templates)
    still = still_eligible(store, campaign_id, batch_id, eligible_ids)
    column = CONTACT_COLUMN[channel]
    contacts = contact_book.contacts(still, channel)
    skip_members(store, campaign_id, sorted(set(still) - set(contacts.get_column("user_id").to_list())), f"no_{column}")
    rows = contacts.sort("user_id")
    if rows.height == 0:
        transition(store, campaign_id, batch_id, "empty", from_states=("planned",))
        return
    separator = "&" if "?" in unsubscribe_base_url else "?"
    values = rows.with_columns(
        pl.col("user_id").alias("user_ref"),
        pl.lit(campaign_id).alias("campaign_id"),
        (pl.lit(f"{unsubscribe_base_url}{separator}c={quote(campaign_id)}&u=") + pl.col("user_id")).alias("unsubscribe_url"),
    )
    title = [pl.col("subject").alias("title")] if channel == "push" else []
    rendered = render_frame(template, values).select(
        pl.col("user_id").alias("member_ref"), pl.col(column), *title, pl.col("text_body").str.strip_chars().alias("text"),
        pl.lit(campaign_id).alias("campaign_id"), pl.lit(batch_id).alias("batch_id"), pl.lit(key).alias("batch_key"),
        pl.lit(variant).alias("variant"), pl.lit(template.key).alias("template"),
    )
    target = batch_file(folder, campaign_id, batch_id)
    if not claim(store, campaign_id, batch_id):
        return
    partial = target.with_name(f".{target.name}.partial")
    rendered.write_csv(partial)
    with open(partial, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(partial, target)  # the commit point: the vendor sees the whole file or none of it
    transition(store, campaign_id, batch_id, "exported", export_file=target.name)

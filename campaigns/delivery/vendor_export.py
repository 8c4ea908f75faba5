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
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import duckdb
import polars as pl

from campaigns.content.rendering import render_frame
from campaigns.definitions.template_file import Template
from campaigns.delivery.outbox_ledger import (
    LaunchReport,
    batch_template,
    ensure_outbox,
    freeze_plan,
    plan_variant_batches,
    recover_in_flight,
    set_state,
    skip_members,
    still_eligible,
    summarise,
    variant_template_map,
    with_variant,
)
from campaigns.governance.audit_trail import audit

# Which private contact column each exporting channel needs.
CONTACT_COLUMN: dict[str, str] = {"sms": "phone", "push": "push_token"}
EXPORT_COLUMNS = ("member_ref", "text", "campaign_id", "batch_id", "batch_key", "variant", "template")


def export_batches(
    conn: duckdb.DuckDBPyConnection,
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
        conn: The warehouse (ledger and `private.user_contacts`).
        campaign_id: The campaign.
        channel: `sms` or `push`; every template must be of this channel.
        template: The approved template (the "main" arm).
        eligible: People whose decision now is `send`: `user_id`, optional `persona_name`, `variant`.
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
    if channel not in CONTACT_COLUMN:
        raise ValueError(f"channel {channel!r} is not exported to a file; expected one of {sorted(CONTACT_COLUMN)}")
    templates = variant_template_map(template, variant_templates)
    for name, each in templates.items():
        if each.channel != channel:
            raise ValueError(f"variant {name!r} uses template {each.key} of channel {each.channel!r}, not {channel!r}")
    started = time.perf_counter()
    report = LaunchReport(campaign_id, live)
    ensure_outbox(conn)
    eligible = with_variant(eligible.with_columns(pl.col("user_id").cast(pl.String)).unique("user_id", keep="first"))
    if not live:
        report.batches = {"planned (dry run)": len(plan_variant_batches(eligible, batch_size))}
        report.recipients_planned = eligible.height
        audit(conn, actor, "campaign.export_dry_run", campaign_id,
              {"channel": channel, "recipients": eligible.height, "batches": report.batches["planned (dry run)"]})
        report.seconds = time.perf_counter() - started
        return report
    folder = Path(out_dir) / campaign_id
    folder.mkdir(parents=True, exist_ok=True)
    freeze_plan(conn, campaign_id, templates, eligible, batch_size, actor, channel, send_instant)
    _recover_exports(conn, campaign_id, folder)
    recover_in_flight(conn, campaign_id, actor)  # anything else left `sending` (should not happen) is unknown
    fields = eligible.select("user_id", *(["persona_name"] if "persona_name" in eligible.columns else []))
    queue = [r[0] for r in conn.execute(
        "SELECT batch_id FROM campaigns.outbox WHERE campaign_id = ? AND state = 'planned' ORDER BY batch_id",
        [campaign_id]).fetchall()]
    for batch_id in queue:
        _export_batch(conn, campaign_id, batch_id, channel, templates, fields, folder, unsubscribe_base_url)
        report.requests += 1
    summarise(conn, report)
    report.recipients_accepted = conn.execute(
        "SELECT count(*) FROM campaigns.outbox_recipients r JOIN campaigns.outbox o USING (campaign_id, batch_id) "
        "WHERE campaign_id = ? AND o.state = 'exported' AND r.skipped_reason IS NULL", [campaign_id]).fetchone()[0]
    audit(conn, actor, "campaign.export", campaign_id, {
        "channel": channel, "batches": report.batches, "recipients_exported": report.recipients_accepted,
        "folder": folder.name})
    report.seconds = time.perf_counter() - started
    return report


def batch_file(folder: Path, campaign_id: str, batch_id: str) -> Path:
    return folder / f"{campaign_id}-{batch_id}.csv"


def _recover_exports(conn, campaign_id: str, folder: Path) -> None:
    for (batch_id,) in conn.execute("SELECT batch_id FROM campaigns.outbox WHERE campaign_id = ? AND state = 'sending'",
                                    [campaign_id]).fetchall():
        if batch_file(folder, campaign_id, batch_id).exists():
            set_state(conn, campaign_id, batch_id, "exported", error="file found after an interrupted launch")
        else:
            set_state(conn, campaign_id, batch_id, "planned", error="interrupted before the file was written")


def _export_batch(conn, campaign_id: str, batch_id: str, channel: str, templates: Mapping[str, Template],
                  fields: pl.DataFrame, folder: Path, unsubscribe_base_url: str) -> None:
    key, template = batch_template(conn, campaign_id, batch_id, templates)
    still = still_eligible(conn, campaign_id, batch_id, fields)
    column = CONTACT_COLUMN[channel]
    contacts = _contacts(conn, still.get_column("user_id"), column)
    skip_members(conn, campaign_id, sorted(set(still.get_column("user_id").to_list())
                                     - set(contacts.get_column("user_id").to_list())), f"no_{column}")
    rows = still.join(contacts, on="user_id", how="inner").sort("user_id")
    if rows.height == 0:
        set_state(conn, campaign_id, batch_id, "empty")
        return
    separator = "&" if "?" in unsubscribe_base_url else "?"
    values = rows.with_columns(
        pl.col("user_id").alias("user_ref"),
        pl.lit(campaign_id).alias("campaign_id"),
        (pl.col("persona_name") if "persona_name" in rows.columns else pl.lit(None, pl.String))
        .fill_null("全部用户").alias("persona_name"),
        (pl.lit(f"{unsubscribe_base_url}{separator}c={quote(campaign_id)}&u=") + pl.col("user_id")).alias("unsubscribe_url"),
    )
    title = [pl.col("subject").alias("title")] if channel == "push" else []
    rendered = render_frame(template, values).select(
        pl.col("user_id").alias("member_ref"), pl.col(column), *title, pl.col("text_body").str.strip_chars().alias("text"),
        pl.lit(campaign_id).alias("campaign_id"), pl.lit(batch_id).alias("batch_id"), pl.lit(key).alias("batch_key"),
        pl.lit(_variant(conn, campaign_id, batch_id)).alias("variant"), pl.lit(template.key).alias("template"),
    )
    target = batch_file(folder, campaign_id, batch_id)
    conn.execute("UPDATE campaigns.outbox SET state = 'sending', attempts = attempts + 1, updated_at = ? "
                 "WHERE campaign_id = ? AND batch_id = ?", [datetime.now(UTC), campaign_id, batch_id])
    partial = target.with_name(f".{target.name}.partial")
    rendered.write_csv(partial)
    with open(partial, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(partial, target)  # the commit point: the vendor sees the whole file or none of it
    conn.execute("UPDATE campaigns.outbox SET state = 'exported', export_file = ?, updated_at = ?, last_error = NULL "
                 "WHERE campaign_id = ? AND batch_id = ?", [target.name, datetime.now(UTC), campaign_id, batch_id])


def _variant(conn, campaign_id: str, batch_id: str) -> str:
    return conn.execute("SELECT coalesce(variant, 'main') FROM campaigns.outbox WHERE campaign_id = ? AND batch_id = ?",
                        [campaign_id, batch_id]).fetchone()[0]


def _contacts(conn, user_ids: pl.Series, column: str) -> pl.DataFrame:
    """`user_id`, `<column>` for people with a non-blank value; an absent column means nobody has one."""
    empty = pl.DataFrame(schema={"user_id": pl.String, column: pl.String})
    has_column = conn.execute(
        "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'private' AND table_name = 'user_contacts' "
        "AND column_name = ?", [column]).fetchone()[0]
    if not has_column or user_ids.len() == 0:
        return empty
    conn.register("_ids", pl.DataFrame({"user_id": user_ids}).to_arrow())
    try:
        frame = pl.from_arrow(conn.execute(
            f"SELECT c.user_id, trim(CAST(c.{column} AS VARCHAR)) AS {column} FROM private.user_contacts c "
            f"JOIN _ids USING (user_id) WHERE c.{column} IS NOT NULL AND trim(CAST(c.{column} AS VARCHAR)) <> ''").arrow())
    finally:
        conn.unregister("_ids")
    # The same number under two ids would get two messages (GEN-03 for SMS): keep the first id only.
    return frame.cast({"user_id": pl.String, column: pl.String}).sort("user_id").unique(column, keep="first").sort("user_id")

"""The campaign ledger in the warehouse: a snapshot of the operational campaign store, for the pages and the lift.

Campaign state is operational data: templates and approvals, plans and their decisions, the outbox (one
row per batch and per recipient), provider events and quarantined ones, suppressions and the audit trail
live in the campaign store (SQLite or Postgres, `FINGROWTH_CAMPAIGN_DB`), written by `fingrowth
template|campaign|webhook` through the campaign service. DuckDB cannot read that store here, so this step
copies it (SQLAlchemy → Polars → `campaigns.<table>`), in one consistent read, into the warehouse, upstream
of the dry runs, the lift and the dashboards. A launch or the webhook never waits for, or breaks, this run.
"""

import dagster as dg

from assets.resources import CampaignStoreResource, WarehouseResource
from assets.tables import ForeignKey, WarehouseTable, materialized, table_asset
from warehouse import write_frame

COPIED = "Copied from the campaign store by each run; written there by the campaign service."


def _ledger(key: str, name: str, grain: str, primary_key: tuple[str, ...],
            foreign_keys: tuple[ForeignKey, ...] = ()) -> WarehouseTable:
    return WarehouseTable(key=key, table=f"campaigns.{name}", group="campaigns", grain=grain, detail=COPIED,
                          kinds=frozenset({"duckdb", "polars"}), primary_key=primary_key, foreign_keys=foreign_keys)


LEDGER_TABLES = [
    _ledger("campaign_templates", "templates", "One row per template version: its definition, content hash and "
            "author", ("template_id", "version")),
    _ledger("template_approvals", "template_approvals", "One row per review decision on a template version "
            "(submitted, blocked, approved, rejected), with lint findings, acknowledgements and expiry",
            ("decision_id",), (ForeignKey(("template_id", "version"), "campaigns.templates"),)),
    _ledger("campaign_plans", "plans", "One row per plan, launch or resend: audience digest, counts, as-of and "
            "send instant", ("plan_id",)),
    _ledger("campaign_plan_decisions", "plan_decisions", "One row per plan × audience member: decision, reason "
            "codes, variant", ("plan_id", "user_id"), (ForeignKey(("plan_id",), "campaigns.plans"),)),
    _ledger("campaign_outbox", "outbox", "One row per campaign × batch: state, attempts, resends, provider answer",
            ("campaign_id", "batch_id")),
    _ledger("campaign_outbox_recipients", "outbox_recipients", "One row per campaign × recipient: batch and skip "
            "reason", ("campaign_id", "user_id"), (ForeignKey(("campaign_id", "batch_id"), "campaigns.outbox"),)),
    _ledger("campaign_webhook_events", "webhook_events", "One row per distinct provider event (no e-mail "
            "addresses), with its batch's state when it arrived", ("dedup_key",)),
    _ledger("campaign_event_quarantine", "event_quarantine", "One row per malformed provider event set aside, "
            "with the reason (no addresses, no values)", ("quarantine_id",)),
    _ledger("campaign_suppressions", "suppressions", "One row per person × suppression event (unsubscribe, "
            "bounce, spam report)", ("user_id", "dedup_key")),
    _ledger("campaign_audit_log", "audit_log", "One row per audited action, hash-chained", ("seq",)),
]


@table_asset(*LEDGER_TABLES, name="campaign_ledger")
def campaign_ledger(context: dg.AssetExecutionContext, campaign_store: CampaignStoreResource,
                    warehouse: WarehouseResource):
    store = campaign_store.store()
    try:
        frames = store.snapshot()
    finally:
        store.dispose()
    with warehouse.connection() as conn:
        for table in LEDGER_TABLES:
            write_frame(conn, table.table, frames[table.table.split(".", 1)[1]])
        for table in LEDGER_TABLES:
            yield materialized(conn, table, frames[table.table.split(".", 1)[1]].height)
    context.log.info("campaign ledger copied: " + ", ".join(f"{name} {frame.height}" for name, frame in frames.items()))


campaign_ledger_assets = [campaign_ledger]

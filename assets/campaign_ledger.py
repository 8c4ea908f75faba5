"""The campaign ledger: tables the campaign service writes outside any run, declared so lineage shows them.

Templates and approvals, plans and their decisions, the outbox (one row per batch and per recipient),
provider events, suppressions and the audit trail are written by `fingrowth template|campaign|webhook`
(the campaign service), never by an analytics run. They are external assets: the Dagster UI shows them
and what reads them (the dry runs, the lift, the campaign page), but no job materializes them.
"""

import dagster as dg

from assets.tables import WarehouseTable

WRITTEN_BY = "Written by the campaign service (`fingrowth template|campaign|webhook`), never by an analytics run."


def _ledger(key: str, table: str, grain: str) -> WarehouseTable:
    return WarehouseTable(key=key, table=table, group="campaigns", grain=grain, detail=WRITTEN_BY)


LEDGER_TABLES = [
    _ledger("campaign_templates", "campaigns.templates", "One row per template version: its definition, content "
            "hash and author"),
    _ledger("template_approvals", "campaigns.template_approvals", "One row per review decision on a template "
            "version (submitted, approved, rejected), with lint findings and expiry"),
    _ledger("campaign_plans", "campaigns.plans", "One row per plan or launch: audience digest, counts, as-of and "
            "send instant"),
    _ledger("campaign_plan_decisions", "campaigns.plan_decisions", "One row per plan × audience member: decision, "
            "reason codes, variant"),
    _ledger("campaign_outbox", "campaigns.outbox", "One row per campaign × batch: state, attempts, provider answer"),
    _ledger("campaign_outbox_recipients", "campaigns.outbox_recipients", "One row per campaign × recipient: batch "
            "and skip reason"),
    _ledger("campaign_webhook_events", "campaigns.webhook_events", "One row per distinct provider event (no "
            "e-mail addresses)"),
    _ledger("campaign_suppressions", "campaigns.suppressions", "One row per person × suppression event "
            "(unsubscribe, bounce, spam report)"),
    _ledger("campaign_audit_log", "campaigns.audit_log", "One row per audited action, hash-chained"),
]
ledger_assets = [dg.AssetSpec(t.key, group_name=t.group, description=t.description, kinds={"duckdb"},
                              metadata={"dagster/table_name": t.table}) for t in LEDGER_TABLES]

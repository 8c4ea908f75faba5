"""Campaigns in dry run: audiences decided rule by rule and messages rendered; nothing is sent."""

import dagster as dg

from assets.resources import AnalysisResource, WarehouseResource
from assets.tables import ForeignKey, WarehouseTable, materialized, table_asset
from campaigns import dry_run_campaign_files
from warehouse import load_query, read_frame, table_exists, write_frame

UNSUBSCRIBE_BASE_URL = "https://example.com/unsubscribe"
DRY_RUN_INPUTS = ("user_segment", "stg_consents", "stg_users", "user_contacts", "campaign_suppressions",
                  "campaign_outbox", "campaign_outbox_recipients")
DECISIONS = WarehouseTable(
    key="campaign_decisions", table="campaigns.decisions", group="campaigns", deps=DRY_RUN_INPUTS,
    kinds=frozenset({"duckdb", "polars"}),
    grain="One row per campaign × audience member: the decision (send, holdout, excluded) with rule reason codes",
    detail="Dry run of every campaign file (FINGROWTH_CAMPAIGNS_DIR, default the shipped example) as of the "
           "window end: nothing is sent. Earlier live sends count against frequency caps, webhook suppressions "
           "are honoured, as at launch.",
    primary_key=("campaign_id", "user_id"), foreign_keys=(ForeignKey(("user_id",), "staged.users"),))
MESSAGES = WarehouseTable(
    key="campaign_messages", table="campaigns.messages", group="campaigns", deps=DRY_RUN_INPUTS,
    grain="One row per `send` decision of a dry run: the rendered subject and text, no contact details",
    primary_key=("campaign_id", "user_id"),
    foreign_keys=(ForeignKey(("campaign_id", "user_id"), "campaigns.decisions"),))
AUDIENCE_FUNNEL = WarehouseTable(
    key="campaign_audience_funnel", table="campaigns.audience_funnel", group="campaigns", deps=DRY_RUN_INPUTS,
    grain="One row per campaign × rule step of a dry run: people remaining, excluded at the step, failing it",
    primary_key=("campaign_id", "step"))


@table_asset(DECISIONS, MESSAGES, AUDIENCE_FUNNEL, name="campaign_dry_runs")
def campaign_dry_runs(context: dg.AssetExecutionContext, analysis: AnalysisResource, warehouse: WarehouseResource):
    with warehouse.connection() as conn:
        tables = dry_run_campaign_files(
            analysis.campaigns_dir,
            segments=read_frame(conn, "SELECT user_id, persona_id, persona_name, rfm_segment FROM marts.user_segment"),
            consents=read_frame(conn, "SELECT * FROM staged.consents"),
            people=read_frame(conn, load_query("campaigns", "campaign_people")),
            as_of=conn.sql("SELECT window_end FROM core.analysis_window").fetchone()[0],
            unsubscribe_base_url=UNSUBSCRIBE_BASE_URL,
            suppressions=(read_frame(conn, "SELECT DISTINCT user_id, reason FROM campaigns.suppressions")
                          if table_exists(conn, "campaigns.suppressions") else None),
            recent_sends=(read_frame(conn, load_query("campaigns", "recent_sends"))
                          if table_exists(conn, "campaigns.outbox_recipients") else None))
        for note in tables.notes:
            context.log.warning(note)
        for campaign_id, counts in tables.counts.items():
            context.log.info(f"campaign {campaign_id}: {counts} (dry run, nothing sent)")
        write_frame(conn, DECISIONS.table, tables.decisions)
        write_frame(conn, MESSAGES.table, tables.messages)
        write_frame(conn, AUDIENCE_FUNNEL.table, tables.funnel)
        yield materialized(conn, DECISIONS, tables.decisions.height, notes=tables.notes, sent=0,
                           campaigns=dg.MetadataValue.json(tables.counts))
        yield materialized(conn, MESSAGES, tables.messages.height, notes=tables.notes)
        yield materialized(conn, AUDIENCE_FUNNEL, tables.funnel.height, notes=tables.notes)


CAMPAIGN_DRY_RUN_TABLES = [DECISIONS, MESSAGES, AUDIENCE_FUNNEL]
campaign_assets = [campaign_dry_runs]

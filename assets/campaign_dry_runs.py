"""Campaigns in dry run: audiences decided rule by rule and messages rendered; nothing is sent."""

from pathlib import Path

import dagster as dg
import polars as pl

from assets.notes import replace_notes
from assets.resources import AnalysisResource, WarehouseResource
from campaigns import campaign_paths, dry_run, load_campaign, load_template, template_path
from warehouse import read_frame, table_exists
from warehouse.sql_files import load_query

UNSUBSCRIBE_BASE_URL = "https://example.com/unsubscribe"


@dg.asset(group_name="campaigns", kinds={"duckdb", "polars"},
          deps=["user_segment", "stg_consents", "stg_users"])
def campaign_dry_runs(context: dg.AssetExecutionContext, analysis: AnalysisResource,
                      warehouse: WarehouseResource) -> dg.MaterializeResult:
    """One row per campaign × audience member: the decision (send, holdout, excluded) with rule reason codes (campaigns.decisions).

    Also campaigns.messages (one rendered message per `send` decision, no contact details) and
    campaigns.audience_funnel (one row per campaign × rule step). Dry run only: nothing is sent.
    """
    directory = Path(analysis.campaigns_dir) if analysis.campaigns_dir else None
    files = campaign_paths(directory)
    with warehouse.connection() as conn:
        window_end = conn.sql("SELECT window_end FROM core.analysis_window").fetchone()[0]
        segments = read_frame(conn, "SELECT user_id, persona_id, persona_name, rfm_segment FROM marts.user_segment")
        consents = read_frame(conn, "SELECT * FROM staged.consents")
        people = read_frame(conn, load_query("campaigns", "campaign_people"))
        # Unsubscribes and bounces from the SendGrid webhook (written by campaign launches, not this asset).
        suppressions = (read_frame(conn, "SELECT DISTINCT user_id, reason FROM campaigns.suppressions")
                        if table_exists(conn, "campaigns.suppressions") else None)
        # Earlier live sends count against frequency caps, as they will at launch.
        recent_sends = (read_frame(conn, load_query("campaigns", "recent_sends"))
                        if table_exists(conn, "campaigns.outbox_recipients") else None)
        notes = []
        if consents.height == 0:
            notes.append("no consent records (source consents absent or empty): every audience member is "
                         "excluded, since marketing needs recorded consent")
            context.log.warning(notes[-1])
        if not files:
            notes.append("no campaign files found: no dry run")
        results = []
        for path in files:
            campaign = load_campaign(path)
            template = load_template(template_path(campaign.template_id, campaign.template_version))
            variants = {arm.name: load_template(template_path(arm.template_id, arm.template_version))
                        for arm in campaign.variants}
            result = dry_run(campaign, template, segments.with_columns(pl.col("persona_name").fill_null("全部用户")),
                             consents, people, window_end, UNSUBSCRIBE_BASE_URL, suppressions=suppressions,
                             recent_sends=recent_sends, variant_templates=variants)
            results.append((campaign.campaign_id, result))
            counts = dict(result.decisions.group_by("decision").len().iter_rows())
            context.log.info(f"campaign {campaign.campaign_id}: {counts} (dry run, nothing sent)")
        decisions = pl.concat([r.decisions.with_columns(pl.lit(r.rule_version).alias("rule_version"))
                               for _, r in results], how="diagonal_relaxed") if results else pl.DataFrame()
        messages = pl.concat([r.messages for _, r in results]) if results else pl.DataFrame()
        funnel = pl.concat([r.funnel.with_columns(pl.lit(cid).alias("campaign_id")) for cid, r in results]) if results else pl.DataFrame()
        conn.execute("CREATE SCHEMA IF NOT EXISTS campaigns")
        for table, frame in (("decisions", decisions), ("messages", messages), ("audience_funnel", funnel)):
            if frame.width:
                conn.register("_frame", frame.with_columns(pl.col("reason_codes").list.join(",")) if table == "decisions" else frame)
                conn.execute(f"CREATE OR REPLACE TABLE campaigns.{table} AS SELECT * FROM _frame")
                conn.unregister("_frame")
        replace_notes(conn, "campaign_dry_runs", notes)
    summary = {cid: dict(r.decisions.group_by("decision").len().iter_rows()) for cid, r in results}
    return dg.MaterializeResult(metadata={
        "dagster/row_count": decisions.height,
        "campaigns": dg.MetadataValue.json(summary),
        "messages_rendered": messages.height,
        "sent": 0,
    })


campaign_assets = [campaign_dry_runs]

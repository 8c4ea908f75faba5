"""Campaign page frames for the dashboards (a read model): each campaign's decisions, rule funnel and provider results.

Read from the warehouse: the campaign ledger's snapshot (`campaigns.<table>`, copied from the operational
store by the `campaign_ledger` asset) and the dry-run tables.

Aggregates only: no contact data leaves this module.
"""

import duckdb
import polars as pl

from campaigns.campaign_errors import ApprovalError, ConfigFileError
from campaigns.definitions.shipped_library import template_path
from campaigns.definitions.template_file import load_template
from campaigns.eligibility.audience_funnel import audience_funnel
from campaigns.eligibility.rule_packs import shipped_rule_pack
from campaigns.governance.template_approvals import template_from_definition
from warehouse import read_frame, table_exists
from warehouse.sql_files import load_query

EVENT_COLUMNS = ("delivered", "open", "click", "bounce", "unsubscribe")


def campaign_page_frames(conn: duckdb.DuckDBPyConnection) -> dict[str, pl.DataFrame]:
    """`campaign_funnel`, `campaign_results` and `campaign_lift` for the campaign page (absent tables give none).

    A launched campaign is shown as decided by its latest launch; any other as decided by the dry run.
    """
    funnels: list[pl.DataFrame] = []
    decisions: list[pl.DataFrame] = []
    dry_funnel = (read_frame(conn, "SELECT campaign_id, step, remaining, excluded, failing FROM campaigns.audience_funnel")
                  if table_exists(conn, "campaigns.audience_funnel") else None)
    launches = (read_frame(conn, load_query("campaigns", "latest_launches"))
                if table_exists(conn, "campaigns.plans") and table_exists(conn, "campaigns.plan_decisions") else None)
    launched_ids: set[str] = set()
    for campaign_id, plan_id, template_key, rule_version in (launches.iter_rows() if launches is not None else []):
        rows = read_frame(conn, "SELECT campaign_id, decision, reason_codes FROM campaigns.plan_decisions "
                                "WHERE plan_id = ?", [plan_id]).with_columns(
            pl.when(pl.col("reason_codes") == "").then(pl.lit([], pl.List(pl.String)))
            .otherwise(pl.col("reason_codes").str.split(",")).alias("reason_codes"))
        launched_ids.add(campaign_id)
        rule_ids = _rule_order(conn, rows, template_key, rule_version)
        funnels.append(audience_funnel(rows, rule_ids)
                       .with_columns(pl.lit(campaign_id).alias("campaign_id"), pl.lit("launch").alias("source")))
        decisions.append(rows.select("campaign_id", "decision").with_columns(pl.lit("launch").alias("source")))
    if dry_funnel is not None and dry_funnel.height:
        funnels.append(dry_funnel.filter(~pl.col("campaign_id").is_in(sorted(launched_ids)))
                       .with_columns(pl.lit("dry_run").alias("source")))
    if table_exists(conn, "campaigns.decisions"):
        dry = read_frame(conn, "SELECT campaign_id, decision FROM campaigns.decisions")
        decisions.append(dry.filter(~pl.col("campaign_id").is_in(sorted(launched_ids)))
                         .with_columns(pl.lit("dry_run").alias("source")))
    frames: dict[str, pl.DataFrame] = {}
    if funnels:
        columns = ["campaign_id", "source", "step", "remaining", "excluded", "failing"]
        frames["campaign_funnel"] = pl.concat([f.select(columns) for f in funnels if f.height])
    if decisions:
        frames["campaign_results"] = _campaign_results(conn, pl.concat(decisions))
    if table_exists(conn, "marts.campaign_lift"):
        frames["campaign_lift"] = read_frame(conn, "SELECT * FROM marts.campaign_lift")
    return frames


def _rule_order(conn: duckdb.DuckDBPyConnection, decisions: pl.DataFrame, template_key: str,
                rule_version: str) -> list[str]:
    """Every rule the launch evaluated, in order (those that excluded nobody too), then any other rule seen.

    The rules come from the template's rule pack when it is still the version the launch recorded;
    otherwise only the rules that appear in the reason codes can be listed.
    """
    seen = audience_funnel(decisions)["step"].to_list()[1:-1]
    try:
        template_id, version = template_key.rsplit("@", 1)
        row = (conn.execute("SELECT definition_json FROM campaigns.templates WHERE template_id = ? AND version = ?",
                            [template_id, int(version)]).fetchone()
               if table_exists(conn, "campaigns.templates") else None)
        template = (template_from_definition(row[0], f"registry:{template_key}") if row
                    else load_template(template_path(template_id, int(version))))
        pack = shipped_rule_pack(template.jurisdiction)
    except (ValueError, OSError, NotImplementedError, ApprovalError, ConfigFileError):
        return seen
    if pack.rule_version != rule_version:
        return seen
    known = [rule.rule_id for rule in pack.applicable(template.product_type, template.channel)]
    return [*known, *(rule for rule in seen if rule not in known)]


def _campaign_results(conn: duckdb.DuckDBPyConnection, decisions: pl.DataFrame) -> pl.DataFrame:
    counts = decisions.group_by("campaign_id", "source").agg(
        pl.len().cast(pl.Int64).alias("audience"),
        *((pl.col("decision") == d).sum().cast(pl.Int64).alias(d) for d in ("send", "holdout", "excluded")))
    sent = (read_frame(conn, load_query("campaigns", "recipients_sent")) if table_exists(conn, "campaigns.outbox")
            and table_exists(conn, "campaigns.outbox_recipients") else None)
    if sent is None:
        sent = pl.DataFrame(schema={"campaign_id": pl.String, "recipients_sent": pl.Int64})
    events = (read_frame(conn, load_query("campaigns", "provider_event_people")) if table_exists(conn, "campaigns.webhook_events")
              else pl.DataFrame(schema={"campaign_id": pl.String, "event": pl.String, "people": pl.Int64}))
    per_event = [events.filter(pl.col("event") == event).group_by("campaign_id")
                 .agg(pl.col("people").sum().cast(pl.Int64).alias(event)) for event in EVENT_COLUMNS]
    results = counts.join(sent, on="campaign_id", how="left")
    for frame in per_event:
        results = results.join(frame, on="campaign_id", how="left")
    return results.with_columns(pl.col("recipients_sent", *EVENT_COLUMNS).fill_null(0)).sort("campaign_id")

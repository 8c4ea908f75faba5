"""Marts: incremental lift of launched campaigns against their holdouts."""

import dagster as dg
import polars as pl

from assets.notes import replace_notes
from assets.resources import WarehouseResource
from campaigns.lift import LIFT_SCHEMA, holdout_lift
from warehouse import read_frame, table_exists, write_frame

# The first launch of each campaign fixes who was treated and who was held out; resumes re-decide only
# who may still be sent to.
FIRST_LAUNCH_SQL = """
SELECT d.campaign_id, d.user_id, d.decision, p.as_of AS decided_at
FROM campaigns.plan_decisions d
JOIN (SELECT campaign_id, arg_min(plan_id, planned_at) AS plan_id, min(as_of) AS as_of
      FROM campaigns.plans WHERE kind = 'launch' GROUP BY campaign_id) p USING (campaign_id, plan_id)
"""


@dg.asset(group_name="marts", kinds={"duckdb", "polars"}, deps=["core_purchases", "campaign_dry_runs"])
def campaign_lift(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """One row per launched campaign with a holdout: conversion within 30 days, treated vs holdout, lift with a 95% interval (marts.campaign_lift)."""
    notes: list[str] = []
    lift = pl.DataFrame(schema=LIFT_SCHEMA)
    with warehouse.connection() as conn:
        if table_exists(conn, "campaigns.plans") and table_exists(conn, "campaigns.plan_decisions"):
            assignments = read_frame(conn, FIRST_LAUNCH_SQL)
            purchases = read_frame(conn, "SELECT user_id, occurred_at FROM core.purchases")
            observed_until = read_frame(conn, "SELECT window_end FROM core.analysis_window")["window_end"].item()
            lift = holdout_lift(assignments, purchases, observed_until)
        if lift.height == 0:
            notes.append("no campaign lift: no launched campaign with a holdout yet (`fingrowth campaign launch`)")
        for note in notes:
            context.log.info(note)
        write_frame(conn, "marts.campaign_lift", lift)
        replace_notes(conn, "campaign_lift", notes)
    return dg.MaterializeResult(metadata={"dagster/row_count": lift.height})


campaign_lift_assets = [campaign_lift]

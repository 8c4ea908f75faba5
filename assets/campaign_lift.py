"""Marts: incremental lift of launched campaigns against their holdouts."""

import dagster as dg
import polars as pl

from assets.notes import replace_notes
from assets.resources import WarehouseResource
from campaigns.results.holdout_lift import LIFT_SCHEMA, holdout_lift
from warehouse import read_frame, table_exists, write_frame
from warehouse.sql_files import load_query


@dg.asset(group_name="marts", kinds={"duckdb", "polars"}, deps=["core_purchases", "campaign_dry_runs"])
def campaign_lift(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """One row per launched campaign with a holdout: conversion within 30 days, treated vs holdout, lift with a 95% interval (marts.campaign_lift)."""
    notes: list[str] = []
    lift = pl.DataFrame(schema=LIFT_SCHEMA)
    with warehouse.connection() as conn:
        if table_exists(conn, "campaigns.plans") and table_exists(conn, "campaigns.plan_decisions"):
            # The first launch of each campaign fixes who was treated and who was held out.
            assignments = read_frame(conn, load_query("campaigns", "first_launch_assignments"))
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

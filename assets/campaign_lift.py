"""Marts: incremental lift of launched campaigns against their holdouts."""

import dagster as dg
import polars as pl

from assets.resources import WarehouseResource
from assets.tables import WarehouseTable, materialized, table_asset
from campaigns.results.holdout_lift import LIFT_SCHEMA, holdout_lift
from warehouse import load_query, read_frame, table_exists, write_frame

CAMPAIGN_LIFT = WarehouseTable(
    key="campaign_lift", table="marts.campaign_lift", group="marts", kinds=frozenset({"duckdb", "polars"}),
    deps=("core_purchases", "campaign_plans", "campaign_plan_decisions"),
    grain="One row per launched campaign with a holdout: conversion within 30 days, treated vs holdout, lift with "
          "a 95% interval",
    detail="Intent to treat over the first launch's decisions (`campaigns/lift.py`).", primary_key=("campaign_id",))


@table_asset(CAMPAIGN_LIFT)
def campaign_lift(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    notes: list[str] = []
    lift = pl.DataFrame(schema=LIFT_SCHEMA)
    with warehouse.connection() as conn:
        if table_exists(conn, "campaigns.plans") and table_exists(conn, "campaigns.plan_decisions"):
            lift = holdout_lift(read_frame(conn, load_query("campaigns", "first_launch_assignments")),
                                read_frame(conn, "SELECT user_id, occurred_at FROM core.purchases"),
                                read_frame(conn, "SELECT window_end FROM core.analysis_window")["window_end"].item())
        if lift.height == 0:
            notes.append("no campaign lift: no launched campaign with a holdout yet (`fingrowth campaign launch`)")
            context.log.info(notes[-1])
        rows = write_frame(conn, CAMPAIGN_LIFT.table, lift)
        return materialized(conn, CAMPAIGN_LIFT, rows, notes=notes)


CAMPAIGN_LIFT_TABLES = [CAMPAIGN_LIFT]
campaign_lift_assets = [campaign_lift]

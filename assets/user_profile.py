"""Marts: one profile per user, the base of segments, personas and lifetime value."""

import dagster as dg

from activity.profiles import PROFILE_PARAMETERS, PROFILE_QUERY, user_profile as build_user_profile
from assets.resources import WarehouseResource
from assets.tables import ForeignKey, MoneyTotal, WarehouseTable, materialized, table_asset
from warehouse import load_query, read_frame, write_frame

USER_PROFILE = WarehouseTable(
    key="user_profile", table="marts.user_profile", group="marts", kinds=frozenset({"duckdb", "polars"}),
    deps=("analysis_window", "stg_users", "core_purchases", "core_user_activity"),
    grain="One row per user signed up by the as-of date: RFM inputs, tenure, holdings, activity, lifecycle stage",
    detail="`frequency` counts repeat purchase days (the lifetime-value papers' convention); `recency_days` and "
           "`tenure_days` are measured at the as-of date. Lifecycle rules: `segments/lifecycle.py`; funnel stages, "
           "sessions and activity windows: `docs/segments.md`.",
    primary_key=("user_id",), foreign_keys=(ForeignKey(("user_id",), "staged.users"),),
    # Every purchase belongs to a profiled user, so the totals agree to the cent.
    money=(MoneyTotal("total_amount", "core.purchases", "amount"),))


@table_asset(USER_PROFILE)
def user_profile(warehouse: WarehouseResource):
    with warehouse.connection() as conn:
        profile = build_user_profile(read_frame(conn, load_query("activity", PROFILE_QUERY), PROFILE_PARAMETERS))
        rows = write_frame(conn, USER_PROFILE.table, profile)
        stages = profile.group_by("lifecycle_stage").len().sort("len", descending=True)
        return materialized(conn, USER_PROFILE, rows,
                            lifecycle_stages=dg.MetadataValue.json(dict(stages.iter_rows())),
                            purchasers=int(profile["txn_count"].gt(0).sum()))


PROFILE_TABLES = [USER_PROFILE]
profile_assets = [user_profile]

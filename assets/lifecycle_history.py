"""Marts: lifecycle stage counts at every month end, so movement through the lifecycle can be read over time."""

import dagster as dg
import polars as pl

from assets.resources import WarehouseResource
from segments.lifecycle import lifecycle_stage_expr
from warehouse import read_frame, write_frame

# The same clocks as marts.user_profile, taken at each snapshot date instead of the as-of date.
CLOCKS_AT_SNAPSHOTS_SQL = """
WITH w AS (SELECT as_of FROM core.analysis_window),
bounds AS (SELECT min(CAST(signup_at AS DATE)) AS first_day FROM staged.users),
snapshots AS (
    -- Month ends are the days before month starts: stepping month ends directly drifts (Feb 28 -> Mar 28).
    SELECT CAST(d - INTERVAL 1 DAY AS DATE) AS snapshot_date
    FROM bounds, w, generate_series(date_trunc('month', bounds.first_day) + INTERVAL 1 MONTH,
                                    w.as_of + INTERVAL 1 DAY, INTERVAL 1 MONTH) t(d)
    UNION SELECT as_of FROM w
),
purchase_days AS (SELECT DISTINCT user_id, txn_date FROM core.purchases),
clocks AS (
    SELECT s.snapshot_date, d.user_id, min(d.txn_date) AS first_day, max(d.txn_date, 2) AS last_two_days
    FROM snapshots s JOIN purchase_days d ON d.txn_date <= s.snapshot_date
    GROUP BY ALL
)
SELECT s.snapshot_date, u.user_id,
       s.snapshot_date - CAST(u.signup_at AS DATE) AS tenure_days,
       s.snapshot_date - c.last_two_days[1] AS recency_days,
       s.snapshot_date - c.first_day AS first_txn_age_days,
       c.last_two_days[1] - c.last_two_days[2] AS gap_before_last_txn_days
FROM snapshots s
JOIN staged.users u ON CAST(u.signup_at AS DATE) <= s.snapshot_date
LEFT JOIN clocks c ON c.snapshot_date = s.snapshot_date AND c.user_id = u.user_id
"""


@dg.asset(group_name="marts", kinds={"duckdb", "polars"}, deps=["analysis_window", "core_purchases", "stg_users"])
def lifecycle_counts(warehouse: WarehouseResource) -> dg.MaterializeResult:
    """One row per snapshot date (each month end, and the as-of date) × lifecycle stage: users in that stage (marts.lifecycle_counts).

    Stages follow the rules in `segments/lifecycle.py`, evaluated with the clocks stopped at each snapshot.
    """
    with warehouse.connection() as conn:
        clocks = read_frame(conn, CLOCKS_AT_SNAPSHOTS_SQL)
        counts = (
            clocks.with_columns(lifecycle_stage_expr())
            .group_by("snapshot_date", "lifecycle_stage")
            .agg(pl.len().cast(pl.Int64).alias("users"))
            .with_columns((pl.col("users") / pl.col("users").sum().over("snapshot_date")).alias("share"))
            .sort("snapshot_date", "lifecycle_stage")
        )
        rows = write_frame(conn, "marts.lifecycle_counts", counts)
    return dg.MaterializeResult(metadata={"dagster/row_count": rows,
                                          "snapshots": counts["snapshot_date"].n_unique()})


lifecycle_assets = [lifecycle_counts]

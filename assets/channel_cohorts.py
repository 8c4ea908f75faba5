"""Marts: channel economics per acquisition cohort — spend, attributed return, LTV, payback, quality, risk."""

import dagster as dg
import polars as pl

from assets.notes import replace_notes
from assets.resources import WarehouseResource
from channels import channel_cohort_roi
from channels.cohorts import COHORT_PAYBACK_SCHEMA, COHORT_ROI_SCHEMA
from warehouse import read_frame, write_frame

AS_OF = "(SELECT as_of FROM core.analysis_window)"
# Converted users only, in the session (business) time zone, so the cohort month is a local month.
CREDIT_SQL = ("SELECT * EXCLUDE (conversion_id, converted_at), CAST(converted_at AS DATE) AS conversion_date "
              "FROM marts.channel_conversion_credit")
# channels.cohorts.revenue_since_conversion in SQL: each converted user's revenue by month since the
# conversion's month, from the conversion instant on (tests/channels hold the two to the same answer).
REVENUE_SQL = f"""
WITH converted AS (
    SELECT user_id, converted_at, CAST(converted_at AS DATE) AS conversion_date
    FROM (SELECT DISTINCT user_id, converted_at FROM marts.channel_conversion_credit)
)
SELECT p.user_id,
       CAST((year(p.txn_date) - year(c.conversion_date)) * 12 + month(p.txn_date) - month(c.conversion_date)
            AS BIGINT) AS month,
       CAST(sum(p.revenue) AS DOUBLE) AS revenue,
       bool_or(p.occurred_at > c.converted_at) AS repeat
FROM core.purchases p JOIN converted c USING (user_id)
WHERE p.occurred_at >= c.converted_at AND p.txn_date <= {AS_OF}
GROUP BY ALL
"""
SPEND_SQL = f"SELECT date, channel, spend FROM staged.marketing_spend WHERE date <= {AS_OF}"
# KYC and defaults as marts.channel_quality reads them: a borrower has loans; a default has a charge-off.
USERS_SQL = """
SELECT v.user_id, v.clv, v.risk_adjusted_clv,
       CASE WHEN u.kyc_status = 'passed' THEN TRUE WHEN u.kyc_status IN ('failed', 'none', 'pending') THEN FALSE END
           AS kyc_passed,
       l.user_id IS NOT NULL AS borrower,
       coalesce(l.charged_off, 0) > 0 AS defaulted,
       coalesce(l.charged_off, 0.0) AS charged_off
FROM marts.user_value v
JOIN staged.users u USING (user_id)
LEFT JOIN marts.user_credit_loss l USING (user_id)
SEMI JOIN marts.channel_conversion_credit c ON c.user_id = v.user_id
"""


@dg.multi_asset(
    group_name="marts",
    specs=[
        dg.AssetSpec("channel_cohort_roi", group_name="marts", kinds={"duckdb", "polars"},
                     deps=["channel_roi", "core_purchases", "stg_marketing_spend", "user_value", "stg_users",
                           "user_credit_loss"],
                     description="One row per channel × acquisition month × attribution model: the month's spend, "
                                 "attributed conversions and revenue, CAC, ROAS, LTV, LTV:CAC, revenue to date, "
                                 "payback months, KYC pass, repeat and default rates, risk-adjusted value and ROI "
                                 "(marts.channel_cohort_roi)."),
        dg.AssetSpec("channel_cohort_payback", group_name="marts", kinds={"duckdb", "polars"},
                     deps=["channel_roi", "core_purchases", "stg_marketing_spend"],
                     description="One row per channel × acquisition month × attribution model × months since "
                                 "acquisition: cumulative attributed revenue against the month's spend "
                                 "(marts.channel_cohort_payback)."),
    ],
)
def channel_cohort_marts(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    """One row per channel × acquisition month × attribution model (and per month since acquisition for the curve).

    The acquisition cohort is the local month of the conversion (first completed purchase by default), and a
    cohort's spend is the channel's spend in that month; rules in ``channels.cohorts.channel_cohort_roi``.
    """
    notes: list[str] = []
    with warehouse.connection() as conn:
        as_of = conn.sql(f"SELECT {AS_OF}").fetchone()[0]
        credit = read_frame(conn, CREDIT_SQL)
        if credit.is_empty():
            notes.append("channel cohorts not computed: no attributed conversions (see channel_roi)")
            roi, payback = pl.DataFrame(schema=COHORT_ROI_SCHEMA), pl.DataFrame(schema=COHORT_PAYBACK_SCHEMA)
        else:
            roi, payback = channel_cohort_roi(credit, read_frame(conn, REVENUE_SQL), read_frame(conn, SPEND_SQL),
                                              read_frame(conn, USERS_SQL), as_of)
        write_frame(conn, "marts.channel_cohort_roi", roi)
        write_frame(conn, "marts.channel_cohort_payback", payback)
        replace_notes(conn, "channel_cohorts", notes)
    for note in notes:
        context.log.warning(note)
    yield dg.MaterializeResult(asset_key="channel_cohort_roi", metadata={"dagster/row_count": roi.height})
    yield dg.MaterializeResult(asset_key="channel_cohort_payback", metadata={"dagster/row_count": payback.height})


channel_cohort_assets = [channel_cohort_marts]

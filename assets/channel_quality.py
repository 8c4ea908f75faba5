"""Marts: what each acquisition channel's users become, and how long they take to pay back their cost."""

import dagster as dg

from assets.resources import WarehouseResource
from channels.quality import channel_payback, channel_quality
from warehouse import read_frame, write_frame

USERS_SQL = """
SELECT p.user_id, p.acquisition_channel, CAST(p.signup_at AS DATE) AS signup_date,
       CASE WHEN u.kyc_status = 'passed' THEN TRUE WHEN u.kyc_status IN ('failed', 'none', 'pending') THEN FALSE END
           AS kyc_passed,
       p.txn_count > 0 AS transacted,
       l.user_id IS NOT NULL AS borrower,
       coalesce(l.charged_off, 0) > 0 AS defaulted,
       v.clv, v.risk_adjusted_clv
FROM marts.user_profile p
JOIN staged.users u USING (user_id)
JOIN marts.user_value v USING (user_id)
LEFT JOIN (
    SELECT user_id, sum(charged_off_amount) AS charged_off
    FROM (SELECT loan_id, user_id, arg_max(charged_off_amount, as_of) AS charged_off_amount
          FROM staged.loan_performance WHERE as_of <= (SELECT as_of FROM core.analysis_window) GROUP BY ALL)
    GROUP BY user_id
) l USING (user_id)
"""


@dg.multi_asset(
    group_name="marts",
    specs=[
        dg.AssetSpec("channel_quality", group_name="marts", kinds={"duckdb", "polars"},
                     deps=["user_profile", "user_value", "stg_users", "stg_loan_performance", "stg_marketing_spend"],
                     description="One row per acquisition channel × signup-month cohort (and 'all'): users, KYC pass "
                                 "rate, first-transaction rate, default rate, spend, CAC, CLV gross and net of credit "
                                 "loss, LTV:CAC, risk-adjusted ROI, payback months (marts.channel_quality)."),
        dg.AssetSpec("channel_payback", group_name="marts", kinds={"duckdb", "polars"},
                     deps=["user_profile", "core_purchases", "stg_marketing_spend"],
                     description="One row per acquisition channel × months since signup: users old enough, "
                                 "cumulative revenue per user, CAC (marts.channel_payback)."),
    ],
)
def channel_quality_marts(warehouse: WarehouseResource):
    """Judge each acquisition channel by the users it brought: quality, value net of credit loss, payback."""
    with warehouse.connection() as conn:
        as_of = conn.sql("SELECT as_of FROM core.analysis_window").fetchone()[0]
        users = read_frame(conn, USERS_SQL)
        purchases = read_frame(conn, "SELECT user_id, txn_date, CAST(revenue AS DOUBLE) AS revenue FROM core.purchases")
        spend = read_frame(conn, "SELECT date, channel, CAST(spend AS DOUBLE) AS spend FROM staged.marketing_spend "
                                 "WHERE date <= (SELECT as_of FROM core.analysis_window)")
        payback = channel_payback(users, purchases, spend, as_of)
        quality = channel_quality(users, spend, payback)
        write_frame(conn, "marts.channel_payback", payback)
        write_frame(conn, "marts.channel_quality", quality)
    yield dg.MaterializeResult(asset_key="channel_quality", metadata={"dagster/row_count": quality.height})
    yield dg.MaterializeResult(asset_key="channel_payback", metadata={"dagster/row_count": payback.height})


channel_quality_assets = [channel_quality_marts]

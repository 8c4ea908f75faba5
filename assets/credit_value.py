"""Marts: expected credit loss from loan performance, and value net of it per user, segment and channel."""

import dagster as dg
import polars as pl

from assets.notes import replace_notes
from assets.resources import WarehouseResource
from value.credit_loss import CreditLossModel
from value.errors import ModelFitError
from warehouse import read_frame, write_frame

# Loan and user ids travel as 64-bit hashes (a tenth of the memory of tens of millions of strings);
# users are mapped back to their ids afterwards, and plain ids are used if two ids ever share a hash.
LOANS_SQL = ("SELECT loan_id, user_id, as_of, principal, days_past_due, charged_off_amount "
             "FROM staged.loan_performance")
HASHED_LOANS_SQL = ("SELECT hash(loan_id) AS loan_id, hash(user_id) AS user_id, as_of, principal, days_past_due, "
                    "charged_off_amount FROM staged.loan_performance")
HASH_COLLISIONS_SQL = """
SELECT count(DISTINCT loan_id) - count(DISTINCT hash(loan_id)) + count(DISTINCT user_id) - count(DISTINCT hash(user_id))
FROM staged.loan_performance
"""
USER_HASHES_SQL = "SELECT DISTINCT hash(user_id) AS user_hash, user_id FROM staged.loan_performance"
USER_CREDIT_SCHEMA = {"user_id": pl.String, "open_loans": pl.Int64, "outstanding": pl.Float64,
                      "expected_credit_loss": pl.Float64, "charged_off": pl.Float64}
# The groupings the value table is cut by; each is a column of marts.user_value.
VALUE_GROUPINGS = ("persona_name", "rfm_segment", "acquisition_channel", "lifecycle_stage")


@dg.multi_asset(
    group_name="marts",
    specs=[
        dg.AssetSpec("user_credit_loss", group_name="marts", deps=["stg_loan_performance", "analysis_window"],
                     kinds={"duckdb", "polars"},
                     description="One row per user with loans: open loans, outstanding principal, expected credit "
                                 "loss over the horizon and amounts already charged off (marts.user_credit_loss)."),
        dg.AssetSpec("credit_loss_model", group_name="marts", deps=["stg_loan_performance", "analysis_window"],
                     kinds={"duckdb"},
                     description="One row per parameter: charge-off probability per delinquency bucket and loss "
                                 "given default, learned from loan snapshots (marts.credit_loss_model)."),
    ],
)
def credit_loss(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    """Learn roll rates to charge-off from the loan snapshots up to the as-of date and score open loans."""
    notes: list[str] = []
    scores = pl.DataFrame(schema=USER_CREDIT_SCHEMA)
    parameters = pl.DataFrame(schema={"parameter": pl.String, "value": pl.Float64})
    with warehouse.connection() as conn:
        as_of = conn.sql("SELECT as_of FROM core.analysis_window").fetchone()[0]
        hashed = conn.sql(HASH_COLLISIONS_SQL).fetchone()[0] in (0, None)
        loans = read_frame(conn, HASHED_LOANS_SQL if hashed else LOANS_SQL)
        if loans.height == 0:
            notes.append("risk-adjusted value not computed: no loan performance (source `loan_performance` "
                         "absent or empty); value is shown gross of credit losses")
        else:
            try:
                model = CreditLossModel().fit(loans, as_of=as_of)
                scores = model.expected_loss(loans, as_of=as_of)
                if hashed:
                    users = read_frame(conn, USER_HASHES_SQL)
                    scores = (scores.rename({"user_id": "user_hash"}).join(users, on="user_hash", how="left")
                              .sort("user_id"))
                del loans
                scores = scores.select(list(USER_CREDIT_SCHEMA))
                if not any(model.pd_by_bucket_.values()):
                    notes.append(f"no charge-off seen within {model.horizon_days} days of any loan snapshot yet: "
                                 "expected credit loss is zero until history is longer")
                parameters = model.parameters_frame().with_columns(
                    pl.lit(model.horizon_days).alias("horizon_days"), pl.lit(model.snapshots_fitted_).alias("snapshots"))
            except ModelFitError as error:
                notes.append(f"risk-adjusted value not computed: {error}")
        for note in notes:
            context.log.warning(note)
        write_frame(conn, "marts.user_credit_loss", scores)
        write_frame(conn, "marts.credit_loss_model", parameters)
        replace_notes(conn, "credit_loss", notes)
    yield dg.MaterializeResult(asset_key="user_credit_loss", metadata={
        "dagster/row_count": scores.height,
        "expected_credit_loss_total": float(scores["expected_credit_loss"].sum() or 0.0)})
    yield dg.MaterializeResult(asset_key="credit_loss_model", metadata={
        "dagster/row_count": parameters.height,
        "parameters": dg.MetadataValue.json({p: round(v, 5) for p, v in parameters.select("parameter", "value").iter_rows()})})


@dg.multi_asset(
    group_name="marts",
    specs=[
        dg.AssetSpec("user_value", group_name="marts", deps=["user_clv", "user_credit_loss", "user_segment", "user_profile"],
                     kinds={"duckdb", "polars"},
                     description="One row per user: CLV, expected credit loss and risk-adjusted CLV, with the "
                                 "user's persona, RFM segment, acquisition channel and lifecycle stage (marts.user_value)."),
        dg.AssetSpec("value_by_group", group_name="marts", deps=["user_clv", "user_credit_loss", "user_segment", "user_profile"],
                     kinds={"duckdb"},
                     description="One row per grouping × group (persona, RFM segment, acquisition channel, lifecycle "
                                 "stage): users, P(alive), expected transactions, CLV, expected credit loss and "
                                 "risk-adjusted CLV (marts.value_by_group)."),
    ],
)
def value_by_group(warehouse: WarehouseResource):
    """Net each user's CLV of expected credit loss and total it by segment and acquisition channel."""
    with warehouse.connection() as conn:
        users = read_frame(conn, """
            SELECT p.user_id, s.persona_name, s.rfm_segment, p.acquisition_channel, p.lifecycle_stage,
                   c.p_alive, c.expected_txns, c.clv, coalesce(l.expected_credit_loss, 0.0) AS expected_credit_loss
            FROM marts.user_profile p
            JOIN marts.user_clv c USING (user_id)
            LEFT JOIN marts.user_segment s USING (user_id)
            LEFT JOIN marts.user_credit_loss l USING (user_id)
            ORDER BY p.user_id
        """).with_columns((pl.col("clv") - pl.col("expected_credit_loss")).alias("risk_adjusted_clv"))
        groups = pl.concat([
            users.group_by(pl.col(grouping).fill_null("(unknown)").alias("group")).agg(
                pl.len().alias("users"),
                pl.col("p_alive").mean().alias("mean_p_alive"),
                pl.col("expected_txns").sum().alias("expected_txns"),
                pl.col("clv").sum().alias("clv"),
                pl.col("clv").mean().alias("mean_clv"),
                pl.col("expected_credit_loss").sum().alias("expected_credit_loss"),
                pl.col("risk_adjusted_clv").sum().alias("risk_adjusted_clv"),
                pl.col("risk_adjusted_clv").mean().alias("mean_risk_adjusted_clv"),
            ).with_columns(pl.lit(grouping).alias("grouping"))
            for grouping in VALUE_GROUPINGS
        ]).select("grouping", "group", pl.exclude("grouping", "group")).sort("grouping", "group")
        write_frame(conn, "marts.user_value", users)
        write_frame(conn, "marts.value_by_group", groups)
    yield dg.MaterializeResult(asset_key="user_value", metadata={
        "dagster/row_count": users.height,
        "risk_adjusted_clv_total": float(users["risk_adjusted_clv"].sum() or 0.0)})
    yield dg.MaterializeResult(asset_key="value_by_group", metadata={"dagster/row_count": groups.height})


credit_value_assets = [credit_loss, value_by_group]

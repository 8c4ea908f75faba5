"""Marts: expected credit loss from loan performance, and value net of it per user, segment and channel."""

import dagster as dg

from assets.resources import WarehouseResource
from assets.tables import ForeignKey, MoneyTotal, WarehouseTable, materialized, table_asset
from value.credit_loss import score_credit_loss
from value.user_value import risk_adjusted, value_by_group as group_value
from warehouse import load_query, read_frame, write_frame

USER_CREDIT_LOSS = WarehouseTable(
    key="user_credit_loss", table="marts.user_credit_loss", group="marts", kinds=frozenset({"duckdb", "polars"}),
    deps=("stg_loan_performance", "analysis_window"),
    grain="One row per user with loans: open loans, outstanding principal, expected credit loss over the horizon and "
          "amounts already charged off",
    detail="Roll rates to charge-off are learned from the loan snapshots up to the as-of date (`value/credit_loss.py`).",
    primary_key=("user_id",), foreign_keys=(ForeignKey(("user_id",), "staged.users"),))
CREDIT_LOSS_MODEL = WarehouseTable(
    key="credit_loss_model", table="marts.credit_loss_model", group="marts",
    deps=("stg_loan_performance", "analysis_window"),
    grain="One row per parameter: charge-off probability per delinquency bucket and loss given default",
    primary_key=("parameter",))


@table_asset(USER_CREDIT_LOSS, CREDIT_LOSS_MODEL, name="credit_loss")
def credit_loss(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    with warehouse.connection() as conn:
        as_of = conn.sql("SELECT as_of FROM core.analysis_window").fetchone()[0]
        # Ids travel as 64-bit hashes unless two ids share one.
        hashed = conn.sql(load_query("value", "loan_hash_collisions")).fetchone()[0] in (0, None)
        scores = score_credit_loss(
            read_frame(conn, load_query("value", "hashed_loans" if hashed else "loans")), as_of,
            read_frame(conn, load_query("value", "loan_user_hashes")) if hashed else None)
        for note in scores.notes:
            context.log.warning(note)
        write_frame(conn, USER_CREDIT_LOSS.table, scores.users)
        write_frame(conn, CREDIT_LOSS_MODEL.table, scores.parameters)
        yield materialized(conn, USER_CREDIT_LOSS, scores.users.height, notes=scores.notes,
                           expected_credit_loss_total=float(scores.users["expected_credit_loss"].sum() or 0.0))
        yield materialized(conn, CREDIT_LOSS_MODEL, scores.parameters.height, notes=scores.notes,
                           parameters=dg.MetadataValue.json(
                               {p: round(v, 5) for p, v in scores.parameters.select("parameter", "value").iter_rows()}))


VALUE_INPUTS = ("user_clv", "user_credit_loss", "user_segment", "user_profile")
USER_VALUE = WarehouseTable(
    key="user_value", table="marts.user_value", group="marts", kinds=frozenset({"duckdb", "polars"}), deps=VALUE_INPUTS,
    grain="One row per user: CLV, expected credit loss and risk-adjusted CLV, with the user's persona, RFM segment, "
          "acquisition channel and lifecycle stage",
    primary_key=("user_id",), foreign_keys=(ForeignKey(("user_id",), "marts.user_profile"),),
    # CLV sums of floating-point values: equal to well within a cent.
    money=(MoneyTotal("clv", "marts.user_clv", "clv", on=("user_id",), tolerance=0.01),
           MoneyTotal("expected_credit_loss", "marts.user_credit_loss", "expected_credit_loss", on=("user_id",),
                      tolerance=0.01)))
VALUE_BY_GROUP = WarehouseTable(
    key="value_by_group", table="marts.value_by_group", group="marts", deps=VALUE_INPUTS,
    grain="One row per grouping × group (persona, RFM segment, acquisition channel, lifecycle stage): users, "
          "P(alive), expected transactions, CLV, expected credit loss and risk-adjusted CLV",
    primary_key=("grouping", "group"),
    # Each grouping splits every user once, so each adds up to the users' total.
    money=(MoneyTotal("clv", "marts.user_value", "clv", per=("grouping",), tolerance=0.01),
           MoneyTotal("risk_adjusted_clv", "marts.user_value", "risk_adjusted_clv", per=("grouping",), tolerance=0.01)))


@table_asset(USER_VALUE, VALUE_BY_GROUP, name="value_by_group")
def value_by_group(warehouse: WarehouseResource):
    with warehouse.connection() as conn:
        users = risk_adjusted(read_frame(conn, load_query("value", "user_value")))
        groups = group_value(users)
        write_frame(conn, USER_VALUE.table, users)
        write_frame(conn, VALUE_BY_GROUP.table, groups)
        yield materialized(conn, USER_VALUE, users.height,
                           risk_adjusted_clv_total=float(users["risk_adjusted_clv"].sum() or 0.0))
        yield materialized(conn, VALUE_BY_GROUP, groups.height)


CREDIT_VALUE_TABLES = [USER_CREDIT_LOSS, CREDIT_LOSS_MODEL, USER_VALUE, VALUE_BY_GROUP]
credit_value_assets = [credit_loss, value_by_group]

"""Marts: lifetime value (BG/NBD, Pareto/NBD, MBG/NBD + Gamma-Gamma), its holdout check, and cohort retention."""

import dagster as dg
import polars as pl

from assets.resources import AnalysisResource, WarehouseResource
from assets.tables import ForeignKey, WarehouseTable, materialized, table_asset
from value.lifetime import check_holdout, fit_lifetime_value
from value.retention import cohort_retention_by_basis
from warehouse import load_query, read_frame, write_frame

CLV_MODEL = WarehouseTable(
    key="clv_model", table="marts.clv_model", group="marts", deps=("core_purchases", "user_profile"),
    kinds=frozenset({"duckdb", "scipy"}),
    grain="One row per model parameter: BG/NBD (r, alpha, a, b), Pareto/NBD (r, alpha, s, beta), MBG/NBD and "
          "Gamma-Gamma (p, q, v)",
    detail="Fitted by maximum likelihood, time in weeks, with `chosen` and the value basis. The best transaction "
           "model by log-likelihood scores the users; the value is the company's revenue per transaction when the "
           "source records it, else the amount paid (`value/lifetime.py`).",
    primary_key=("model", "parameter"))
CLV_MODEL_SELECTION = WarehouseTable(
    key="clv_model_selection", table="marts.clv_model_selection", group="marts",
    deps=("core_purchases", "user_profile"),
    grain="One row per candidate transaction model: log-likelihood, AIC, whether it converged and was chosen",
    primary_key=("model",))
USER_CLV = WarehouseTable(
    key="user_clv", table="marts.user_clv", group="marts", deps=("core_purchases", "user_profile"),
    grain="One row per profiled user: P(alive), expected transactions, expected value per transaction and CLV over "
          "the horizon, from the chosen model",
    primary_key=("user_id",), foreign_keys=(ForeignKey(("user_id",), "marts.user_profile"),))


@table_asset(CLV_MODEL, CLV_MODEL_SELECTION, USER_CLV, name="lifetime_value")
def lifetime_value(context: dg.AssetExecutionContext, analysis: AnalysisResource, warehouse: WarehouseResource):
    with warehouse.connection() as conn:
        as_of = conn.sql("SELECT as_of FROM core.analysis_window").fetchone()[0]
        basis = conn.sql(load_query("value", "value_basis")).fetchone()[0]
        purchases = read_frame(conn, f"SELECT user_id, txn_date, CAST({basis} AS DOUBLE) AS amount FROM core.purchases")
        users = read_frame(conn, "SELECT user_id FROM marts.user_profile")
        fit = fit_lifetime_value(purchases, users, as_of, analysis.clv_horizon_days, basis)
        for note in fit.notes:
            context.log.warning(note)
        write_frame(conn, CLV_MODEL.table, fit.parameters)
        write_frame(conn, CLV_MODEL_SELECTION.table, fit.candidates)
        write_frame(conn, USER_CLV.table, fit.user_clv)
        fitted = {f"{m}.{p}": round(v, 4) for m, p, v in fit.parameters.select("model", "parameter", "value").iter_rows()}
        yield materialized(conn, CLV_MODEL, fit.parameters.height, notes=fit.notes,
                           parameters=dg.MetadataValue.json(fitted), customers=fit.customers)
        yield materialized(conn, CLV_MODEL_SELECTION, fit.candidates.height, notes=fit.notes,
                           chosen=", ".join(fit.candidates.filter(pl.col("chosen"))["model"].to_list()))
        yield materialized(conn, USER_CLV, fit.user_clv.height, notes=fit.notes,
                           mean_clv=float(fit.user_clv["clv"].mean() or 0.0), horizon_days=analysis.clv_horizon_days)


CLV_HOLDOUT_TRACKING = WarehouseTable(
    key="clv_holdout_tracking", table="marts.clv_holdout_tracking", group="marts",
    deps=("core_purchases", "clv_model_selection"),
    grain="One row per holdout week: cumulative repeat transactions actual vs predicted by the chosen model "
          "refitted on the calibration period",
    detail="The holdout is the last `holdout_weeks` weeks before the as-of date (default: half the history, at most "
           "39 weeks, as in the BG/NBD paper); fewer than 4 holdout weeks is too little to judge and is noted.",
    primary_key=("week",))
CLV_HOLDOUT_BY_FREQUENCY = WarehouseTable(
    key="clv_holdout_by_frequency", table="marts.clv_holdout_by_frequency", group="marts",
    deps=("core_purchases", "clv_model_selection"),
    grain="One row per calibration-frequency bucket: users, mean actual and predicted holdout transactions",
    primary_key=("frequency_bucket",))


@table_asset(CLV_HOLDOUT_TRACKING, CLV_HOLDOUT_BY_FREQUENCY, name="clv_holdout_check")
def clv_holdout_check(context: dg.AssetExecutionContext, analysis: AnalysisResource, warehouse: WarehouseResource):
    with warehouse.connection() as conn:
        as_of = conn.sql("SELECT as_of FROM core.analysis_window").fetchone()[0]
        chosen = conn.sql("SELECT model FROM marts.clv_model_selection WHERE chosen").fetchone()
        purchases = read_frame(conn, "SELECT user_id, txn_date, CAST(amount AS DOUBLE) AS amount FROM core.purchases")
        check = check_holdout(purchases, chosen[0] if chosen else None, as_of, analysis.holdout_weeks)
        if check.summary:
            context.log.info(check.summary)
        for note in check.notes:
            context.log.warning(note)
        write_frame(conn, CLV_HOLDOUT_TRACKING.table, check.tracking)
        write_frame(conn, CLV_HOLDOUT_BY_FREQUENCY.table, check.by_frequency)
        totals = {}
        if check.tracking.height:
            totals = {"actual_holdout": float(check.tracking["actual_holdout"][-1]),
                      "predicted_holdout": float(check.tracking["predicted_holdout"][-1])}
        yield materialized(conn, CLV_HOLDOUT_TRACKING, check.tracking.height, notes=check.notes, **totals)
        yield materialized(conn, CLV_HOLDOUT_BY_FREQUENCY, check.by_frequency.height, notes=check.notes)


COHORT_RETENTION = WarehouseTable(
    key="cohort_retention", table="marts.cohort_retention", group="marts", kinds=frozenset({"duckdb", "polars"}),
    deps=("core_purchases", "user_profile"),
    grain="One row per cohort basis × cohort month × months since: users, retained purchasers, user and revenue "
          "retention",
    detail="Two bases: `signup` (the month a user signed up) and `first_transaction` (the month of their first "
           "purchase). Revenue retention is revenue in the period over the cohort's revenue in its first month.",
    primary_key=("cohort_basis", "cohort", "period"))


@table_asset(COHORT_RETENTION)
def cohort_retention(warehouse: WarehouseResource):
    with warehouse.connection() as conn:
        as_of = conn.sql("SELECT as_of FROM core.analysis_window").fetchone()[0]
        cohorts = {
            "signup": read_frame(conn, "SELECT user_id, CAST(signup_at AS DATE) AS cohort_date FROM marts.user_profile"),
            "first_transaction": read_frame(conn, "SELECT user_id, min(txn_date) AS cohort_date FROM core.purchases "
                                                  "SEMI JOIN marts.user_profile USING (user_id) GROUP BY user_id"),
        }
        purchases = read_frame(conn, "SELECT user_id, txn_date, CAST(revenue AS DOUBLE) AS revenue FROM core.purchases")
        table = cohort_retention_by_basis(cohorts, purchases, as_of)
        rows = write_frame(conn, COHORT_RETENTION.table, table)
        return materialized(conn, COHORT_RETENTION, rows,
                            cohorts=table.filter(pl.col("cohort_basis") == "signup")["cohort"].n_unique())


VALUE_TABLES = [CLV_MODEL, CLV_MODEL_SELECTION, USER_CLV, CLV_HOLDOUT_TRACKING, CLV_HOLDOUT_BY_FREQUENCY,
                COHORT_RETENTION]
value_assets = [lifetime_value, clv_holdout_check, cohort_retention]

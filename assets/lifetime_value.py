"""Marts: lifetime value (BG/NBD + Gamma-Gamma) and cohort retention."""

import warnings

import dagster as dg
import polars as pl

from assets.notes import replace_notes
from assets.resources import AnalysisResource, WarehouseResource
from value.bgnbd import BetaGeoModel
from value.clv import customer_lifetime_value, model_parameters_frame
from value.errors import ModelFitError
from value.gamma_gamma import GammaGammaModel
from value.shrunk_mean_spend import ShrunkMeanSpendModel
from value.retention import cohort_retention as build_cohort_retention
from value.summary import rfm_summary
from warehouse import read_frame, write_frame

WEEK_DAYS = 7.0


@dg.multi_asset(
    group_name="marts",
    specs=[
        dg.AssetSpec("clv_model", group_name="marts", deps=["core_purchases", "user_profile"], kinds={"duckdb", "scipy"},
                     description="One row per model parameter: BG/NBD (r, alpha, a, b) and Gamma-Gamma (p, q, v) "
                                 "fitted by maximum likelihood, time in weeks, with the value basis "
                                 "(revenue, or amount when the source has no revenue) (marts.clv_model)."),
        dg.AssetSpec("user_clv", group_name="marts", deps=["core_purchases", "user_profile"], kinds={"duckdb"},
                     description="One row per profiled user: P(alive), expected transactions, expected value per "
                                 "transaction and CLV over the horizon (marts.user_clv)."),
    ],
)
def lifetime_value(context: dg.AssetExecutionContext, analysis: AnalysisResource, warehouse: WarehouseResource):
    """Fit the transaction and spend models on purchases up to the as-of date and score every user.

    Value is the company's revenue per transaction when the source records it, else the amount paid.
    When spend is too heavy-tailed for Gamma-Gamma (q <= 1), a shrunk-mean spend model stands in and
    the run says so.
    """
    notes: list[str] = []
    with warehouse.connection() as conn:
        as_of = conn.sql("SELECT as_of FROM core.analysis_window").fetchone()[0]
        has_revenue = conn.sql("SELECT count(revenue) > 0 FROM staged.transactions").fetchone()[0]
        value_basis = "revenue" if has_revenue else "amount"
        purchases = read_frame(
            conn, f"SELECT user_id, txn_date, CAST({value_basis} AS DOUBLE) AS amount FROM core.purchases")
        users = read_frame(conn, "SELECT user_id FROM marts.user_profile")
        summary = rfm_summary(purchases, observation_end=as_of, time_unit_days=WEEK_DAYS)
        horizon_units = analysis.clv_horizon_days / WEEK_DAYS
        parameters = pl.DataFrame(schema={"model": pl.String, "parameter": pl.String, "value": pl.Float64,
                                          "log_likelihood": pl.Float64, "customers": pl.Int64,
                                          "time_unit": pl.String, "converged": pl.Boolean,
                                          "value_basis": pl.String})
        scores = pl.DataFrame(schema={"user_id": pl.String, "p_alive": pl.Float64, "expected_txns": pl.Float64,
                                      "expected_value": pl.Float64, "clv": pl.Float64})
        try:
            transactions_model, spend_model = _fit_models(summary, value_basis, notes)
            parameters = model_parameters_frame(transactions_model, spend_model, WEEK_DAYS).with_columns(
                pl.lit(value_basis).alias("value_basis"))
            scores = customer_lifetime_value(transactions_model, spend_model, summary, horizon_units)
        except ModelFitError as error:
            notes.append(f"lifetime value not computed: {error}")
        for note in notes:
            context.log.warning(note)
        user_clv = (
            users.join(scores, on="user_id", how="left")
            .with_columns(
                pl.col("expected_txns").fill_null(0.0),
                pl.col("clv").fill_null(0.0),
                pl.lit(analysis.clv_horizon_days).alias("horizon_days"),
            )
            .sort("user_id")
        )
        write_frame(conn, "marts.clv_model", parameters)
        write_frame(conn, "marts.user_clv", user_clv)
        replace_notes(conn, "lifetime_value", notes)
    fitted = {f"{m}.{p}": round(v, 4) for m, p, v in parameters.select("model", "parameter", "value").iter_rows()}
    yield dg.MaterializeResult(asset_key="clv_model", metadata={
        "dagster/row_count": parameters.height, "parameters": dg.MetadataValue.json(fitted),
        "customers": summary.height})
    yield dg.MaterializeResult(asset_key="user_clv", metadata={
        "dagster/row_count": user_clv.height, "mean_clv": float(user_clv["clv"].mean() or 0.0),
        "horizon_days": analysis.clv_horizon_days})


def _fit_models(summary: pl.DataFrame, value_basis: str, notes: list[str]):
    """BG/NBD, then Gamma-Gamma or its fallback; convergence warnings and the fallback go into `notes`."""
    with warnings.catch_warnings(record=True) as fit_warnings:
        warnings.simplefilter("always", RuntimeWarning)
        transactions_model = BetaGeoModel().fit(summary["frequency"], summary["recency"], summary["T"])
    notes.extend(str(w.message) for w in fit_warnings if issubclass(w.category, RuntimeWarning))
    repeat = summary.filter((pl.col("frequency") > 0) & (pl.col("monetary_value") > 0))
    try:
        spend_model = GammaGammaModel().fit(repeat["frequency"], repeat["monetary_value"])
    except ModelFitError as error:
        spend_model = ShrunkMeanSpendModel().fit(repeat["frequency"], repeat["monetary_value"])
        notes.append(f"{error}; value per transaction uses each user's mean {value_basis} shrunk towards "
                     f"the population mean ({spend_model.params_['population_mean']:.2f}) instead")
    return transactions_model, spend_model


@dg.asset(group_name="marts", kinds={"duckdb", "polars"}, deps=["core_purchases", "user_profile"])
def cohort_retention(warehouse: WarehouseResource) -> dg.MaterializeResult:
    """One row per cohort basis × cohort month × months since: users, retained purchasers, user and revenue retention (marts.cohort_retention).

    Two bases: `signup` (the month a user signed up) and `first_transaction` (the month of their first
    purchase). Revenue retention is revenue in the period over the cohort's revenue in its first month.
    """
    with warehouse.connection() as conn:
        as_of = conn.sql("SELECT as_of FROM core.analysis_window").fetchone()[0]
        signups = read_frame(conn, "SELECT user_id, CAST(signup_at AS DATE) AS cohort_date FROM marts.user_profile")
        first_purchases = read_frame(conn, "SELECT user_id, min(txn_date) AS cohort_date FROM core.purchases "
                                           "WHERE user_id IN (SELECT user_id FROM marts.user_profile) GROUP BY user_id")
        purchases = read_frame(conn, "SELECT user_id, txn_date, CAST(revenue AS DOUBLE) AS revenue FROM core.purchases")
        table = pl.concat([
            build_cohort_retention(cohorts, purchases, as_of, period="month").select(
                pl.lit(basis).alias("cohort_basis"), pl.all())
            for basis, cohorts in (("signup", signups), ("first_transaction", first_purchases))
        ])
        rows = write_frame(conn, "marts.cohort_retention", table)
    return dg.MaterializeResult(metadata={"dagster/row_count": rows,
                                          "cohorts": table.filter(pl.col("cohort_basis") == "signup")["cohort"].n_unique()})


value_assets = [lifetime_value, cohort_retention]

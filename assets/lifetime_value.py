"""Marts: lifetime value (BG/NBD, Pareto/NBD, MBG/NBD + Gamma-Gamma), its holdout check, and cohort retention."""

import warnings
from datetime import timedelta

import dagster as dg
import polars as pl

from assets.notes import replace_notes
from assets.resources import AnalysisResource, WarehouseResource
from value.clv import PARAMETERS_SCHEMA, customer_lifetime_value, parameters_frame
from value.errors import ModelFitError
from value.gamma_gamma import GammaGammaModel
from value.holdout import calibration_holdout_split, holdout_by_frequency, holdout_cumulative
from value.model_selection import CANDIDATES_SCHEMA, default_candidates, select_transaction_model
from value.retention import cohort_retention as build_cohort_retention
from value.shrunk_mean_spend import ShrunkMeanSpendModel
from value.summary import rfm_summary
from warehouse import read_frame, write_frame

WEEK_DAYS = 7.0


@dg.multi_asset(
    group_name="marts",
    specs=[
        dg.AssetSpec("clv_model", group_name="marts", deps=["core_purchases", "user_profile"], kinds={"duckdb", "scipy"},
                     description="One row per model parameter: BG/NBD (r, alpha, a, b), Pareto/NBD (r, alpha, s, "
                                 "beta), MBG/NBD and Gamma-Gamma (p, q, v) fitted by maximum likelihood, time in "
                                 "weeks, with `chosen` and the value basis (marts.clv_model)."),
        dg.AssetSpec("clv_model_selection", group_name="marts", deps=["core_purchases", "user_profile"],
                     kinds={"duckdb"},
                     description="One row per candidate transaction model: log-likelihood, AIC, whether it "
                                 "converged and whether it was chosen (marts.clv_model_selection)."),
        dg.AssetSpec("user_clv", group_name="marts", deps=["core_purchases", "user_profile"], kinds={"duckdb"},
                     description="One row per profiled user: P(alive), expected transactions, expected value per "
                                 "transaction and CLV over the horizon, from the chosen model (marts.user_clv)."),
    ],
)
def lifetime_value(context: dg.AssetExecutionContext, analysis: AnalysisResource, warehouse: WarehouseResource):
    """Fit the transaction models and the spend model on purchases up to the as-of date and score every user.

    BG/NBD, Pareto/NBD and MBG/NBD are all fitted; the best by log-likelihood scores the users. Value is the
    company's revenue per transaction when the source records it, else the amount paid. When spend is too
    heavy-tailed for Gamma-Gamma (q <= 1), a shrunk-mean spend model stands in and the run says so.
    """
    notes: list[str] = []
    with warehouse.connection() as conn:
        as_of = conn.sql("SELECT as_of FROM core.analysis_window").fetchone()[0]
        value_basis = _value_basis(conn)
        purchases = read_frame(
            conn, f"SELECT user_id, txn_date, CAST({value_basis} AS DOUBLE) AS amount FROM core.purchases")
        users = read_frame(conn, "SELECT user_id FROM marts.user_profile")
        summary = rfm_summary(purchases, observation_end=as_of, time_unit_days=WEEK_DAYS)
        horizon_units = analysis.clv_horizon_days / WEEK_DAYS
        parameters = pl.DataFrame(schema={**PARAMETERS_SCHEMA, "chosen": pl.Boolean, "value_basis": pl.String})
        candidates = pl.DataFrame(schema=CANDIDATES_SCHEMA)
        scores = pl.DataFrame(schema={"user_id": pl.String, "p_alive": pl.Float64, "expected_txns": pl.Float64,
                                      "expected_value": pl.Float64, "clv": pl.Float64})
        try:
            selection = _select_model(summary, notes)
            candidates = selection.candidates
            spend_model = _fit_spend_model(summary, value_basis, notes)
            parameters = parameters_frame([*selection.fitted.values(), spend_model], WEEK_DAYS).with_columns(
                pl.col("model").is_in([selection.model.name, spend_model.name]).alias("chosen"),
                pl.lit(value_basis).alias("value_basis"))
            scores = customer_lifetime_value(selection.model, spend_model, summary, horizon_units)
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
        write_frame(conn, "marts.clv_model_selection", candidates)
        write_frame(conn, "marts.user_clv", user_clv)
        replace_notes(conn, "lifetime_value", notes)
    fitted = {f"{m}.{p}": round(v, 4) for m, p, v in parameters.select("model", "parameter", "value").iter_rows()}
    yield dg.MaterializeResult(asset_key="clv_model", metadata={
        "dagster/row_count": parameters.height, "parameters": dg.MetadataValue.json(fitted),
        "customers": summary.height})
    yield dg.MaterializeResult(asset_key="clv_model_selection", metadata={
        "dagster/row_count": candidates.height,
        "chosen": ", ".join(candidates.filter(pl.col("chosen"))["model"].to_list())})
    yield dg.MaterializeResult(asset_key="user_clv", metadata={
        "dagster/row_count": user_clv.height, "mean_clv": float(user_clv["clv"].mean() or 0.0),
        "horizon_days": analysis.clv_horizon_days})


def _value_basis(conn) -> str:
    has_revenue = conn.sql("SELECT count(revenue) > 0 FROM staged.transactions").fetchone()[0]
    return "revenue" if has_revenue else "amount"


def _select_model(summary: pl.DataFrame, notes: list[str]):
    """Every transaction model, the best by likelihood chosen; convergence warnings go into `notes`."""
    with warnings.catch_warnings(record=True) as fit_warnings:
        warnings.simplefilter("always", RuntimeWarning)
        selection = select_transaction_model(summary)
    notes.extend(str(w.message) for w in fit_warnings if issubclass(w.category, RuntimeWarning))
    notes.extend(f"{name} not fitted: {error}" for name, error in
                 selection.candidates.filter(pl.col("error").is_not_null()).select("model", "error").iter_rows())
    return selection


def _fit_spend_model(summary: pl.DataFrame, value_basis: str, notes: list[str]):
    """Gamma-Gamma, or the shrunk-mean fallback when spend is too heavy-tailed (noted)."""
    repeat = summary.filter((pl.col("frequency") > 0) & (pl.col("monetary_value") > 0))
    try:
        return GammaGammaModel().fit(repeat["frequency"], repeat["monetary_value"])
    except ModelFitError as error:
        spend_model = ShrunkMeanSpendModel().fit(repeat["frequency"], repeat["monetary_value"])
        notes.append(f"{error}; value per transaction uses each user's mean {value_basis} shrunk towards "
                     f"the population mean ({spend_model.params_['population_mean']:.2f}) instead")
        return spend_model


@dg.multi_asset(
    group_name="marts",
    specs=[
        dg.AssetSpec("clv_holdout_tracking", group_name="marts", deps=["core_purchases", "clv_model_selection"],
                     kinds={"duckdb"},
                     description="One row per holdout week: cumulative repeat transactions actual vs predicted by "
                                 "the chosen model refitted on the calibration period (marts.clv_holdout_tracking)."),
        dg.AssetSpec("clv_holdout_by_frequency", group_name="marts", deps=["core_purchases", "clv_model_selection"],
                     kinds={"duckdb"},
                     description="One row per calibration-frequency bucket: users, mean actual and predicted "
                                 "holdout transactions (marts.clv_holdout_by_frequency)."),
    ],
)
def clv_holdout_check(context: dg.AssetExecutionContext, analysis: AnalysisResource, warehouse: WarehouseResource):
    """Refit the chosen transaction model on the earlier part of history and compare its predictions with the rest.

    The holdout is the last `holdout_weeks` weeks before the as-of date (default: half the history, at most
    39 weeks, as in the BG/NBD paper); fewer than 4 holdout weeks is too little to judge and is noted.
    """
    notes: list[str] = []
    tracking = pl.DataFrame(schema=HOLDOUT_TRACKING_SCHEMA)
    by_frequency = pl.DataFrame(schema=HOLDOUT_FREQUENCY_SCHEMA)
    with warehouse.connection() as conn:
        as_of, first_day = conn.sql(
            "SELECT w.as_of, (SELECT min(txn_date) FROM core.purchases) FROM core.analysis_window w").fetchone()
        chosen = conn.sql("SELECT model FROM marts.clv_model_selection WHERE chosen").fetchone()
        purchases = read_frame(conn, "SELECT user_id, txn_date, CAST(amount AS DOUBLE) AS amount FROM core.purchases")
        history_weeks = (as_of - first_day).days // 7 if first_day else 0
        holdout_weeks = analysis.holdout_weeks or min(39, history_weeks // 2)
        if chosen is None:
            notes.append("holdout check not run: no transaction model was fitted")
        elif holdout_weeks < 4:
            notes.append(f"holdout check not run: {history_weeks} week(s) of history leave less than 4 weeks to hold out")
        else:
            calibration_end = as_of - timedelta(weeks=holdout_weeks)
            split = calibration_holdout_split(purchases, calibration_end, as_of, time_unit_days=WEEK_DAYS)
            model = next(m for m in default_candidates() if m.name == chosen[0])
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    model.fit(split.frame["frequency"], split.frame["recency"], split.frame["T"])
                tracking = holdout_cumulative(model, split, purchases).select(
                    pl.col("period").alias("week"), "period_end", "actual_cumulative", "predicted_cumulative",
                    "actual_holdout", "predicted_holdout", pl.lit(model.name).alias("model"))
                by_frequency = holdout_by_frequency(model, split).with_columns(pl.lit(model.name).alias("model"))
                context.log.info(
                    f"holdout check ({model.name}, calibration to {calibration_end}, {holdout_weeks} weeks held out): "
                    f"actual {tracking['actual_holdout'][-1]:,.0f} vs predicted {tracking['predicted_holdout'][-1]:,.0f}")
            except ModelFitError as error:
                notes.append(f"holdout check not run: {error}")
        for note in notes:
            context.log.warning(note)
        write_frame(conn, "marts.clv_holdout_tracking", tracking)
        write_frame(conn, "marts.clv_holdout_by_frequency", by_frequency)
        replace_notes(conn, "clv_holdout_check", notes)
    totals = {}
    if tracking.height:
        totals = {"actual_holdout": float(tracking["actual_holdout"][-1]),
                  "predicted_holdout": float(tracking["predicted_holdout"][-1])}
    yield dg.MaterializeResult(asset_key="clv_holdout_tracking",
                               metadata={"dagster/row_count": tracking.height, **totals})
    yield dg.MaterializeResult(asset_key="clv_holdout_by_frequency",
                               metadata={"dagster/row_count": by_frequency.height})


HOLDOUT_TRACKING_SCHEMA = {"week": pl.Int64, "period_end": pl.Date, "actual_cumulative": pl.Float64,
                           "predicted_cumulative": pl.Float64, "actual_holdout": pl.Float64,
                           "predicted_holdout": pl.Float64, "model": pl.String}
HOLDOUT_FREQUENCY_SCHEMA = {"frequency_bucket": pl.String, "min_frequency": pl.Int64, "users": pl.Int64,
                            "actual_mean": pl.Float64, "predicted_mean": pl.Float64, "actual_total": pl.Float64,
                            "predicted_total": pl.Float64, "model": pl.String}


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


value_assets = [lifetime_value, clv_holdout_check, cohort_retention]

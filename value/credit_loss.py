"""Expected credit loss from loan performance snapshots, for value net of credit risk.

The model is the transparent one a credit team would recognise: probability of charge-off within a
horizon by delinquency bucket, learned from the snapshots themselves (roll rates to charge-off), times
loss given default, times the outstanding principal. Snapshots too recent to have a full horizon of
follow-up are left out of the fit, so right-censored loans do not look safer than they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl

from value.errors import ModelFitError

# Delinquency buckets by days past due, as in most collections reporting.
BUCKET_EDGES = (1, 30, 60, 90)
BUCKET_LABELS = ("current", "dpd_1_29", "dpd_30_59", "dpd_60_89", "dpd_90_plus")

LOAN_COLUMNS = ("loan_id", "user_id", "as_of", "principal", "days_past_due", "charged_off_amount")


def delinquency_bucket(days_past_due: pl.Expr) -> pl.Expr:
    """Bucket label for a days-past-due column (missing counts as current)."""
    return days_past_due.fill_null(0).cut(list(BUCKET_EDGES), labels=list(BUCKET_LABELS), left_closed=True).cast(pl.String)


class CreditLossModel:
    """Charge-off probability by delinquency bucket and loss given default.

    Args:
        horizon_days: how far ahead a charge-off counts as the outcome of a snapshot.
        prior_loans: pseudo-observations pulling a sparse bucket towards the overall charge-off rate.

    Attributes:
        pd_by_bucket_: dict bucket -> probability of charge-off within the horizon.
        lgd_: loss given default, charged-off amount over principal at charge-off (1.0 when no charge-off seen).
        snapshots_fitted_: snapshots with a full horizon of follow-up that the rates were learned on.
        data_end_: the last snapshot date seen.
    """

    def __init__(self, horizon_days: int = 90, prior_loans: float = 20.0) -> None:
        self.horizon_days = horizon_days
        self.prior_loans = prior_loans

    def fit(self, loans: pl.DataFrame, as_of: date | None = None) -> CreditLossModel:
        """Learn from snapshots up to `as_of` (default: all). `loans` has the LOAN_COLUMNS."""
        if self.horizon_days <= 0 or self.prior_loans < 0:
            raise ValueError("horizon_days must be positive and prior_loans non-negative")
        snapshots = _normalised(loans, as_of)
        if snapshots.height == 0:
            raise ModelFitError("credit loss: no loan performance snapshots up to the as-of date")
        self.data_end_ = snapshots["as_of"].max()
        first_charge_off = (
            snapshots.filter(pl.col("charged_off_amount") > 0)
            .group_by("loan_id")
            .agg(pl.col("as_of").min().alias("charged_off_on"))
        )
        open_snapshots = (
            snapshots.join(first_charge_off, on="loan_id", how="left")
            .filter(pl.col("charged_off_on").is_null() | (pl.col("as_of") < pl.col("charged_off_on")))
            .filter(pl.col("as_of") + timedelta(days=self.horizon_days) <= self.data_end_)
            .with_columns(
                (pl.col("charged_off_on").is_not_null()
                 & (pl.col("charged_off_on") <= pl.col("as_of") + timedelta(days=self.horizon_days)))
                .alias("charged_off_within_horizon"),
                delinquency_bucket(pl.col("days_past_due")).alias("bucket"),
            )
        )
        self.snapshots_fitted_ = open_snapshots.height
        if self.snapshots_fitted_ == 0:
            raise ModelFitError(
                f"credit loss: no loan snapshot has {self.horizon_days} days of follow-up yet (snapshots from "
                f"{snapshots['as_of'].min()} to {self.data_end_}), so charge-off rates cannot be learned")
        overall = float(open_snapshots["charged_off_within_horizon"].mean() or 0.0) if open_snapshots.height else 0.0
        rates = open_snapshots.group_by("bucket").agg(
            pl.col("charged_off_within_horizon").sum().alias("events"), pl.len().alias("n"))
        observed = {bucket: (events, n) for bucket, events, n in rates.iter_rows()}
        self.pd_by_bucket_ = {}
        for bucket in BUCKET_LABELS:
            events, n = observed.get(bucket, (0, 0))
            weight = n + self.prior_loans
            estimate = (events + self.prior_loans * overall) / weight if weight else overall
            # Deeper delinquency never makes charge-off less likely; sparse deep buckets would otherwise
            # be pulled below their neighbours by the prior.
            self.pd_by_bucket_[bucket] = max([estimate, *self.pd_by_bucket_.values()])
        self.lgd_ = _loss_given_default(snapshots, first_charge_off)
        return self

    def expected_loss(self, loans: pl.DataFrame, as_of: date | None = None) -> pl.DataFrame:
        """One row per user with an open loan at `as_of`: outstanding principal and expected credit loss.

        Columns: user_id, open_loans, outstanding, expected_credit_loss (Float64), charged_off (Float64,
        amounts already written off up to `as_of`).
        """
        if not hasattr(self, "pd_by_bucket_"):
            raise RuntimeError("CreditLossModel is not fitted; call fit() first")
        snapshots = _normalised(loans, as_of)
        # Each loan's last snapshot (the last row among ties): a filter on the per-loan maximum instead of
        # sorting tens of millions of snapshots.
        latest = (snapshots.filter(pl.col("as_of") == pl.col("as_of").max().over("loan_id"))
                  .unique("loan_id", keep="last"))
        pd_table = pl.DataFrame({"bucket": list(self.pd_by_bucket_), "pd": list(self.pd_by_bucket_.values())})
        open_loans = (
            latest.filter(pl.col("charged_off_amount") <= 0)
            .with_columns(delinquency_bucket(pl.col("days_past_due")).alias("bucket"))
            .join(pd_table, on="bucket", how="left")
            .with_columns((pl.col("principal") * pl.col("pd") * self.lgd_).alias("expected_credit_loss"))
        )
        per_user_open = open_loans.group_by("user_id").agg(
            pl.len().alias("open_loans"),
            pl.col("principal").sum().alias("outstanding"),
            pl.col("expected_credit_loss").sum(),
        )
        written_off = latest.group_by("user_id").agg(pl.col("charged_off_amount").sum().alias("charged_off"))
        return (
            per_user_open.join(written_off, on="user_id", how="full", coalesce=True)
            .with_columns(
                pl.col("open_loans").fill_null(0).cast(pl.Int64),
                pl.col("outstanding").fill_null(0.0),
                pl.col("expected_credit_loss").fill_null(0.0),
                pl.col("charged_off").fill_null(0.0),
            )
            .sort("user_id")
        )

    def parameters_frame(self) -> pl.DataFrame:
        """One row per parameter: (parameter, value) with the PD per bucket and the LGD."""
        rows = [(f"pd_{bucket}", p) for bucket, p in self.pd_by_bucket_.items()] + [("lgd", self.lgd_)]
        return pl.DataFrame(rows, schema={"parameter": pl.String, "value": pl.Float64}, orient="row")


def _normalised(loans: pl.DataFrame, as_of: date | None) -> pl.DataFrame:
    missing = [c for c in LOAN_COLUMNS if c not in loans.columns]
    if missing:
        raise ValueError(f"loan performance frame lacks column(s) {', '.join(missing)}")
    frame = loans.select(
        pl.col("loan_id"), pl.col("user_id"), pl.col("as_of").cast(pl.Date),
        pl.col("principal").cast(pl.Float64).fill_null(0.0),
        pl.col("days_past_due").cast(pl.Int64),
        pl.col("charged_off_amount").cast(pl.Float64).fill_null(0.0),
    )
    return frame.filter(pl.col("as_of") <= as_of) if as_of is not None else frame


def _loss_given_default(snapshots: pl.DataFrame, first_charge_off: pl.DataFrame) -> float:
    """Charged-off amount over the principal outstanding in the snapshot before the charge-off."""
    if first_charge_off.height == 0:
        return 1.0
    before = (
        snapshots.join(first_charge_off, on="loan_id")
        .filter(pl.col("as_of") < pl.col("charged_off_on"))
        .sort("as_of").group_by("loan_id").last()
        .select("loan_id", pl.col("principal").alias("exposure"))
    )
    losses = (
        snapshots.join(first_charge_off, on="loan_id")
        .filter(pl.col("as_of") == pl.col("charged_off_on"))
        .select("loan_id", "charged_off_amount")
        .join(before, on="loan_id")
        .filter(pl.col("exposure") > 0)
    )
    if losses.height == 0:
        return 1.0
    return float(min(1.0, max(0.0, losses["charged_off_amount"].sum() / losses["exposure"].sum())))


USER_CREDIT_SCHEMA = {"user_id": pl.String, "open_loans": pl.Int64, "outstanding": pl.Float64,
                      "expected_credit_loss": pl.Float64, "charged_off": pl.Float64}
PARAMETER_SCHEMA = {"parameter": pl.String, "value": pl.Float64}


@dataclass(frozen=True)
class CreditLossScores:
    """Per-user expected credit loss, the model's parameters, and what could not be computed."""

    users: pl.DataFrame  # USER_CREDIT_SCHEMA
    parameters: pl.DataFrame  # parameter, value, horizon_days, snapshots
    notes: list[str]


def score_credit_loss(loans: pl.DataFrame, as_of: date, user_ids: pl.DataFrame | None = None) -> CreditLossScores:
    """Fit the model on the snapshots up to `as_of` and score every open loan, summed per user.

    Args:
        loans: the LOAN_COLUMNS; `user_id` may be a 64-bit hash of the id, mapped back through `user_ids`.
        as_of: the analysis date.
        user_ids: `user_hash`, `user_id` when `loans` carries hashed ids; None when it carries the ids.
    """
    empty = CreditLossScores(pl.DataFrame(schema=USER_CREDIT_SCHEMA), pl.DataFrame(schema=PARAMETER_SCHEMA), [])
    if loans.height == 0:
        return CreditLossScores(empty.users, empty.parameters, [
            "risk-adjusted value not computed: no loan performance (source `loan_performance` absent or empty); "
            "value is shown gross of credit losses"])
    try:
        model = CreditLossModel().fit(loans, as_of=as_of)
        scores = model.expected_loss(loans, as_of=as_of)
    except ModelFitError as error:
        return CreditLossScores(empty.users, empty.parameters, [f"risk-adjusted value not computed: {error}"])
    if user_ids is not None:
        scores = scores.rename({"user_id": "user_hash"}).join(user_ids, on="user_hash", how="left").sort("user_id")
    notes = []
    if not any(model.pd_by_bucket_.values()):
        notes.append(f"no charge-off seen within {model.horizon_days} days of any loan snapshot yet: "
                     "expected credit loss is zero until history is longer")
    parameters = model.parameters_frame().with_columns(
        pl.lit(model.horizon_days).alias("horizon_days"), pl.lit(model.snapshots_fitted_).alias("snapshots"))
    return CreditLossScores(scores.select(list(USER_CREDIT_SCHEMA)), parameters, notes)

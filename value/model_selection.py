"""Choose among repeat-purchase models (BG/NBD, Pareto/NBD, MBG/NBD) by maximum likelihood."""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from typing import NamedTuple, Union

import polars as pl

from value.bgnbd import BetaGeoModel
from value.errors import ModelFitError
from value.mbg_nbd import ModifiedBetaGeoModel
from value.pareto_nbd import ParetoNBDModel

TransactionModel = Union[BetaGeoModel, ParetoNBDModel, ModifiedBetaGeoModel]

# Log-likelihoods closer than this are treated as equal, so that optimiser noise does not
# decide between models that fit equally well.
DEFAULT_TIE_TOLERANCE = 1e-6

CANDIDATES_SCHEMA = {
    "model": pl.String,
    "log_likelihood": pl.Float64,
    "n_params": pl.Int64,
    "aic": pl.Float64,
    "converged": pl.Boolean,
    "chosen": pl.Boolean,
    "error": pl.String,
}


def default_candidates() -> tuple[TransactionModel, ...]:
    """Unfitted BG/NBD, Pareto/NBD and MBG/NBD, in that order (the tie-breaking order)."""
    return BetaGeoModel(), ParetoNBDModel(), ModifiedBetaGeoModel()


class TransactionModelSelection(NamedTuple):
    """Result of :func:`select_transaction_model`; unpacks as ``model, candidates, fitted``.

    Attributes:
        model: the chosen fitted model.
        candidates: one row per candidate, in the order given, with columns ``model`` (str,
            the model's ``name``), ``log_likelihood`` (Float64, null when the fit failed),
            ``n_params`` (Int64), ``aic`` (Float64, 2 n_params - 2 log_likelihood, null when
            failed), ``converged`` (Boolean, null when failed), ``chosen`` (Boolean, true for
            exactly one row) and ``error`` (str, the ModelFitError message, null when fitted).
        fitted: every candidate that could be fitted, by name, in the order given.
    """

    model: TransactionModel
    candidates: pl.DataFrame
    fitted: dict[str, TransactionModel]


def select_transaction_model(
    summary: pl.DataFrame,
    candidates: Sequence[TransactionModel] | None = None,
    tie_tolerance: float = DEFAULT_TIE_TOLERANCE,
) -> TransactionModelSelection:
    """Fit every candidate on ``summary`` and keep the one with the highest log-likelihood.

    Candidates are copied before fitting, so the instances passed in stay unfitted. A
    candidate raising :class:`ModelFitError` is recorded with its message and skipped. Among
    candidates within ``tie_tolerance`` of the best log-likelihood, the one with fewer
    parameters wins, then the one listed first. All default candidates have four parameters,
    so for them the choice by log-likelihood and by AIC coincide.

    Args:
        summary: frame with ``frequency``, ``recency`` and ``T`` (e.g. from
            :func:`value.rfm_summary.rfm_summary`).
        candidates: unfitted models with ``fit(frequency, recency, T)``, a ``name`` and
            ``parameter_names``; defaults to :func:`default_candidates`.
        tie_tolerance: absolute log-likelihood difference treated as a tie.

    Raises:
        ModelFitError: every candidate failed (the message lists each failure).
        ValueError: no candidates, duplicate names, or missing summary columns.
    """
    models = list(default_candidates() if candidates is None else candidates)
    if not models:
        raise ValueError("no candidate models given")
    names = [model.name for model in models]
    if len(set(names)) != len(names):
        raise ValueError(f"candidate model names must be distinct, got {names}")
    missing = {"frequency", "recency", "T"} - set(summary.columns)
    if missing:
        raise ValueError(f"summary lacks column(s): {sorted(missing)}")
    frequency = summary["frequency"].to_numpy()
    recency = summary["recency"].to_numpy()
    T = summary["T"].to_numpy()

    fitted: list[TransactionModel | None] = []
    errors: list[str | None] = []
    for model in models:
        candidate = copy.deepcopy(model)
        try:
            candidate.fit(frequency, recency, T)
        except ModelFitError as error:
            fitted.append(None)
            errors.append(str(error))
        else:
            fitted.append(candidate)
            errors.append(None)

    usable = [index for index, model in enumerate(fitted) if model is not None]
    if not usable:
        details = "; ".join(f"{name}: {error}" for name, error in zip(names, errors, strict=True))
        raise ModelFitError(f"no transaction model could be fitted ({details})")
    best_log_lik = max(fitted[index].log_likelihood_ for index in usable)  # type: ignore[union-attr]
    tied = [index for index in usable if fitted[index].log_likelihood_ >= best_log_lik - tie_tolerance]  # type: ignore[union-attr]
    chosen = min(tied, key=lambda index: (len(models[index].parameter_names), index))

    rows = []
    for index, (name, model, error) in enumerate(zip(names, fitted, errors, strict=True)):
        n_params = len(models[index].parameter_names)
        log_lik = None if model is None else float(model.log_likelihood_)
        rows.append(
            {
                "model": name,
                "log_likelihood": log_lik,
                "n_params": n_params,
                "aic": None if log_lik is None or not math.isfinite(log_lik) else 2.0 * n_params - 2.0 * log_lik,
                "converged": None if model is None else bool(model.converged_),
                "chosen": index == chosen,
                "error": error,
            }
        )
    return TransactionModelSelection(
        model=fitted[chosen],  # type: ignore[arg-type]
        candidates=pl.DataFrame(rows, schema=CANDIDATES_SCHEMA),
        fitted={name: model for name, model in zip(names, fitted, strict=True) if model is not None},
    )

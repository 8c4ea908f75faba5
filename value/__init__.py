"""Lifetime value and retention: RFM summaries, BG/NBD, Pareto/NBD, MBG/NBD, Gamma-Gamma, CLV and cohort retention."""

from value.bgnbd import BetaGeoModel
from value.clv import customer_lifetime_value, model_parameters_frame, time_unit_name
from value.errors import ModelFitError
from value.gamma_gamma import GammaGammaModel
from value.holdout import HoldoutSplit, calibration_holdout_split, holdout_by_frequency, holdout_cumulative
from value.mbg_nbd import ModifiedBetaGeoModel
from value.model_selection import TransactionModelSelection, default_candidates, select_transaction_model
from value.pareto_nbd import ParetoNBDModel
from value.retention import cohort_retention
from value.shrunk_mean_spend import ShrunkMeanSpendModel
from value.rfm_summary import rfm_summary

__all__ = [
    "BetaGeoModel",
    "GammaGammaModel",
    "HoldoutSplit",
    "ModelFitError",
    "ModifiedBetaGeoModel",
    "ParetoNBDModel",
    "ShrunkMeanSpendModel",
    "TransactionModelSelection",
    "calibration_holdout_split",
    "cohort_retention",
    "customer_lifetime_value",
    "default_candidates",
    "holdout_by_frequency",
    "holdout_cumulative",
    "model_parameters_frame",
    "rfm_summary",
    "select_transaction_model",
    "time_unit_name",
]

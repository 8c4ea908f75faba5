"""Lifetime value and retention: RFM summaries, BG/NBD, Gamma-Gamma, CLV and cohort retention."""

from value.bgnbd import BetaGeoModel
from value.clv import customer_lifetime_value, model_parameters_frame, time_unit_name
from value.errors import ModelFitError
from value.gamma_gamma import GammaGammaModel
from value.retention import cohort_retention
from value.shrunk_mean_spend import ShrunkMeanSpendModel
from value.summary import rfm_summary

__all__ = [
    "BetaGeoModel",
    "GammaGammaModel",
    "ModelFitError",
    "ShrunkMeanSpendModel",
    "cohort_retention",
    "customer_lifetime_value",
    "model_parameters_frame",
    "rfm_summary",
    "time_unit_name",
]

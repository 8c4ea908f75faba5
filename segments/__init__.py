"""User segmentation: lifecycle stages, RFM segments and clustering-based personas.

A pure library: Polars and scikit-learn only, no Dagster, no I/O.
"""

from segments.clustering import PersonaClusterer, choose_k
from segments.lifecycle import LIFECYCLE_STAGES, LifecycleRules, lifecycle_stage_expr
from segments.personas import describe_personas
from segments.phrases import FEATURE_PHRASES
from segments.rfm import NO_PURCHASE_SEGMENT, RFM_GRID, RFM_SEGMENTS, score_rfm
from segments.scaling import RobustFeatureScaler

__all__ = [
    "FEATURE_PHRASES",
    "LIFECYCLE_STAGES",
    "NO_PURCHASE_SEGMENT",
    "RFM_GRID",
    "RFM_SEGMENTS",
    "LifecycleRules",
    "PersonaClusterer",
    "RobustFeatureScaler",
    "choose_k",
    "describe_personas",
    "lifecycle_stage_expr",
    "score_rfm",
]

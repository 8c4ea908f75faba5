"""Attribution and channel ROI: identity stitching, conversion journeys, attribution models, the
``marts.channel_roi`` table and its per-acquisition-cohort view. Pure library: Polars in, Polars out,
no Dagster."""

from channels.attribution import (
    ATTRIBUTION_MODELS,
    AttributionSettings,
    assign_credit,
    attribute,
    attribute_all,
    first_touch,
    last_touch,
    linear,
    markov,
    position_based,
    shapley,
    time_decay,
)
from channels.cohorts import (
    attributed_from_credit,
    channel_cohort_roi,
    conversion_credit,
)
from channels.conversions import first_conversions
from channels.identity_stitching import resolve_touchpoints, stitch_identities
from channels.journeys import DIRECT_CHANNEL, build_journeys, build_non_converting_paths
from channels.markov import markov_removal_effects
from channels.roi import channel_daily_spend, channel_roi
from channels.shapley import exact_shapley

__all__ = [
    "ATTRIBUTION_MODELS",
    "DIRECT_CHANNEL",
    "AttributionSettings",
    "assign_credit",
    "attribute",
    "attribute_all",
    "attributed_from_credit",
    "build_journeys",
    "build_non_converting_paths",
    "channel_cohort_roi",
    "channel_daily_spend",
    "channel_roi",
    "conversion_credit",
    "exact_shapley",
    "first_conversions",
    "first_touch",
    "last_touch",
    "linear",
    "markov",
    "markov_removal_effects",
    "position_based",
    "resolve_touchpoints",
    "shapley",
    "stitch_identities",
    "time_decay",
]

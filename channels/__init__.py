"""Attribution and channel ROI: identity stitching, conversion journeys, attribution models and
the ``marts.channel_roi`` table. Pure library: Polars in, Polars out, no Dagster."""

from channels.attribution import (
    ATTRIBUTION_MODELS,
    assign_credit,
    attribute,
    attribute_all,
    first_touch,
    last_touch,
    linear,
)
from channels.conversions import first_conversions
from channels.identity import resolve_touchpoints, stitch_identities
from channels.journeys import DIRECT_CHANNEL, build_journeys
from channels.roi import channel_daily_spend, channel_roi

__all__ = [
    "ATTRIBUTION_MODELS",
    "DIRECT_CHANNEL",
    "assign_credit",
    "attribute",
    "attribute_all",
    "build_journeys",
    "channel_daily_spend",
    "channel_roi",
    "first_conversions",
    "first_touch",
    "last_touch",
    "linear",
    "resolve_touchpoints",
    "stitch_identities",
]

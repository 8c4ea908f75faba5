"""Campaign definitions: who (a segment), what (a template version), how (channel, purpose, holdout)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from campaigns._yaml_file import read_mapping, reject_unknown_keys, required
from campaigns.errors import CampaignFileError
from campaigns.products import CHANNELS, PURPOSES

SEGMENT_FIELDS: frozenset[str] = frozenset({"rfm_segment", "persona_id"})
_CAMPAIGN_ID = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,79}$")
_FIELDS = {"campaign_id", "name", "segment", "template", "channel", "purpose", "holdout_pct"}


@dataclass(frozen=True)
class Campaign:
    """A campaign as loaded from its file.

    `segment` maps a `marts.user_segment` column to the values it may take; several columns are
    combined with AND.
    """

    campaign_id: str
    name: str
    segment: tuple[tuple[str, tuple[str, ...]], ...]
    template_id: str
    template_version: int
    channel: str
    purpose: str
    holdout_pct: float


def load_campaign(path: str | Path) -> Campaign:
    """Load and validate a campaign file.

    Args:
        path: A YAML campaign file.

    Returns:
        The validated campaign.

    Raises:
        CampaignFileError: naming the file and the offending key.
    """
    return parse_campaign(read_mapping(path, CampaignFileError), source=path)


def parse_campaign(data: dict[str, Any], source: str | Path = "<memory>") -> Campaign:
    """Validate a campaign given as a mapping (the parsed YAML file)."""
    err = CampaignFileError
    reject_unknown_keys(data, _FIELDS, source, err)
    campaign_id = required(data, "campaign_id", str, source, err)
    if not _CAMPAIGN_ID.match(campaign_id):
        raise err(source, "campaign_id", "must be 1-80 characters of a-z, 0-9, '_' or '-', starting alphanumeric")
    channel = required(data, "channel", str, source, err)
    if channel not in CHANNELS:
        raise err(source, "channel", f"must be one of {sorted(CHANNELS)}, got {channel!r}")
    purpose = required(data, "purpose", str, source, err)
    if purpose not in PURPOSES:
        raise err(source, "purpose", f"must be one of {sorted(PURPOSES)}, got {purpose!r}")
    holdout = required(data, "holdout_pct", (int, float), source, err)
    if not 0 <= holdout < 100:
        raise err(source, "holdout_pct", f"must be a percentage in [0, 100), got {holdout!r}")
    template = required(data, "template", dict, source, err)
    reject_unknown_keys(template, {"id", "version"}, source, err, prefix="template.")
    return Campaign(
        campaign_id=campaign_id,
        name=required(data, "name", str, source, err),
        segment=_parse_segment(required(data, "segment", dict, source, err), source),
        template_id=required(template, "id", str, source, err, prefix="template."),
        template_version=required(template, "version", int, source, err, prefix="template."),
        channel=channel,
        purpose=purpose,
        holdout_pct=float(holdout),
    )


def select_audience(user_segment: pl.DataFrame, campaign: Campaign) -> pl.DataFrame:
    """The campaign's audience from `marts.user_segment`.

    Args:
        user_segment: One row per user with `user_id` and the segment columns the campaign filters on.
        campaign: The campaign.

    Returns:
        The matching rows of `user_segment` (all its columns), one per user.
    """
    condition = pl.lit(True)
    for column, values in campaign.segment:
        condition = condition & pl.col(column).cast(pl.String).is_in(list(values))
    return user_segment.filter(condition).unique("user_id", keep="first", maintain_order=True)


def _parse_segment(segment: dict[str, Any], source: str | Path) -> tuple[tuple[str, tuple[str, ...]], ...]:
    err = CampaignFileError
    reject_unknown_keys(segment, set(SEGMENT_FIELDS), source, err, prefix="segment.")
    if not segment:
        # An empty filter would silently target the whole user base.
        raise err(source, "segment", f"must filter on at least one of {sorted(SEGMENT_FIELDS)}")
    parsed = []
    for column in sorted(segment):
        values = segment[column]
        if isinstance(values, (str, int)) and not isinstance(values, bool):
            values = [values]
        if not isinstance(values, list) or not values or not all(
            isinstance(v, (str, int)) and not isinstance(v, bool) for v in values
        ):
            raise err(source, f"segment.{column}", "must be a non-empty list of segment values")
        parsed.append((column, tuple(str(v) for v in values)))
    return tuple(parsed)

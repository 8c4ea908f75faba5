"""Campaign definitions: who (a segment), what (a template version), how (channel, purpose, holdout)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from campaigns._yaml_file import read_mapping, reject_unknown_keys, required
from campaigns.errors import CampaignFileError
from campaigns.products import CHANNELS, PURPOSES

SEGMENT_FIELDS: frozenset[str] = frozenset({"rfm_segment", "persona_id"})
_CAMPAIGN_ID = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,79}$")
_FIELDS = {"campaign_id", "name", "segment", "template", "channel", "purpose", "holdout_pct", "variants", "send_at",
           "frequency_cap", "provider_country", "uses_consumer_report"}
_VARIANT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,39}$")


@dataclass(frozen=True)
class Variant:
    """One A/B arm: an approved template version and its relative weight."""

    name: str
    template_id: str
    template_version: int
    weight: float

    @property
    def template_key(self) -> str:
        return f"{self.template_id}@{self.template_version}"


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
    # A/B arms; empty means one arm, the campaign's template. Assignment: `campaigns.variants`.
    variants: tuple[Variant, ...] = ()
    # The scheduled send instant (tz-aware); quiet hours and frequency caps are decided for it.
    send_at: datetime | None = None
    # (max_messages, days): may only tighten the rule pack's frequency cap.
    frequency_cap: tuple[int, int] | None = None
    # Where the delivery provider processes data (ISO country); None = the rule pack's default per channel.
    provider_country: str | None = None
    # The audience came from consumer-report prescreening (US FCRA); turns on the prescreen opt-out rule.
    uses_consumer_report: bool = False

    @property
    def arms(self) -> tuple[Variant, ...]:
        """The variants, or a single arm named "main" carrying the campaign's template."""
        return self.variants or (Variant("main", self.template_id, self.template_version, 100.0),)


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
    variants = _parse_variants(data.get("variants"), source)
    if "template" in data or not variants:
        template_id, template_version = _template_ref(required(data, "template", dict, source, err), "template.",
                                                      source)
        if variants and (template_id, template_version) not in {(v.template_id, v.template_version) for v in variants}:
            raise err(source, "template", "must be one of the variants' templates (or be left out when variants are given)")
    else:
        template_id, template_version = variants[0].template_id, variants[0].template_version
    uses_report = data.get("uses_consumer_report", False)
    if not isinstance(uses_report, bool):
        raise err(source, "uses_consumer_report", f"must be true or false, got {uses_report!r}")
    provider = data.get("provider_country")
    if provider is not None and (not isinstance(provider, str) or not re.fullmatch(r"[A-Z]{2}", provider)):
        raise err(source, "provider_country", f"must be a two-letter ISO country code such as 'US' or 'CN', got {provider!r}")
    return Campaign(
        campaign_id=campaign_id,
        name=required(data, "name", str, source, err),
        segment=_parse_segment(required(data, "segment", dict, source, err), source),
        template_id=template_id,
        template_version=template_version,
        channel=channel,
        purpose=purpose,
        holdout_pct=float(holdout),
        variants=variants,
        send_at=_parse_send_at(data.get("send_at"), source),
        frequency_cap=_parse_cap(data.get("frequency_cap"), source),
        provider_country=provider,
        uses_consumer_report=uses_report,
    )


def _template_ref(ref: dict[str, Any], prefix: str, source: str | Path) -> tuple[str, int]:
    err = CampaignFileError
    reject_unknown_keys(ref, {"id", "version"}, source, err, prefix=prefix)
    return required(ref, "id", str, source, err, prefix=prefix), required(ref, "version", int, source, err, prefix=prefix)


def _parse_variants(raw: Any, source: str | Path) -> tuple[Variant, ...]:
    err = CampaignFileError
    if raw is None:
        return ()
    if not isinstance(raw, list) or not raw:
        raise err(source, "variants", "must be a non-empty list of {name, template: {id, version}, weight}")
    variants = []
    for index, item in enumerate(raw):
        prefix = f"variants[{index}]."
        if not isinstance(item, dict):
            raise err(source, f"variants[{index}]", "must be a mapping")
        reject_unknown_keys(item, {"name", "template", "weight"}, source, err, prefix=prefix)
        name = str(required(item, "name", (str, int), source, err, prefix=prefix))
        if not _VARIANT_NAME.match(name):
            raise err(source, prefix + "name", "must be 1-40 characters of A-Z, a-z, 0-9, '_' or '-'")
        weight = required(item, "weight", (int, float), source, err, prefix=prefix)
        if not weight > 0:
            raise err(source, prefix + "weight", f"must be positive, got {weight!r}")
        template_id, version = _template_ref(required(item, "template", dict, source, err, prefix=prefix),
                                             prefix + "template.", source)
        variants.append(Variant(name, template_id, version, float(weight)))
    names = [v.name for v in variants]
    if len(set(names)) != len(names):
        raise err(source, "variants", "variant names must be unique")
    keys = [(v.template_id, v.template_version) for v in variants]
    if len(set(keys)) != len(keys):
        raise err(source, "variants", "two variants use the same template version")
    return tuple(variants)


def _parse_send_at(raw: Any, source: str | Path) -> datetime | None:
    err = CampaignFileError
    if raw is None:
        return None
    if isinstance(raw, datetime):  # YAML reads an unquoted timestamp itself
        value = raw
    elif isinstance(raw, str):
        try:
            value = datetime.fromisoformat(raw)
        except ValueError:
            raise err(source, "send_at", f"must be an ISO 8601 instant such as 2026-07-01T10:00:00+08:00, got {raw!r}") from None
    else:
        raise err(source, "send_at", f"must be an ISO 8601 instant, got {raw!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise err(source, "send_at", f"must carry a UTC offset or zone (e.g. +08:00), got {raw!r}")
    return value


def _parse_cap(raw: Any, source: str | Path) -> tuple[int, int] | None:
    err = CampaignFileError
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise err(source, "frequency_cap", "must be a mapping {max_messages: N, days: D}")
    reject_unknown_keys(raw, {"max_messages", "days"}, source, err, prefix="frequency_cap.")
    cap = required(raw, "max_messages", int, source, err, prefix="frequency_cap.")
    days = required(raw, "days", int, source, err, prefix="frequency_cap.")
    if cap < 1 or days < 1:
        raise err(source, "frequency_cap", "max_messages and days must be at least 1")
    return cap, days


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

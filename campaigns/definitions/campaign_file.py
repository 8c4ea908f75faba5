"""Campaign files: who (a segment), what (a template version), how (channel, purpose, holdout, schedule)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainValidator, field_validator, model_validator

from campaigns.campaign_errors import CampaignFileError
from campaigns.definitions.vocabulary import CHANNELS, PURPOSES
from file_schemas.yaml_source import (
    NO_LINES,
    FileModel,
    Integer,
    KeyLines,
    Text,
    fail,
    kind_check,
    read_mapping,
    validate_file,
)

# `rule_segment`: an analyst-defined segment of `marts.user_rule_segment` (a person may be in several).
SEGMENT_FIELDS: frozenset[str] = frozenset({"rfm_segment", "persona_id", "rule_segment"})
_CAMPAIGN_ID = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,79}$")
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

    `segment` maps a `marts.user_segment` column (or `rule_segment`, the analysts' segments a person is in) to the
    values it may take; several columns are combined with AND.
    """

    campaign_id: str
    name: str
    segment: tuple[tuple[str, tuple[str, ...]], ...]
    template_id: str
    template_version: int
    channel: str
    purpose: str
    holdout_pct: float
    # A/B arms; empty means one arm, the campaign's template. Assignment: `eligibility.variant_assignment`.
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


def _campaign_id(value: Any) -> str:
    text = kind_check((str,), "a string")(value)
    if not _CAMPAIGN_ID.match(text):
        raise ValueError("must be 1-80 characters of a-z, 0-9, '_' or '-', starting alphanumeric")
    return text


def _one_of(allowed: frozenset[str]):
    def check(value: Any) -> str:
        text = kind_check((str,), "a string")(value)
        if text not in allowed:
            raise ValueError(f"must be one of {sorted(allowed)}, got {text!r}")
        return text

    return check


def _percentage(value: Any) -> float:
    number = kind_check((int, float), "an integer or a number")(value)
    if not 0 <= number < 100:
        raise ValueError(f"must be a percentage in [0, 100), got {number!r}")
    return float(number)


def _variant_name(value: Any) -> str:
    name = str(kind_check((str, int), "a string or an integer")(value))
    if not _VARIANT_NAME.match(name):
        raise ValueError("must be 1-40 characters of A-Z, a-z, 0-9, '_' or '-'")
    return name


def _positive(value: Any) -> float:
    number = kind_check((int, float), "an integer or a number")(value)
    if not number > 0:
        raise ValueError(f"must be positive, got {number!r}")
    return float(number)


def _segment_values(value: Any) -> tuple[str, ...]:
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list) or not value or not all(
        isinstance(v, (str, int)) and not isinstance(v, bool) for v in value
    ):
        raise ValueError("must be a non-empty list of segment values")
    return tuple(str(v) for v in value)


def _variant_list(value: Any) -> Any:
    if value is not None and (not isinstance(value, list) or not value):
        raise ValueError("must be a non-empty list of {name, template: {id, version}, weight}")
    return value


def _provider_country(value: Any) -> str | None:
    if value is not None and (not isinstance(value, str) or not re.fullmatch(r"[A-Z]{2}", value)):
        raise ValueError(f"must be a two-letter ISO country code such as 'US' or 'CN', got {value!r}")
    return value


def _send_at(raw: Any) -> datetime | None:
    if raw is None:
        return None
    if isinstance(raw, datetime):  # YAML reads an unquoted timestamp itself
        value = raw
    elif isinstance(raw, str):
        try:
            value = datetime.fromisoformat(raw)
        except ValueError:
            raise ValueError(f"must be an ISO 8601 instant such as 2026-07-01T10:00:00+08:00, got {raw!r}") from None
    else:
        raise ValueError(f"must be an ISO 8601 instant, got {raw!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"must carry a UTC offset or zone (e.g. +08:00), got {raw!r}")
    return value


def _consumer_report(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"must be true or false, got {value!r}")
    return value




class TemplateRefEntry(FileModel):
    """`template: {id, version}`: a template version by reference."""

    id: Text
    version: Integer


class VariantEntry(FileModel):
    """One entry of `variants`: `{name, weight, template: {id, version}}`."""

    name: Annotated[str, PlainValidator(_variant_name)]
    weight: Annotated[float, PlainValidator(_positive)]
    template: TemplateRefEntry


class SegmentEntry(FileModel):
    """`segment`: the `marts.user_segment` columns to filter on, each with the values it may take."""

    persona_id: Annotated[tuple[str, ...] | None, PlainValidator(_segment_values)] = None
    rfm_segment: Annotated[tuple[str, ...] | None, PlainValidator(_segment_values)] = None
    rule_segment: Annotated[tuple[str, ...] | None, PlainValidator(_segment_values)] = None

    @model_validator(mode="after")
    def _not_empty(self) -> SegmentEntry:
        if not self.model_fields_set:
            # An empty filter would silently target the whole user base.
            fail(f"must filter on at least one of {sorted(SEGMENT_FIELDS)}")
        return self


class FrequencyCapEntry(FileModel):
    """`frequency_cap: {max_messages, days}`: may only tighten the rule pack's cap."""

    max_messages: Integer
    days: Integer

    @model_validator(mode="after")
    def _at_least_one(self) -> FrequencyCapEntry:
        if self.max_messages < 1 or self.days < 1:
            fail("max_messages and days must be at least 1")
        return self


class CampaignFileModel(FileModel):
    """The campaign file format; fields in the order their problems are reported."""

    campaign_id: Annotated[str, PlainValidator(_campaign_id)]
    channel: Annotated[str, PlainValidator(_one_of(CHANNELS))]
    purpose: Annotated[str, PlainValidator(_one_of(PURPOSES))]
    holdout_pct: Annotated[float, PlainValidator(_percentage)]
    variants: Annotated[tuple[VariantEntry, ...] | None, BeforeValidator(_variant_list)] = None
    template: TemplateRefEntry | None = None
    uses_consumer_report: Annotated[bool, PlainValidator(_consumer_report)] = False
    provider_country: Annotated[str | None, PlainValidator(_provider_country)] = None
    name: Text
    segment: SegmentEntry
    send_at: Annotated[datetime | None, PlainValidator(_send_at)] = None
    frequency_cap: FrequencyCapEntry | None = None

    @field_validator("variants")
    @classmethod
    def _distinct_variants(cls, variants: tuple[VariantEntry, ...] | None) -> tuple[VariantEntry, ...] | None:
        if variants:
            names = [v.name for v in variants]
            if len(set(names)) != len(names):
                raise ValueError("variant names must be unique")
            keys = [(v.template.id, v.template.version) for v in variants]
            if len(set(keys)) != len(keys):
                raise ValueError("two variants use the same template version")
        return variants

    @model_validator(mode="after")
    def _template_or_variants(self) -> CampaignFileModel:
        if self.template is None and ("template" in self.model_fields_set or not self.variants):
            fail("is required", "template")
        if self.template is not None and self.variants and (self.template.id, self.template.version) not in {
                (v.template.id, v.template.version) for v in self.variants}:
            fail("must be one of the variants' templates (or be left out when variants are given)", "template")
        return self

    def to_campaign(self) -> Campaign:
        variants = tuple(Variant(v.name, v.template.id, v.template.version, v.weight) for v in self.variants or ())
        main = self.template or self.variants[0].template
        segment = tuple((column, getattr(self.segment, column)) for column in sorted(self.segment.model_fields_set))
        cap = (self.frequency_cap.max_messages, self.frequency_cap.days) if self.frequency_cap else None
        return Campaign(
            campaign_id=self.campaign_id, name=self.name, segment=segment, template_id=main.id,
            template_version=main.version, channel=self.channel, purpose=self.purpose, holdout_pct=self.holdout_pct,
            variants=variants, send_at=self.send_at, frequency_cap=cap, provider_country=self.provider_country,
            uses_consumer_report=self.uses_consumer_report,
        )


def load_campaign(path: str | Path) -> Campaign:
    """Load and validate a campaign file.

    Raises:
        CampaignFileError: naming the file, the line and the offending key.
    """
    data, lines = read_mapping(path, CampaignFileError)
    return parse_campaign(data, source=path, lines=lines)


def parse_campaign(data: dict[str, Any], source: str | Path = "<memory>", lines: KeyLines = NO_LINES) -> Campaign:
    """Validate a campaign given as a mapping (the parsed YAML file)."""
    model: CampaignFileModel = validate_file(CampaignFileModel, data, source, CampaignFileError, lines)
    return model.to_campaign()


def campaign_definition(campaign: Campaign) -> dict[str, Any]:
    """The campaign as the mapping of a campaign file (`parse_campaign` reads it back to an equal Campaign).

    The ledger keeps it with each launch, so reconciliation can re-decide a resend exactly as launched.
    """
    data: dict[str, Any] = {
        "campaign_id": campaign.campaign_id, "name": campaign.name,
        "segment": {column: list(values) for column, values in campaign.segment},
        "channel": campaign.channel, "purpose": campaign.purpose, "holdout_pct": campaign.holdout_pct,
    }
    if campaign.variants:
        data["variants"] = [{"name": v.name, "template": {"id": v.template_id, "version": v.template_version},
                             "weight": v.weight} for v in campaign.variants]
    data["template"] = {"id": campaign.template_id, "version": campaign.template_version}
    if campaign.send_at is not None:
        data["send_at"] = campaign.send_at.isoformat()
    if campaign.frequency_cap is not None:
        data["frequency_cap"] = {"max_messages": campaign.frequency_cap[0], "days": campaign.frequency_cap[1]}
    if campaign.provider_country is not None:
        data["provider_country"] = campaign.provider_country
    if campaign.uses_consumer_report:
        data["uses_consumer_report"] = True
    return data

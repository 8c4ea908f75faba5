"""Run settings, read once from the environment (and overridden by the CLI)."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

DEFAULT_LANDING = Path("data/landing")
DEFAULT_WAREHOUSE = Path("data/fingrowth.duckdb")
DEFAULT_OUT = Path("out")
DEFAULT_TARGETS = Path("config/targets.yaml")
CONVERSIONS = ("first_transaction", "first_credit", "first_wealth")


@dataclass(frozen=True)
class Settings:
    """Where data comes from and goes to, and the knobs of an analysis run.

    Environment variables: FINGROWTH_LANDING, FINGROWTH_WAREHOUSE, FINGROWTH_OUT, FINGROWTH_AS_OF,
    FINGROWTH_TIMEZONE, FINGROWTH_LANGUAGE (en|zh), FINGROWTH_MIN_GROUP_SIZE, FINGROWTH_CLV_HORIZON_DAYS,
    FINGROWTH_CAMPAIGNS_DIR, FINGROWTH_ATTRIBUTION_LOOKBACK_DAYS (default 30), FINGROWTH_CONVERSION
    (first_transaction | first_credit | first_wealth), FINGROWTH_RULE_SEGMENTS (YAML of analysts' segments), FINGROWTH_HOLDOUT_WEEKS (lifetime-value holdout check; default half the
    history, at most 39), FINGROWTH_TARGETS (YAML of executive KPI targets; default config/targets.yaml
    when it exists).
    """

    landing: Path = DEFAULT_LANDING
    warehouse: Path = DEFAULT_WAREHOUSE
    out: Path = DEFAULT_OUT
    as_of: date | None = None
    timezone: str = "Asia/Shanghai"
    language: str = "en"
    min_group_size: int = 10
    clv_horizon_days: int = 365
    campaigns_dir: Path | None = None
    targets: Path | None = None
    holdout_weeks: int | None = None
    attribution_lookback_days: int = 30
    conversion: str = "first_transaction"
    rule_segments: Path | None = None

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        settings = cls()
        values: dict[str, object] = {}
        if env.get("FINGROWTH_LANDING"):
            values["landing"] = Path(env["FINGROWTH_LANDING"])
        if env.get("FINGROWTH_WAREHOUSE"):
            values["warehouse"] = Path(env["FINGROWTH_WAREHOUSE"])
        if env.get("FINGROWTH_OUT"):
            values["out"] = Path(env["FINGROWTH_OUT"])
        if env.get("FINGROWTH_AS_OF"):
            values["as_of"] = parse_as_of(env["FINGROWTH_AS_OF"])
        if env.get("FINGROWTH_TIMEZONE"):
            values["timezone"] = env["FINGROWTH_TIMEZONE"]
        if env.get("FINGROWTH_LANGUAGE"):
            values["language"] = env["FINGROWTH_LANGUAGE"]
        if env.get("FINGROWTH_MIN_GROUP_SIZE"):
            values["min_group_size"] = _positive_int("FINGROWTH_MIN_GROUP_SIZE", env["FINGROWTH_MIN_GROUP_SIZE"])
        if env.get("FINGROWTH_CLV_HORIZON_DAYS"):
            values["clv_horizon_days"] = _positive_int("FINGROWTH_CLV_HORIZON_DAYS", env["FINGROWTH_CLV_HORIZON_DAYS"])
        if env.get("FINGROWTH_CAMPAIGNS_DIR"):
            values["campaigns_dir"] = Path(env["FINGROWTH_CAMPAIGNS_DIR"])
        if env.get("FINGROWTH_ATTRIBUTION_LOOKBACK_DAYS"):
            values["attribution_lookback_days"] = _positive_int(
                "FINGROWTH_ATTRIBUTION_LOOKBACK_DAYS", env["FINGROWTH_ATTRIBUTION_LOOKBACK_DAYS"])
        if env.get("FINGROWTH_CONVERSION"):
            values["conversion"] = env["FINGROWTH_CONVERSION"]
        if env.get("FINGROWTH_RULE_SEGMENTS"):
            values["rule_segments"] = Path(env["FINGROWTH_RULE_SEGMENTS"])
        if env.get("FINGROWTH_HOLDOUT_WEEKS"):
            values["holdout_weeks"] = _positive_int("FINGROWTH_HOLDOUT_WEEKS", env["FINGROWTH_HOLDOUT_WEEKS"])
        if env.get("FINGROWTH_TARGETS"):
            values["targets"] = Path(env["FINGROWTH_TARGETS"])
        elif DEFAULT_TARGETS.is_file():
            values["targets"] = DEFAULT_TARGETS
        return replace(settings, **values).validated()

    def validated(self) -> Settings:
        if self.language not in ("en", "zh"):
            raise ValueError(f"language must be 'en' or 'zh', got {self.language!r}")
        if self.min_group_size < 1:
            raise ValueError("min_group_size must be at least 1")
        if self.conversion not in CONVERSIONS:
            raise ValueError(f"conversion must be one of {', '.join(CONVERSIONS)}, got {self.conversion!r}")
        if self.rule_segments is not None and not self.rule_segments.is_file():
            raise FileNotFoundError(f"rule segments file {self.rule_segments} does not exist")
        if self.targets is not None and not self.targets.is_file():
            raise FileNotFoundError(f"targets file {self.targets} does not exist")
        return self

    @property
    def dashboards_dir(self) -> Path:
        return self.out / "dashboards"


def parse_as_of(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise ValueError(f"as-of date must be YYYY-MM-DD, got {text!r}") from error


def _positive_int(name: str, text: str) -> int:
    try:
        value = int(text)
    except ValueError as error:
        raise ValueError(f"{name} must be an integer, got {text!r}") from error
    if value < 1:
        raise ValueError(f"{name} must be at least 1, got {value}")
    return value

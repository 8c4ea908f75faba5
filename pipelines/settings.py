"""Run settings, read once from the environment (and overridden by the CLI)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

DEFAULT_LANDING = Path("data/landing")
DEFAULT_WAREHOUSE = Path("data/fingrowth.duckdb")
DEFAULT_OUT = Path("out")
DEFAULT_TARGETS = Path("config/targets.yaml")
CONVERSIONS = ("first_transaction", "first_credit", "first_wealth")
MEMORY_PATTERN = re.compile(r"^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$", re.IGNORECASE)
OBJECT_STORE_SCHEMES = ("s3://", "gs://", "gcs://", "az://", "abfss://", "r2://")


@dataclass(frozen=True)
class Settings:
    """Where data comes from and goes to, and the knobs of an analysis run.

    Environment variables: FINGROWTH_LANDING, FINGROWTH_WAREHOUSE, FINGROWTH_OUT, FINGROWTH_AS_OF,
    FINGROWTH_TIMEZONE, FINGROWTH_LANGUAGE (en|zh), FINGROWTH_MIN_GROUP_SIZE, FINGROWTH_CLV_HORIZON_DAYS,
    FINGROWTH_CAMPAIGNS_DIR, FINGROWTH_ATTRIBUTION_LOOKBACK_DAYS (default 30), FINGROWTH_CONVERSION
    (first_transaction | first_credit | first_wealth), FINGROWTH_RULE_SEGMENTS (YAML of analysts' segments), FINGROWTH_HOLDOUT_WEEKS (lifetime-value holdout check; default half the
    history, at most 39), FINGROWTH_TARGETS (YAML of executive KPI targets; default config/targets.yaml
    when it exists), FINGROWTH_STAGED_DIR (daily Parquet partitions of staged event-like sources;
    default `staged/` next to the warehouse file; a local folder or an object-store URL such as
    s3://bucket/fingrowth/staged, read and written by DuckDB's httpfs extension),
    FINGROWTH_DUCKDB_MEMORY_LIMIT (e.g. 4GB; default half the machine's memory) and
    FINGROWTH_DUCKDB_THREADS (default: every core).
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
    staged_dir: str | None = None
    duckdb_memory_limit: str | None = None
    duckdb_threads: int | None = None

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
        if env.get("FINGROWTH_STAGED_DIR"):
            values["staged_dir"] = env["FINGROWTH_STAGED_DIR"]
        if env.get("FINGROWTH_DUCKDB_MEMORY_LIMIT"):
            values["duckdb_memory_limit"] = env["FINGROWTH_DUCKDB_MEMORY_LIMIT"].strip()
        if env.get("FINGROWTH_DUCKDB_THREADS"):
            values["duckdb_threads"] = _positive_int("FINGROWTH_DUCKDB_THREADS", env["FINGROWTH_DUCKDB_THREADS"])
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
        if self.duckdb_memory_limit is not None and not MEMORY_PATTERN.match(self.duckdb_memory_limit):
            raise ValueError(
                f"FINGROWTH_DUCKDB_MEMORY_LIMIT must be an amount such as 4GB or 512MB, got {self.duckdb_memory_limit!r}")
        if self.staged_dir is not None and "://" in self.staged_dir and not self.staged_dir.startswith(OBJECT_STORE_SCHEMES):
            raise ValueError(f"FINGROWTH_STAGED_DIR must be a folder or one of {', '.join(OBJECT_STORE_SCHEMES)}, "
                             f"got {self.staged_dir!r}")
        return self

    @property
    def staged_location(self) -> str:
        """Where staged Parquet partitions live: an object-store URL as given, else an absolute folder."""
        if self.staged_dir is not None and self.staged_dir.startswith(OBJECT_STORE_SCHEMES):
            return self.staged_dir.rstrip("/")
        folder = Path(self.staged_dir) if self.staged_dir else self.warehouse.parent / "staged"
        return str(folder.absolute())

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

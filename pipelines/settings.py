"""Every setting the project reads from the environment, typed and validated in one place.

This module is the only one that reads `os.environ`. Each field names its environment variable(s); the
command line overrides them (`Settings.from_env(**overrides)`), and code builds what it needs from the
settings object (resources, the campaign service, the webhook server). To add a setting, add one field
here (and to `assets.resources.AnalysisResource` if an asset reads it); the README's settings tables are
checked against these fields by the tests.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

DEFAULT_LANDING = Path("data/landing")
DEFAULT_WAREHOUSE = Path("data/fingrowth.duckdb")
DEFAULT_OUT = Path("out")
DEFAULT_TARGETS = Path("config/targets.yaml")
DEFAULT_ROLES = Path("config/roles.yaml")
CONVERSIONS = ("first_transaction", "first_credit", "first_wealth")
MEMORY_PATTERN = re.compile(r"^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$", re.IGNORECASE)
OBJECT_STORE_SCHEMES = ("s3://", "gs://", "gcs://", "az://", "abfss://", "r2://")
MAX_SENDGRID_BATCH = 1000


class SettingsError(ValueError):
    """One or more settings are invalid; the message names each variable and what is wrong."""


def _setting(default: Any, env: str | tuple[str, ...], doc: str) -> Any:
    names = (env,) if isinstance(env, str) else env
    return Field(default, description=doc, json_schema_extra={"env": list(names)})


class Settings(BaseModel):
    """Where data comes from and goes to, the knobs of an analysis run, and how campaigns are delivered."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # Analytics runs.
    landing: Path = _setting(DEFAULT_LANDING, "FINGROWTH_LANDING", "landing folder")
    warehouse: Path = _setting(DEFAULT_WAREHOUSE, "FINGROWTH_WAREHOUSE", "DuckDB file")
    out: Path = _setting(DEFAULT_OUT, "FINGROWTH_OUT", "output folder (dashboards go to `OUT/dashboards/`)")
    as_of: date | None = _setting(None, "FINGROWTH_AS_OF", "analysis date (default: latest in the data)")
    timezone: str = _setting("Asia/Shanghai", "FINGROWTH_TIMEZONE",
                             "business time zone: timestamps without offset, local days, cohorts")
    language: Literal["en", "zh"] = _setting("en", "FINGROWTH_LANGUAGE", "dashboard labels, `en` or `zh`")
    min_group_size: int = _setting(10, "FINGROWTH_MIN_GROUP_SIZE", "no dashboard shows a group smaller than this")
    clv_horizon_days: int = _setting(365, "FINGROWTH_CLV_HORIZON_DAYS", "lifetime-value horizon")
    campaigns_dir: Path | None = _setting(None, "FINGROWTH_CAMPAIGNS_DIR",
                                          "folder of campaign YAML files for the dry run (default: bundled example)")
    conversion: Literal["first_transaction", "first_credit", "first_wealth"] = _setting(
        "first_transaction", "FINGROWTH_CONVERSION", "what counts as a conversion for attribution")
    attribution_lookback_days: int = _setting(30, "FINGROWTH_ATTRIBUTION_LOOKBACK_DAYS",
                                              "touches count towards a conversion within this many days before it")
    holdout_weeks: int | None = _setting(None, "FINGROWTH_HOLDOUT_WEEKS",
                                         "weeks held out to check the lifetime-value model (default: half the "
                                         "history, at most 39)")
    rule_segments: Path | None = _setting(None, "FINGROWTH_RULE_SEGMENTS",
                                          "YAML of analysts' rule-based segments (default: shipped examples)")
    value_maps: Path | None = _setting(None, "FINGROWTH_VALUE_MAPS",
                                       "YAML of more spellings to map to contract values (extends the shipped "
                                       "`ingest/library/value_maps.yaml`)")
    targets: Path | None = _setting(None, "FINGROWTH_TARGETS",
                                    "YAML of monthly targets of the headline metrics (default `config/targets.yaml` when present)")
    staged_dir: str | None = _setting(None, "FINGROWTH_STAGED_DIR",
                                      "daily Parquet partitions of staged event-like sources: a folder or an "
                                      "object-store URL (default `<warehouse name>_staged/` next to the warehouse "
                                      "file)")
    duckdb_memory_limit: str | None = _setting(None, "FINGROWTH_DUCKDB_MEMORY_LIMIT",
                                               "DuckDB `memory_limit` (e.g. `4GB`; default half the machine's memory)")
    duckdb_threads: int | None = _setting(None, "FINGROWTH_DUCKDB_THREADS", "DuckDB `threads` (default every core)")

    # Campaigns: who acts, and how messages are delivered.
    user: str | None = _setting(None, "FINGROWTH_USER", "the acting user of campaign and template commands")
    roles: Path = _setting(DEFAULT_ROLES, "FINGROWTH_ROLES", "roles file `users: {name: role}`")
    sendgrid_api_key: SecretStr | None = _setting(None, ("SENDGRID_API_KEY", "FINGROWTH_SENDGRID_API_KEY"),
                                                  "SendGrid API key for live sends (never printed or stored)")
    sendgrid_host: str = _setting("https://api.sendgrid.com", "FINGROWTH_SENDGRID_HOST",
                                  "SendGrid API host (e.g. `https://api.eu.sendgrid.com`)")
    sender_email: str = _setting("marketing@example.com", "FINGROWTH_SENDER_EMAIL", "From address")
    sender_name: str | None = _setting(None, "FINGROWTH_SENDER_NAME",
                                       "From name (default: the template's sender legal name)")
    sendgrid_asm_group: int | None = _setting(None, "FINGROWTH_SENDGRID_ASM_GROUP",
                                              "SendGrid unsubscribe group (required for live e-mail sends)")
    sendgrid_batch_size: int = _setting(MAX_SENDGRID_BATCH, "FINGROWTH_SENDGRID_BATCH_SIZE",
                                        "recipients per SendGrid request (at most 1,000)")
    sendgrid_timeout: float = _setting(10.0, "FINGROWTH_SENDGRID_TIMEOUT", "seconds before a SendGrid request times out")
    unsubscribe_url: str = _setting("https://example.com/unsubscribe", "FINGROWTH_UNSUBSCRIBE_URL",
                                    "base of every recipient's unsubscribe link")
    export_dir: Path = _setting(Path("out/exports"), "FINGROWTH_EXPORT_DIR", "folder of SMS and push vendor files")
    sendgrid_webhook_public_key: SecretStr | None = _setting(
        None, "FINGROWTH_SENDGRID_WEBHOOK_PUBLIC_KEY",
        "the signed Event Webhook's verification key (base64 DER; never printed)")
    campaign_db: SecretStr | None = _setting(
        None, "FINGROWTH_CAMPAIGN_DB",
        "campaign store URL (SQLAlchemy): `sqlite:///FILE` or `postgresql+psycopg://USER:PASSWORD@HOST/DB` "
        "(default `campaigns.sqlite3` beside the warehouse file; never printed)")
    reconcile_wait_minutes: float = _setting(30.0, "FINGROWTH_RECONCILE_WAIT_MINUTES",
                                             "minutes an unknown batch waits for a provider event before its one "
                                             "resend")
    send_at_grace_hours: float = _setting(24.0, "FINGROWTH_SEND_AT_GRACE_HOURS",
                                          "a launch for a `send_at` further in the past is refused until re-planned")
    webhook_read_timeout: float = _setting(10.0, "FINGROWTH_WEBHOOK_READ_TIMEOUT",
                                           "seconds the webhook receiver gives a client to send a whole request")

    # The web console.
    console_secret: SecretStr | None = _setting(
        None, "FINGROWTH_CONSOLE_SECRET",
        "signs the console's session cookies (at least 32 characters; default: a random one per start, so a "
        "restart signs everyone out; never printed)")
    console_session_hours: float = _setting(8.0, "FINGROWTH_CONSOLE_SESSION_HOURS",
                                            "a console session ends this many hours after sign-in")
    console_idle_minutes: float = _setting(30.0, "FINGROWTH_CONSOLE_IDLE_MINUTES",
                                           "a console session ends after this many minutes without a request")

    # Dagster.
    dagster_home: Path | None = _setting(None, "DAGSTER_HOME",
                                         "Dagster instance folder (default: `.dagster/` beside `dagster.yaml`)")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Settings from the environment (or `environ`), with `overrides` (by field name) winning.

        An unset or empty variable keeps the default. `targets` defaults to `config/targets.yaml` when that
        file exists in the working directory.

        Raises:
            SettingsError: naming every invalid variable.
        """
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for name, field in cls.model_fields.items():
            for variable in field.json_schema_extra["env"]:
                text = env.get(variable, "").strip()
                if text:
                    values[name] = text
                    break
        if "targets" not in values and DEFAULT_TARGETS.is_file():
            values["targets"] = DEFAULT_TARGETS
        values.update({key: value for key, value in overrides.items() if value is not None})
        return cls.validated(values)

    @classmethod
    def validated(cls, values: Mapping[str, Any]) -> Settings:
        """Build settings from field values, turning pydantic's errors into one readable SettingsError."""
        try:
            return cls.model_validate(dict(values))
        except ValidationError as error:
            raise SettingsError("; ".join(_describe(item) for item in error.errors())) from None

    def replaced(self, **changes: Any) -> Settings:
        """A copy with some fields changed (validated again)."""
        return self.validated({**dict(self), **changes})

    @staticmethod
    def environment_variables() -> dict[str, tuple[str, ...]]:
        """Field name → the environment variable(s) it is read from."""
        return {name: tuple(field.json_schema_extra["env"]) for name, field in Settings.model_fields.items()}

    @field_validator("as_of", mode="before")
    @classmethod
    def _iso_date(cls, value: Any) -> Any:
        if isinstance(value, str):
            return parse_as_of(value)
        return value

    @field_validator("min_group_size", "clv_horizon_days", "attribution_lookback_days", "holdout_weeks",
                     "duckdb_threads", "sendgrid_batch_size", mode="before")
    @classmethod
    def _positive(cls, value: Any) -> Any:
        if value is None:
            return value
        try:
            number = int(str(value).strip()) if not isinstance(value, int) else value
        except ValueError:
            raise ValueError(f"must be an integer, got {value!r}") from None
        if isinstance(number, bool) or number < 1:
            raise ValueError(f"must be at least 1, got {value!r}")
        return number

    @field_validator("sendgrid_batch_size")
    @classmethod
    def _batch_size(cls, value: int) -> int:
        if value > MAX_SENDGRID_BATCH:
            raise ValueError(f"must be at most {MAX_SENDGRID_BATCH} (SendGrid's limit per request), got {value}")
        return value

    @field_validator("sendgrid_timeout", "webhook_read_timeout", "send_at_grace_hours", "console_session_hours",
                     "console_idle_minutes")
    @classmethod
    def _timeout(cls, value: float) -> float:
        if value <= 0:
            raise ValueError(f"must be a positive number, got {value!r}")
        return value

    @field_validator("reconcile_wait_minutes")
    @classmethod
    def _wait(cls, value: float) -> float:
        if value < 0:
            raise ValueError(f"must be zero or more minutes, got {value!r}")
        return value

    @field_validator("campaign_db")
    @classmethod
    def _campaign_db(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith(("sqlite:", "postgresql:", "postgresql+")):
            raise ValueError("must be a sqlite:/// or postgresql+psycopg:// URL")
        return value

    @field_validator("console_secret")
    @classmethod
    def _console_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("must be at least 32 characters (e.g. `python -c 'import secrets; "
                             "print(secrets.token_urlsafe(32))'`)")
        return value

    @field_validator("conversion", mode="before")
    @classmethod
    def _conversion(cls, value: Any) -> Any:
        if value not in CONVERSIONS:
            raise ValueError(f"conversion must be one of {', '.join(CONVERSIONS)}, got {value!r}")
        return value

    @field_validator("language", mode="before")
    @classmethod
    def _language(cls, value: Any) -> Any:
        if value not in ("en", "zh"):
            raise ValueError(f"language must be 'en' or 'zh', got {value!r}")
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}: use an IANA name such as 'Asia/Shanghai'") from None
        return value

    @field_validator("rule_segments", "targets", "value_maps")
    @classmethod
    def _existing_file(cls, value: Path | None, info) -> Path | None:
        if value is not None and not value.is_file():
            label = {"rule_segments": "rule segments file", "targets": "targets file",
                     "value_maps": "value maps file"}[info.field_name]
            raise ValueError(f"{label} {value} does not exist")
        return value

    @field_validator("duckdb_memory_limit")
    @classmethod
    def _memory(cls, value: str | None) -> str | None:
        if value is not None and not MEMORY_PATTERN.match(value.strip()):
            raise ValueError(f"must be an amount such as 4GB or 512MB, got {value!r}")
        return value.strip() if value else value

    @field_validator("staged_dir")
    @classmethod
    def _staged_dir(cls, value: str | None) -> str | None:
        if value is not None and "://" in value and not value.startswith(OBJECT_STORE_SCHEMES):
            raise ValueError(f"must be a folder or one of {', '.join(OBJECT_STORE_SCHEMES)}, got {value!r}")
        return value

    @property
    def staged_location(self) -> str:
        """Where staged Parquet partitions live: an object-store URL as given, else an absolute folder."""
        if self.staged_dir is not None and self.staged_dir.startswith(OBJECT_STORE_SCHEMES):
            return self.staged_dir.rstrip("/")
        # One folder per warehouse file: two warehouses side by side never share staged data.
        folder = Path(self.staged_dir) if self.staged_dir else self.warehouse.parent / f"{self.warehouse.stem}_staged"
        return str(folder.absolute())

    @property
    def dashboards_dir(self) -> Path:
        return self.out / "dashboards"

    def sendgrid_key(self) -> str | None:
        """The SendGrid API key in clear, for the one call that needs it (never log the result)."""
        return self.sendgrid_api_key.get_secret_value() if self.sendgrid_api_key else None

    def campaign_db_url(self) -> str:
        """The campaign store URL in clear, for the one place that opens it (may hold a password)."""
        if self.campaign_db is not None:
            return self.campaign_db.get_secret_value()
        return f"sqlite:///{(self.warehouse.parent / 'campaigns.sqlite3').absolute()}"

    def console_secret_key(self) -> str | None:
        return self.console_secret.get_secret_value() if self.console_secret else None

    def webhook_public_key(self) -> str | None:
        return self.sendgrid_webhook_public_key.get_secret_value() if self.sendgrid_webhook_public_key else None


def parse_as_of(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError as error:
        raise ValueError(f"as-of date must be YYYY-MM-DD, got {text!r}") from error


def _describe(item: dict) -> str:
    field = str(item["loc"][0]) if item.get("loc") else ""
    variables = Settings.environment_variables().get(field, (field,))
    message = str(item.get("msg", "invalid"))
    message = message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    return f"{' or '.join(variables)}: {message}" if field else message

"""The input contract: every landing source, its columns, types, keys and references.

The staging SQL and the Great Expectations suites are both generated from these declarations, so a
column rule is written once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ColumnType = Literal["str", "timestamp", "date", "money", "int", "float", "bool", "json"]


@dataclass(frozen=True)
class Column:
    """One column of a source as the contract defines it."""

    name: str
    type: ColumnType = "str"
    required: bool = False
    allowed: tuple[str, ...] | None = None
    min_value: float | None = None
    max_value: float | None = None
    # Contact details are split off into private.user_contacts and never reach analytical tables.
    contact: bool = False


@dataclass(frozen=True)
class Reference:
    """A foreign key: `column` must name an existing `target_source`.`target_column`."""

    column: str
    target_source: str
    target_column: str


@dataclass(frozen=True)
class SourceContract:
    """A landing source: its columns, natural key and references."""

    name: str
    grain: str
    required: bool
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    references: tuple[Reference, ...] = ()
    # At least one of these columns must be filled (events and touchpoints: user_id or anonymous_id).
    one_of_required: tuple[str, ...] = ()
    # The column whose local date is the row's day, for event-like sources.
    event_time_column: str | None = None
    # A key derived by hashing these columns when the source has no natural key.
    derived_key_from: tuple[str, ...] = field(default_factory=tuple)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"{self.name} has no column {name!r}")


PRODUCT_LINES = ("credit", "wealth", "payment", "other")
RISK_LEVELS = ("C1", "C2", "C3", "C4", "C5")
RISK_GRADES = ("R1", "R2", "R3", "R4", "R5")

USERS = SourceContract(
    name="users",
    grain="One row per user, keyed by user_id.",
    required=True,
    key=("user_id",),
    columns=(
        Column("user_id", required=True),
        Column("signup_at", "timestamp", required=True),
        Column("birth_date", "date", contact=True),
        Column("gender", allowed=("female", "male", "other", "unknown")),
        Column("province"),
        Column("city"),
        Column("city_tier", "int", min_value=1, max_value=5),
        Column("occupation"),
        Column("income_band"),
        Column("is_student", "bool"),
        Column("kyc_status", allowed=("none", "pending", "passed", "failed")),
        Column("risk_level", allowed=RISK_LEVELS),
        Column("risk_assessed_at", "timestamp"),
        Column("acquisition_channel"),
        Column("email", contact=True),
        Column("phone", contact=True),
        Column("country"),
        Column("timezone"),
        Column("language"),
    ),
)

PRODUCTS = SourceContract(
    name="products",
    grain="One row per product, keyed by product_id.",
    required=False,
    key=("product_id",),
    columns=(
        Column("product_id", required=True),
        Column("product_line", required=True, allowed=PRODUCT_LINES),
        Column("risk_grade", allowed=RISK_GRADES),
        Column("apr_min", "float", min_value=0, max_value=10),
        Column("apr_max", "float", min_value=0, max_value=10),
        Column("issuer"),
    ),
)

TRANSACTIONS = SourceContract(
    name="transactions",
    grain="One row per transaction, keyed by txn_id.",
    required=True,
    key=("txn_id",),
    event_time_column="occurred_at",
    references=(
        Reference("user_id", "users", "user_id"),
        Reference("product_id", "products", "product_id"),
    ),
    columns=(
        Column("txn_id", required=True),
        Column("user_id", required=True),
        Column("occurred_at", "timestamp", required=True),
        Column("amount", "money", required=True, min_value=0),
        Column("product_line", allowed=PRODUCT_LINES),
        Column("product_id"),
        Column("revenue", "money"),
        Column("currency"),
        Column("status", allowed=("completed", "failed", "refunded")),
    ),
)

EVENTS = SourceContract(
    name="events",
    grain="One row per behavioural event, keyed by event_id.",
    required=False,
    key=("event_id",),
    event_time_column="occurred_at",
    one_of_required=("user_id", "anonymous_id"),
    references=(Reference("user_id", "users", "user_id"),),
    columns=(
        Column("event_id", required=True),
        Column("occurred_at", "timestamp", required=True),
        Column("event_name", required=True),
        Column("user_id"),
        Column("anonymous_id"),
        Column("platform", allowed=("ios", "android", "web", "mini_program")),
        Column("channel"),
        Column("properties", "json"),
    ),
)

TOUCHPOINTS = SourceContract(
    name="touchpoints",
    grain="One row per marketing touch, keyed by a hash of its content (touchpoint_id).",
    required=False,
    key=("touchpoint_id",),
    derived_key_from=("occurred_at", "channel", "user_id", "anonymous_id", "campaign", "touch_type"),
    event_time_column="occurred_at",
    one_of_required=("user_id", "anonymous_id"),
    references=(Reference("user_id", "users", "user_id"),),
    columns=(
        Column("occurred_at", "timestamp", required=True),
        Column("channel", required=True),
        Column("user_id"),
        Column("anonymous_id"),
        Column("campaign"),
        Column("touch_type", allowed=("impression", "click")),
        Column("cost", "money", min_value=0),
    ),
)

MARKETING_SPEND = SourceContract(
    name="marketing_spend",
    grain="One row per date, channel and campaign.",
    required=False,
    key=("date", "channel", "campaign"),
    columns=(
        Column("date", "date", required=True),
        Column("channel", required=True),
        Column("spend", "money", required=True, min_value=0),
        Column("campaign"),
        Column("impressions", "int", min_value=0),
        Column("clicks", "int", min_value=0),
        Column("currency"),
    ),
)

CONSENTS = SourceContract(
    name="consents",
    grain="One row per consent record (user, channel, purpose, recorded_at).",
    required=False,
    key=("user_id", "channel", "purpose", "recorded_at"),
    references=(Reference("user_id", "users", "user_id"),),
    columns=(
        Column("user_id", required=True),
        Column("channel", required=True, allowed=("email", "sms", "push")),
        Column("purpose", required=True, allowed=("marketing", "personalization", "cross_border")),
        Column("status", required=True, allowed=("granted", "withdrawn")),
        Column("recorded_at", "timestamp", required=True),
        Column("source"),
        Column("evidence_ref"),
    ),
)

LOAN_PERFORMANCE = SourceContract(
    name="loan_performance",
    grain="One row per loan per snapshot date (loan_id, as_of).",
    required=False,
    key=("loan_id", "as_of"),
    references=(Reference("user_id", "users", "user_id"),),
    columns=(
        Column("loan_id", required=True),
        Column("user_id", required=True),
        Column("as_of", "date", required=True),
        Column("principal", "money", min_value=0),
        Column("days_past_due", "int", min_value=0),
        Column("charged_off_amount", "money", min_value=0),
    ),
)

# Order matters: a source is staged after every source it references.
CONTRACTS: tuple[SourceContract, ...] = (
    USERS,
    PRODUCTS,
    TRANSACTIONS,
    EVENTS,
    TOUCHPOINTS,
    MARKETING_SPEND,
    CONSENTS,
    LOAN_PERFORMANCE,
)
CONTRACTS_BY_NAME = {c.name: c for c in CONTRACTS}

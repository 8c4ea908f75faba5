"""Lifecycle stage of each user at the as-of date.

All clocks are whole days at the as-of date. Rules are checked top to bottom and the first match
wins, so every user gets exactly one stage. Defaults (all in :class:`LifecycleRules`):

| # | stage              | rule (defaults)                                                           |
|---|--------------------|---------------------------------------------------------------------------|
| 1 | `reactivated`      | purchased within 30 days, and the gap between the last two purchase days  |
|   |                    | was ≥ 90 days (a lapsed customer came back)                               |
| 2 | `new`              | signed up ≤ 30 days ago, or first purchase ≤ 30 days ago                  |
| 3 | `active`           | last purchase ≤ 30 days ago                                               |
| 4 | `at_risk`          | last purchase 31–90 days ago                                              |
| 5 | `dormant`          | last purchase 91–180 days ago                                             |
| 6 | `churned`          | last purchase > 180 days ago                                              |
| 7 | `never_transacted` | no purchase, signed up 31–90 days ago (or signup date unknown)           |
| 8 | `churned`          | no purchase, signed up > 90 days ago                                      |

Reactivation is checked before "new" because a comeback after a long gap says more about the
user than a recent signup does; the two rarely meet (a first purchase ≤ 30 days ago has no gap).
A user who never purchased and signed up ≤ 30 days ago is `new` (rule 2).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

LIFECYCLE_STAGES: tuple[str, ...] = (
    "new",
    "active",
    "at_risk",
    "dormant",
    "churned",
    "reactivated",
    "never_transacted",
)


@dataclass(frozen=True)
class LifecycleRules:
    """Day thresholds of the lifecycle rules (see the module docstring for the table).

    Attributes:
        new_days: a signup or first purchase at most this many days ago makes a user new.
        active_days: last purchase at most this many days ago means active.
        at_risk_days: last purchase up to this many days ago (and beyond active) means at risk.
        dormant_days: last purchase up to this many days ago (and beyond at risk) means dormant;
            beyond it, churned.
        reactivation_gap_days: minimum gap between the last two purchase days for a recent
            purchase to count as a reactivation.
        never_transacted_days: a user without purchases who signed up more than this many days
            ago is churned; before that, never_transacted.
    """

    new_days: int = 30
    active_days: int = 30
    at_risk_days: int = 90
    dormant_days: int = 180
    reactivation_gap_days: int = 90
    never_transacted_days: int = 90

    def __post_init__(self) -> None:
        if not 0 <= self.active_days < self.at_risk_days < self.dormant_days:
            raise ValueError(
                "LifecycleRules needs 0 <= active_days < at_risk_days < dormant_days, got "
                f"{self.active_days}, {self.at_risk_days}, {self.dormant_days}"
            )
        if min(self.new_days, self.reactivation_gap_days, self.never_transacted_days) < 0:
            raise ValueError("LifecycleRules thresholds must be non-negative")


def lifecycle_stage_expr(rules: LifecycleRules | None = None) -> pl.Expr:
    """Build the lifecycle-stage expression.

    Args:
        rules: thresholds; the defaults documented in the module docstring when None.

    Returns:
        A Utf8 expression named ``lifecycle_stage`` over the columns ``tenure_days`` (days since
        signup), ``recency_days`` (days since last purchase, null if none),
        ``first_txn_age_days`` (days since first purchase, null if none) and
        ``gap_before_last_txn_days`` (days between the last two purchase days, null if fewer
        than two).
    """
    rules = rules or LifecycleRules()
    tenure = pl.col("tenure_days")
    recency = pl.col("recency_days")
    first_age = pl.col("first_txn_age_days")
    gap = pl.col("gap_before_last_txn_days")
    purchased = recency.is_not_null()
    # fill_null(False) keeps unknown clocks from silently matching a rule through null logic.
    new_signup = (tenure <= rules.new_days).fill_null(False)
    new_buyer = (first_age <= rules.new_days).fill_null(False)
    came_back = (gap >= rules.reactivation_gap_days).fill_null(False)

    return (
        pl.when(purchased & (recency <= rules.active_days) & came_back)
        .then(pl.lit("reactivated"))
        .when(new_signup | new_buyer)
        .then(pl.lit("new"))
        .when(purchased & (recency <= rules.active_days))
        .then(pl.lit("active"))
        .when(purchased & (recency <= rules.at_risk_days))
        .then(pl.lit("at_risk"))
        .when(purchased & (recency <= rules.dormant_days))
        .then(pl.lit("dormant"))
        .when(purchased)
        .then(pl.lit("churned"))
        .when((tenure > rules.never_transacted_days).fill_null(False))
        .then(pl.lit("churned"))
        .otherwise(pl.lit("never_transacted"))
        .cast(pl.Utf8)
        .alias("lifecycle_stage")
    )


def lifecycle_counts(clocks: pl.DataFrame, rules: LifecycleRules | None = None) -> pl.DataFrame:
    """Users per snapshot date and lifecycle stage, with each stage's share of the snapshot's users.

    Args:
        clocks: one row per snapshot date and combination of clocks (the columns `lifecycle_stage_expr`
            reads, taken at the snapshot) with the number of `users` who have them.
        rules: thresholds; the documented defaults when None.
    """
    return (
        clocks.with_columns(lifecycle_stage_expr(rules))
        .group_by("snapshot_date", "lifecycle_stage")
        .agg(pl.col("users").sum().cast(pl.Int64))
        .with_columns((pl.col("users") / pl.col("users").sum().over("snapshot_date")).alias("share"))
        .sort("snapshot_date", "lifecycle_stage")
    )

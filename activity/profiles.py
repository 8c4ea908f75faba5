"""User profiles: the SQL of `activity/sql/user_profile.sql`, plus each user's lifecycle stage."""

from __future__ import annotations

import polars as pl

from activity.daily_activity import SESSION_GAP_SECONDS
from segments.lifecycle import lifecycle_stage_expr

PROFILE_QUERY = "user_profile"
PROFILE_PARAMETERS = {"session_gap_seconds": SESSION_GAP_SECONDS}


def user_profile(base: pl.DataFrame) -> pl.DataFrame:
    """The profile rows of the SQL with their `lifecycle_stage` (rules: `segments/lifecycle.py`).

    `frequency` counts repeat purchase days (the lifetime-value papers' convention); `recency_days` and
    `tenure_days` are measured at the as-of date. Funnel stages, sessions and activity windows are
    documented in `docs/segments.md`.
    """
    return base.with_columns(lifecycle_stage_expr())

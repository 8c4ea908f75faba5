"""The core layer and the behaviour marts: what users did, cut at the analysis date.

The analysis window (as-of date, window end, currency), completed purchases, per-user-per-day activity
(rebuilt incrementally, `activity.daily_activity`), user profiles and daily KPIs. SQL lives in
`activity/sql/` and is loaded by name; no Dagster here.
"""

"""Holdout lift: conversion windows, intent to treat, and the interval."""

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from campaigns.results.holdout_lift import holdout_lift

DECIDED = datetime(2026, 5, 1, tzinfo=UTC)


def assignments(treated: int, holdout: int) -> pl.DataFrame:
    users = [f"t{i}" for i in range(treated)] + [f"h{i}" for i in range(holdout)]
    decisions = ["send"] * treated + ["holdout"] * holdout
    return pl.DataFrame({"campaign_id": "c1", "user_id": users + ["x"], "decision": decisions + ["excluded"],
                         "decided_at": [DECIDED] * (len(users) + 1)})


def purchases(users: list[str], days_after: float = 3) -> pl.DataFrame:
    return pl.DataFrame({"user_id": users, "occurred_at": [DECIDED + timedelta(days=days_after)] * len(users)})


def test_rates_difference_and_interval():
    bought = [f"t{i}" for i in range(300)] + [f"h{i}" for i in range(20)] + ["x"]
    lift = holdout_lift(assignments(1000, 200), purchases(bought), DECIDED + timedelta(days=60)).row(0, named=True)
    assert (lift["treated_users"], lift["treated_converted"], lift["holdout_users"], lift["holdout_converted"]) == (
        1000, 300, 200, 20)
    assert lift["lift"] == pytest.approx(0.2)
    se = (0.3 * 0.7 / 1000 + 0.1 * 0.9 / 200) ** 0.5
    assert lift["lift_low"] == pytest.approx(0.2 - 1.959964 * se, rel=1e-5)
    assert lift["lift_high"] == pytest.approx(0.2 + 1.959964 * se, rel=1e-5)
    assert lift["relative_lift"] == pytest.approx(2.0) and lift["window_complete"]


def test_purchases_outside_the_window_or_before_the_decision_do_not_count():
    late = purchases([f"t{i}" for i in range(10)], days_after=31)
    early = purchases([f"h{i}" for i in range(10)], days_after=-1)
    lift = holdout_lift(assignments(50, 50), pl.concat([late, early]), DECIDED + timedelta(days=10)).row(0, named=True)
    assert lift["treated_converted"] == 0 and lift["holdout_converted"] == 0
    assert lift["relative_lift"] is None and not lift["window_complete"]


def test_a_campaign_without_holdout_has_no_row():
    assert holdout_lift(assignments(10, 0), purchases(["t1"]), DECIDED).height == 0

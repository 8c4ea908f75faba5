import polars as pl
import pytest

from segments.lifecycle import LIFECYCLE_STAGES, LifecycleRules, lifecycle_stage_expr

# (tenure_days, recency_days, first_txn_age_days, gap_before_last_txn_days, expected stage)
CASES = [
    (10, None, None, None, "new"),  # fresh signup, no purchase yet
    (30, None, None, None, "new"),  # boundary of new_days
    (31, None, None, None, "never_transacted"),
    (90, None, None, None, "never_transacted"),  # boundary of never_transacted_days
    (91, None, None, None, "churned"),
    (None, None, None, None, "never_transacted"),  # unknown signup: no claim of churn
    (400, 5, 20, 5, "new"),  # old account, first purchase 20 days ago
    (400, 5, 300, 10, "active"),
    (400, 30, 300, 10, "active"),  # boundary of active_days
    (400, 31, 300, 10, "at_risk"),
    (400, 90, 300, None, "at_risk"),  # boundary of at_risk_days, single purchase
    (400, 91, 300, 10, "dormant"),
    (400, 180, 300, 10, "dormant"),  # boundary of dormant_days
    (400, 181, 300, 10, "churned"),
    (400, 10, 300, 90, "reactivated"),  # boundary of reactivation_gap_days
    (400, 10, 300, 89, "active"),
    (400, 31, 300, 120, "at_risk"),  # came back, but not within active_days
    (20, 3, 20, 100, "reactivated"),  # reactivation wins over a recent signup
    (None, 200, 250, None, "churned"),  # unknown signup but known purchases
]


def test_every_hand_made_row_gets_its_expected_stage():
    frame = pl.DataFrame(
        [row[:4] for row in CASES],
        schema={
            "tenure_days": pl.Int64,
            "recency_days": pl.Int64,
            "first_txn_age_days": pl.Int64,
            "gap_before_last_txn_days": pl.Int64,
        },
        orient="row",
    )
    stages = frame.select(lifecycle_stage_expr())["lifecycle_stage"]
    assert stages.dtype == pl.Utf8
    assert stages.to_list() == [row[4] for row in CASES]
    assert set(stages) <= set(LIFECYCLE_STAGES)


def test_custom_thresholds_move_the_boundaries():
    frame = pl.DataFrame(
        {
            "tenure_days": [500, 500, 500],
            "recency_days": [10, 50, 70],
            "first_txn_age_days": [400, 400, 400],
            "gap_before_last_txn_days": [1, 1, 1],
        }
    )
    rules = LifecycleRules(active_days=14, at_risk_days=60, dormant_days=120)
    got = frame.select(lifecycle_stage_expr(rules))["lifecycle_stage"].to_list()
    assert got == ["active", "at_risk", "dormant"]


def test_inconsistent_thresholds_are_rejected():
    with pytest.raises(ValueError, match="at_risk_days"):
        LifecycleRules(at_risk_days=20)

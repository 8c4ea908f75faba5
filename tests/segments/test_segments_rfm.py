import polars as pl
import pytest

from segments.rfm import NO_PURCHASE_SEGMENT, RFM_GRID, RFM_SEGMENTS, score_rfm


@pytest.fixture()
def profile() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "user_id": ["a", "b", "c", "d", "e", "f"],
            "recency_days": [1, 5, None, 100, 5, 300],
            "txn_count": [10, 1, 0, 1, 2, 1],
            "total_amount": [100.0, 5.0, 0.0, 3.0, 50.0, 1.0],
            "monetary_avg": [10.0, 5.0, None, 3.0, 25.0, 1.0],
        }
    )


def test_scores_cells_and_segments_match_hand_computed_values(profile):
    # Five purchasers; score = 1 + floor(5 * share strictly worse).
    # Recency: f worst(0 worse)->1, d(1)->2, b,e tie(2)->3, a(4)->5.
    # Frequency: b,d,f tie at 1 txn ->1, e(3 worse)->4, a->5.  Money: f1 d2 b3 e4 a5.
    got = score_rfm(profile)
    assert got.columns == ["user_id", "r_score", "f_score", "m_score", "rfm_cell", "rfm_segment"]
    assert got.schema["r_score"] == pl.Int64
    assert got["r_score"].to_list() == [5, 3, None, 2, 3, 1]
    assert got["f_score"].to_list() == [5, 1, None, 1, 4, 1]
    assert got["m_score"].to_list() == [5, 3, None, 2, 4, 1]
    assert got["rfm_cell"].to_list() == ["R5F5M5", "R3F1M3", None, "R2F1M2", "R3F4M4", "R1F1M1"]
    assert got["rfm_segment"].to_list() == [
        "Champions", "About to sleep", NO_PURCHASE_SEGMENT, "Hibernating", "Loyal", "Lost",
    ]


def test_monetary_average_can_replace_total(profile):
    got = score_rfm(profile, monetary_column="monetary_avg")
    # monetary_avg: f1 d3 b5 a10 e25 -> f1 d2 b3 a4 e5
    assert got["m_score"].to_list() == [4, 3, None, 2, 5, 1]


def test_scores_do_not_depend_on_row_order(profile):
    reordered = profile.sample(fraction=1.0, shuffle=True, seed=7)
    a = score_rfm(profile).sort("user_id")
    b = score_rfm(reordered).sort("user_id")
    assert a.equals(b)


def test_grid_is_a_partition_naming_every_standard_segment():
    assert set(RFM_GRID) == {(r, fm) for r in range(1, 6) for fm in range(1, 6)}
    assert set(RFM_GRID.values()) | {NO_PURCHASE_SEGMENT} == set(RFM_SEGMENTS)
    assert len(RFM_SEGMENTS) == 12


def test_quintiles_are_balanced_on_distinct_values():
    n = 1000
    frame = pl.DataFrame(
        {
            "user_id": [str(i) for i in range(n)],
            "recency_days": list(range(n)),
            "txn_count": list(range(1, n + 1)),
            "total_amount": [float(i) for i in range(n)],
        }
    )
    got = score_rfm(frame)
    for column in ["r_score", "f_score", "m_score"]:
        counts = got[column].value_counts().sort(column)["count"].to_list()
        assert counts == [200] * 5
    # The most recent user has the highest recency score.
    assert got.filter(pl.col("user_id") == "0")["r_score"].item() == 5


def test_missing_column_is_named():
    with pytest.raises(ValueError, match="txn_count"):
        score_rfm(pl.DataFrame({"user_id": ["a"], "recency_days": [1], "total_amount": [1.0]}))

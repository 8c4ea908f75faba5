"""RFM quintile scores and the named RFM segment grid.

Scores are computed among purchasers only (``recency_days`` not null and ``txn_count`` > 0).
A user's score on a measure is ``1 + floor(5 × share of purchasers with a strictly worse
value)``, capped at 5. Tied users therefore share a score whatever the row order, and the worst
value always scores 1 (e.g. all one-time buyers get F = 1). "Better" means fewer recency days,
more transactions, more money.

The segment comes from R and the combined score FM = round-half-up((F + M) / 2). The classic
published grids (the R ``rfm`` package, Putler's table) overlap and depend on rule order, so this
grid is written as a partition: every (R, FM) cell maps to exactly one segment.

| R \\ FM | 1              | 2                  | 3                  | 4                | 5                |
|--------|----------------|--------------------|--------------------|------------------|------------------|
| 5      | New customers  | Potential loyalist | Potential loyalist | Champions        | Champions        |
| 4      | Promising      | Potential loyalist | Potential loyalist | Champions        | Champions        |
| 3      | About to sleep | About to sleep     | Need attention     | Loyal            | Loyal            |
| 2      | Hibernating    | Hibernating        | At risk            | At risk          | At risk          |
| 1      | Lost           | Lost               | At risk            | Cannot lose them | Cannot lose them |

Users without a purchase get the segment "No purchase" and null scores.
"""

from __future__ import annotations

import polars as pl

NO_PURCHASE_SEGMENT = "No purchase"

# (R, FM) -> segment; the table in the module docstring, row by row.
RFM_GRID: dict[tuple[int, int], str] = {
    **{(5, fm): s for fm, s in zip(range(1, 6), ["New customers", "Potential loyalist",
                                                  "Potential loyalist", "Champions", "Champions"])},
    **{(4, fm): s for fm, s in zip(range(1, 6), ["Promising", "Potential loyalist",
                                                  "Potential loyalist", "Champions", "Champions"])},
    **{(3, fm): s for fm, s in zip(range(1, 6), ["About to sleep", "About to sleep",
                                                  "Need attention", "Loyal", "Loyal"])},
    **{(2, fm): s for fm, s in zip(range(1, 6), ["Hibernating", "Hibernating", "At risk",
                                                  "At risk", "At risk"])},
    **{(1, fm): s for fm, s in zip(range(1, 6), ["Lost", "Lost", "At risk",
                                                  "Cannot lose them", "Cannot lose them"])},
}

RFM_SEGMENTS: tuple[str, ...] = (
    "Champions",
    "Loyal",
    "Potential loyalist",
    "New customers",
    "Promising",
    "Need attention",
    "About to sleep",
    "At risk",
    "Cannot lose them",
    "Hibernating",
    "Lost",
    NO_PURCHASE_SEGMENT,
)


def quintile_score_expr(value: pl.Expr, is_scored: pl.Expr) -> pl.Expr:
    """Score ``value`` 1–5 among rows where ``is_scored`` holds (higher value, higher score).

    Args:
        value: the measure, oriented so that larger is better.
        is_scored: rows that take part; the others get a null score.

    Returns:
        An Int64 expression: ``1 + floor(5 × share of scored rows with a strictly lower value)``.
    """
    scored_value = pl.when(is_scored).then(value)
    # rank "min" gives 1 + (number of strictly lower values), so ties share a rank.
    strictly_lower = scored_value.rank(method="min").cast(pl.Int64) - 1
    n_scored = is_scored.sum().cast(pl.Int64)
    return (
        (strictly_lower * 5 // n_scored + 1).clip(upper_bound=5).cast(pl.Int64)
    )


def _segment_expr(r: pl.Expr, fm: pl.Expr) -> pl.Expr:
    # An integer key (10·R + FM) maps much faster than a formatted string key.
    mapping = {10 * rv + fv: segment for (rv, fv), segment in RFM_GRID.items()}
    return (r * 10 + fm).replace_strict(
        mapping, default=NO_PURCHASE_SEGMENT, return_dtype=pl.Utf8
    )


def score_rfm(profile: pl.DataFrame, monetary_column: str = "total_amount") -> pl.DataFrame:
    """Score recency, frequency and monetary value and name each user's RFM segment.

    Args:
        profile: one row per user with ``user_id``, ``recency_days`` (null = never purchased),
            ``txn_count`` and the monetary column.
        monetary_column: ``total_amount`` (default, total spend) or ``monetary_avg``.

    Returns:
        One row per input user, in input order: ``user_id``, ``r_score``, ``f_score``,
        ``m_score`` (Int64 1–5, null for non-purchasers), ``rfm_cell`` (Utf8 like "R5F4M3",
        null for non-purchasers) and ``rfm_segment`` (Utf8, see the module docstring).
    """
    needed = ["user_id", "recency_days", "txn_count", monetary_column]
    missing = [c for c in needed if c not in profile.columns]
    if missing:
        raise ValueError(f"score_rfm: profile is missing columns {missing}")

    purchased = pl.col("recency_days").is_not_null() & (pl.col("txn_count").fill_null(0) > 0)
    money = pl.col(monetary_column).cast(pl.Float64).fill_null(0.0)
    scores = profile.select(
        pl.col("user_id"),
        # Fewer days since the last purchase is better, hence the negation.
        quintile_score_expr(-pl.col("recency_days").cast(pl.Float64), purchased).alias("r_score"),
        quintile_score_expr(pl.col("txn_count").cast(pl.Float64), purchased).alias("f_score"),
        quintile_score_expr(money, purchased).alias("m_score"),
    )
    fm = (pl.col("f_score") + pl.col("m_score") + 1) // 2
    return scores.with_columns(
        pl.format("R{}F{}M{}", "r_score", "f_score", "m_score").alias("rfm_cell"),
        _segment_expr(pl.col("r_score"), fm).alias("rfm_segment"),
    )

"""Planted dirty rows: each is an extra row copied from a clean one with exactly one defect.

Copies that are not meant to collide on a key get a fresh key, so one dirty row carries one
defect and the clean data stays intact; the manifest can then be checked kind by kind.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from sampledata.formats import utc_zulu


@dataclass(frozen=True)
class DirtyKind:
    """One kind of defect: the column changes applied to sampled copies of clean rows."""

    kind: str
    changes: dict[str, pl.Expr] = field(default_factory=dict)
    eligible: pl.Expr | None = None


def _index() -> pl.Expr:
    return pl.int_range(pl.len())


def fresh(column: str) -> pl.Expr:
    """A new, unused key derived from the copied one."""
    return pl.concat_str([pl.col(column), pl.lit("-d"), _index().cast(pl.Utf8)])


def alternating(first: str, second: str) -> pl.Expr:
    return pl.when(_index() % 2 == 0).then(pl.lit(first)).otherwise(pl.lit(second))


def ghost_user() -> pl.Expr:
    """A user id that no user has."""
    return pl.concat_str([pl.lit("ughost"), _index().cast(pl.Utf8).str.zfill(6)])


def negative(column: str) -> pl.Expr:
    return pl.concat_str([pl.lit("-"), pl.col(column)])


NULL_TEXT = pl.lit(None, dtype=pl.Utf8)
BAD_MONEY = alternating("12.345", "abc")


def plans() -> dict[str, list[DirtyKind]]:
    """The defects planted in each source."""
    return {
        "users": [
            DirtyKind("exact_duplicate"),
            DirtyKind("duplicate_key", {"email": pl.concat_str([pl.lit("alt."), pl.col("email")])}),
            DirtyKind("malformed_timestamp", {"user_id": fresh("user_id"),
                                              "signup_at": alternating("2026-13-45 08:00:00", "yesterday")}),
            DirtyKind("invalid_value", {"user_id": fresh("user_id"), "risk_level": pl.lit("C9")}),
            DirtyKind("missing_required", {"user_id": NULL_TEXT}),
        ],
        "transactions": [
            DirtyKind("exact_duplicate"),
            DirtyKind("duplicate_key", {"amount": pl.concat_str([pl.lit("1"), pl.col("amount")])}),
            DirtyKind("malformed_timestamp", {"txn_id": fresh("txn_id"),
                                              "occurred_at": alternating("2026-13-45T10:00:00+08:00", "yesterday")}),
            DirtyKind("bad_money", {"txn_id": fresh("txn_id"), "amount": BAD_MONEY}),
            DirtyKind("negative_amount", {"txn_id": fresh("txn_id"), "amount": negative("amount")}),
            DirtyKind("invalid_value", {"txn_id": fresh("txn_id"), "product_line": pl.lit("crypto")}),
            DirtyKind("missing_required", {"txn_id": fresh("txn_id"), "user_id": NULL_TEXT}),
            DirtyKind("unknown_user", {"txn_id": fresh("txn_id"), "user_id": ghost_user()}),
            DirtyKind("unknown_product", {"txn_id": fresh("txn_id"), "product_id": pl.lit("ZZ99")}),
        ],
        "events": [
            DirtyKind("exact_duplicate"),
            # A client retry: same event id, clock one second later.
            DirtyKind("duplicate_key", {"occurred_at": utc_zulu(pl.col("_t") + 1)}),
            DirtyKind("malformed_timestamp", {"event_id": fresh("event_id"),
                                              "occurred_at": alternating("2026-13-45T00:00:00Z", "yesterday")}),
            DirtyKind("invalid_value", {"event_id": fresh("event_id"), "platform": pl.lit("blackberry")}),
            DirtyKind("missing_required", {"event_id": fresh("event_id"), "user_id": NULL_TEXT,
                                           "anonymous_id": NULL_TEXT}),
        ],
        "touchpoints": [
            DirtyKind("exact_duplicate"),
            DirtyKind("malformed_timestamp", {"occurred_at": alternating("2026-13-45T10:00:00+08:00", "yesterday")}),
            DirtyKind("bad_money", {"cost": BAD_MONEY}),
            DirtyKind("negative_amount", {"cost": negative("cost")}, pl.col("cost") != "0.00"),
            DirtyKind("invalid_value", {"touch_type": pl.lit("view")}),
            DirtyKind("missing_required", {"user_id": NULL_TEXT, "anonymous_id": NULL_TEXT}),
        ],
        "marketing_spend": [
            DirtyKind("exact_duplicate"),
            DirtyKind("duplicate_key", {"spend": pl.concat_str([pl.lit("1"), pl.col("spend")])}),
            DirtyKind("malformed_timestamp", {"campaign": fresh("campaign"),
                                              "date": alternating("2026-13-45", "yesterday")}),
            DirtyKind("bad_money", {"campaign": fresh("campaign"), "spend": BAD_MONEY}),
            DirtyKind("negative_amount", {"campaign": fresh("campaign"), "spend": negative("spend")},
                      pl.col("spend") != "0.00"),
        ],
        "consents": [
            DirtyKind("exact_duplicate"),
            DirtyKind("invalid_value", {"status": pl.lit("maybe")}),
            DirtyKind("malformed_timestamp", {"recorded_at": alternating("2026-13-45T09:00:00+08:00", "yesterday")}),
            DirtyKind("missing_required", {"user_id": NULL_TEXT}),
            DirtyKind("unknown_user", {"user_id": ghost_user()}),
        ],
        "products": [
            DirtyKind("invalid_value", {"product_id": fresh("product_id"), "product_line": pl.lit("crypto")}),
        ],
        "loan_performance": [
            DirtyKind("exact_duplicate"),
            DirtyKind("negative_amount", {"loan_id": fresh("loan_id"), "principal": -pl.col("principal")},
                      pl.col("principal") > 0),
            DirtyKind("missing_required", {"loan_id": fresh("loan_id"), "user_id": NULL_TEXT}),
            DirtyKind("unknown_user", {"loan_id": fresh("loan_id"), "user_id": ghost_user()}),
        ],
    }


def inject(
    frame: pl.DataFrame,
    kinds: list[DirtyKind],
    fraction: float,
    rng: np.random.Generator,
    minimum: int = 3,
) -> tuple[pl.DataFrame, dict[str, int]]:
    """Append `fraction` of the rows as dirty copies (at least `minimum` per kind); counts by kind."""
    if fraction <= 0 or frame.height == 0:
        return frame, {}
    per_kind = max(minimum, int(round(fraction * frame.height / len(kinds))))
    copies, counts = [], {}
    for kind in kinds:
        pool = frame if kind.eligible is None else frame.filter(kind.eligible)
        size = min(per_kind, pool.height)
        picked = np.sort(rng.choice(pool.height, size=size, replace=False))
        copy = pool[picked]
        if kind.changes:
            copy = copy.with_columns(**kind.changes)
        copies.append(copy)
        counts[kind.kind] = size
    return pl.concat([frame, *copies]), counts

"""The audience funnel: how many people remain after each rule, then after the holdout."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl


def audience_funnel(decisions: pl.DataFrame, rule_ids: Sequence[str] | None = None) -> pl.DataFrame:
    """Count people remaining after each rule, in evaluation order.

    A person leaves the funnel at the first rule they fail (reason codes are in evaluation order);
    `failing` also counts people who fail the rule after failing an earlier one.

    Args:
        decisions: Output of `decide_recipients`.
        rule_ids: The rules evaluated, in order (as `dry_run` passes them). Default: the rules that
            appear in the reason codes, ordered by where they first appear, so rules that excluded
            nobody are not shown.

    Returns:
        Rows `audience`, one per rule, `holdout`, with columns `step` (String), `remaining` (Int64),
        `excluded` (Int64: left the funnel at this step) and `failing` (Int64: failed this rule at all).
    """
    codes = decisions.select(
        pl.col("reason_codes").list.eval(pl.element().str.split(":").list.first()).alias("rules")
    )
    first_failed = codes.select(pl.col("rules").list.first()).to_series()
    all_failed = codes.get_column("rules").explode(empty_as_null=False).drop_nulls()
    if rule_ids is None:
        rule_ids = _order_of_appearance(codes)
    excluded = [int((first_failed == rule_id).sum()) for rule_id in rule_ids]
    failing = [int((all_failed == rule_id).sum()) for rule_id in rule_ids]
    holdout = int((decisions.get_column("decision") == "holdout").sum())
    total = decisions.height
    steps = ["audience", *rule_ids, "holdout"]
    removed = [0, *excluded, holdout]
    remaining = [total - sum(removed[: i + 1]) for i in range(len(steps))]
    return pl.DataFrame(
        {"step": steps, "remaining": remaining, "excluded": removed, "failing": [0, *failing, holdout]},
        schema={"step": pl.String, "remaining": pl.Int64, "excluded": pl.Int64, "failing": pl.Int64},
    )


def _order_of_appearance(codes: pl.DataFrame) -> list[str]:
    positions = (
        codes.with_columns(pl.int_ranges(pl.col("rules").list.len()).alias("position"))
        .explode("rules", "position", empty_as_null=False)
        .drop_nulls("rules")
        .group_by("rules")
        .agg(pl.col("position").min())
        .sort("position", "rules")
    )
    return positions.get_column("rules").to_list()

"""A campaign's audience: the `marts.user_segment` rows its segment filter selects."""

from __future__ import annotations

import polars as pl

from campaigns.definitions.campaign_file import Campaign


def select_audience(user_segment: pl.DataFrame, campaign: Campaign) -> pl.DataFrame:
    """The campaign's audience from `marts.user_segment`.

    Args:
        user_segment: One row per user with `user_id` and the segment columns the campaign filters on.
        campaign: The campaign.

    Returns:
        The matching rows of `user_segment` (all its columns), one per user.
    """
    condition = pl.lit(True)
    for column, values in campaign.segment:
        condition = condition & pl.col(column).cast(pl.String).is_in(list(values))
    return user_segment.filter(condition).unique("user_id", keep="first", maintain_order=True)

"""A campaign's audience: the `marts.user_segment` rows its segment filter selects."""

from __future__ import annotations

import polars as pl

from campaigns.campaign_errors import CampaignMismatchError
from campaigns.definitions.campaign_file import Campaign


def select_audience(user_segment: pl.DataFrame, campaign: Campaign) -> pl.DataFrame:
    """The campaign's audience from `marts.user_segment`.

    Args:
        user_segment: One row per user with `user_id` and the segment columns the campaign filters on
            (`rule_segment`, when present, is the list of the person's rule segments).
        campaign: The campaign.

    Returns:
        The matching rows of `user_segment` (all its columns), one per user.
    """
    condition = pl.lit(True)
    for column, values in campaign.segment:
        if column not in user_segment.columns:
            raise CampaignMismatchError(f"campaign '{campaign.campaign_id}' filters on {column!r}, which the "
                                        "warehouse does not have yet (run the segmentation first)")
        if isinstance(user_segment.schema[column], pl.List):
            # A person in several rule segments matches when any of them is wanted.
            matches = pl.col(column).list.eval(pl.element().cast(pl.String).is_in(list(values))).list.any()
            condition = condition & matches.fill_null(False)
        else:
            condition = condition & pl.col(column).cast(pl.String).is_in(list(values))
    return user_segment.filter(condition).unique("user_id", keep="first", maintain_order=True)

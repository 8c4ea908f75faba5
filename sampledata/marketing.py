"""Marketing touchpoints (journeys before signup and first purchase) and daily spend."""

from __future__ import annotations

import numpy as np
import polars as pl

from sampledata import catalog as c
from sampledata.formats import (
    SECONDS_PER_DAY,
    local_with_offset,
    lookup,
    money,
    uniform_times,
)
from sampledata.population import Population, Window, campaign_table, random_campaign

# Channel popularity for touches that are not the converting one.
TOUCH_CHANNEL_P = np.array([0.20, 0.25, 0.25, 0.20, 0.05, 0.05])
RETARGETING_CHANNELS = np.array([1, 2, 3])
VISITORS_PER_USER = 0.6
REFERENCE_USERS = 50_000


def visitor_count(users: int) -> int:
    """Anonymous devices that see ads but never sign up."""
    return int(round(VISITORS_PER_USER * users))


def generate_touchpoints(
    rng: np.random.Generator,
    pop: Population,
    transactions: pl.DataFrame,
    visitor_devices: pl.Series,
    window: Window,
) -> pl.DataFrame:
    """All touches sorted by time, with internal `_t`, `_device`, `_user` (-1 for none), `_click`.

    Each user's last touch before signup is a click on their acquisition channel and campaign, so
    last-touch attribution recovers `acquisition_channel`.
    """
    journeys = _pre_signup_touches(rng, pop)
    retargeting = _retargeting_touches(rng, pop, transactions)
    visitors = _visitor_touches(rng, visitor_devices.len(), pop.size, window)
    frame = pl.concat([journeys, retargeting, visitors]).sort("_t", "_device", "_user", maintain_order=True)
    devices = pl.concat([pop.device_id, visitor_devices])
    channel = frame["_channel"].to_numpy()
    click = frame["_click"].to_numpy()
    cost_cents = np.where(click, c.CHANNEL_CPC[channel] * 100, c.CHANNEL_CPM[channel] / 10)
    users = frame["_user"]
    return frame.with_columns(
        local_with_offset(pl.col("_t")).alias("occurred_at"),
        lookup(c.CHANNELS, frame["_channel"]).alias("channel"),
        pl.when(users >= 0).then(pop.user_id.gather(users.clip(0))).alias("user_id"),
        devices.gather(frame["_device"]).alias("anonymous_id"),
        pl.when(pl.col("_click")).then(pl.lit("click")).otherwise(pl.lit("impression")).alias("touch_type"),
        money(pl.lit(pl.Series(np.rint(cost_cents).astype(np.int64)))).alias("cost"),
    ).select(
        "occurred_at", "channel", "user_id", "anonymous_id", "campaign", "touch_type", "cost",
        "_t", "_device", "_user", "_click", "_channel",
    )


def _pre_signup_touches(rng: np.random.Generator, pop: Population) -> pl.DataFrame:
    per_user = 1 + rng.poisson(2.2, size=pop.size)
    user = np.repeat(np.arange(pop.size), per_user)
    position = np.arange(user.size) - np.repeat(np.cumsum(per_user) - per_user, per_user)
    last = position == per_user[user] - 1
    last_gap = rng.integers(60, 6 * 3600, size=pop.size)[user]
    journey_length = rng.integers(3600, 14 * SECONDS_PER_DAY, size=pop.size)[user]
    gap = np.where(last, last_gap, last_gap + 1 + (rng.random(user.size) * journey_length).astype(np.int64))
    same_channel = rng.random(user.size) < 0.5
    other_channel = rng.choice(len(c.CHANNELS), size=user.size, p=TOUCH_CHANNEL_P)
    channel = np.where(last | same_channel, pop.channel_idx[user], other_channel)
    campaign = np.where(last, pop.campaign[user], random_campaign(rng, channel))
    click = last | (rng.random(user.size) < 0.3)
    return _touch_frame(pop.signup_s[user] - gap, channel, campaign, click, np.full(user.size, -1), user)


def _retargeting_touches(
    rng: np.random.Generator, pop: Population, transactions: pl.DataFrame
) -> pl.DataFrame:
    first = transactions.filter(pl.col("_status") == 0).group_by("_user").agg(pl.col("_t").min()).sort("_user")
    buyer = first["_user"].to_numpy()
    first_t = first["_t"].to_numpy()
    room = first_t - pop.signup_s[buyer] > 3600
    per_buyer = np.where(room, rng.poisson(0.5, size=buyer.size), 0)
    user = np.repeat(buyer, per_buyer)
    t = uniform_times(rng, pop.signup_s[user], np.repeat(first_t, per_buyer))
    channel = RETARGETING_CHANNELS[rng.integers(0, RETARGETING_CHANNELS.size, size=user.size)]
    click = rng.random(user.size) < 0.5
    return _touch_frame(t, channel, random_campaign(rng, channel), click, user, user)


def _visitor_touches(
    rng: np.random.Generator, visitors: int, first_device: int, window: Window
) -> pl.DataFrame:
    per_visitor = 1 + rng.poisson(1.0, size=visitors)
    visitor = np.repeat(np.arange(visitors), per_visitor)
    start = np.full(visitor.size, window.start, dtype=np.int64)
    t = uniform_times(rng, start, np.full(visitor.size, window.end, dtype=np.int64))
    channel = rng.choice(len(c.CHANNELS), size=visitor.size, p=TOUCH_CHANNEL_P)
    click = rng.random(visitor.size) < 0.25
    no_user = np.full(visitor.size, -1)
    return _touch_frame(t, channel, random_campaign(rng, channel), click, no_user, first_device + visitor)


def _touch_frame(
    t: np.ndarray,
    channel: np.ndarray,
    campaign: np.ndarray,
    click: np.ndarray,
    user: np.ndarray,
    device: np.ndarray,
) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "_t": t.astype(np.int64),
            "_channel": channel.astype(np.int64),
            "campaign": campaign.astype(str),
            "_click": click,
            "_user": user.astype(np.int64),
            "_device": device.astype(np.int64),
        }
    )


def generate_marketing_spend(
    rng: np.random.Generator, pop: Population, window: Window
) -> pl.DataFrame:
    """One row per date x channel x campaign: spend follows the signups each campaign brought."""
    names, campaign_channel = campaign_table()
    in_window = pop.signup_s >= window.start
    day = (pop.signup_s[in_window] - window.start) // SECONDS_PER_DAY
    order = np.argsort(names)
    campaign_index = order[np.searchsorted(names[order], pop.campaign[in_window])]
    conversions = np.zeros((window.days, names.size))
    np.add.at(conversions, (day, campaign_index), 1)
    per_channel = np.bincount(campaign_channel, minlength=len(c.CHANNELS))[campaign_channel]
    scale = pop.size / REFERENCE_USERS
    shape = conversions.shape
    variable = conversions * c.CHANNEL_CAC[campaign_channel] * rng.lognormal(0.0, 0.2, size=shape)
    fixed = c.CHANNEL_BASE_DAILY[campaign_channel] * scale / per_channel * rng.lognormal(0.0, 0.3, size=shape)
    spend_cents = np.rint((variable + fixed) * 100).astype(np.int64).ravel()
    channel = np.tile(campaign_channel, window.days)
    clicks = np.rint(spend_cents / 100 / c.CHANNEL_SPEND_PER_CLICK[channel]).astype(np.int64)
    impressions = np.rint(clicks / c.CHANNEL_CTR[channel]).astype(np.int64)
    start_day = np.datetime64(window.start // SECONDS_PER_DAY, "D")
    dates = np.repeat(start_day + np.arange(window.days), names.size)
    return pl.DataFrame(
        {
            "date": dates,
            "channel": lookup(c.CHANNELS, pl.Series(channel)),
            "spend": pl.select(money(pl.lit(pl.Series(spend_cents)))).to_series(),
            "campaign": np.tile(names, window.days),
            "impressions": impressions,
            "clicks": clicks,
            "currency": "CNY",
        }
    ).with_columns(pl.col("date").dt.strftime("%Y-%m-%d"))

"""Consent records: grants at signup, some withdrawn later."""

from __future__ import annotations

import numpy as np
import polars as pl

from sampledata.formats import local_with_offset, lookup, padded_id
from sampledata.population import Population, Window

CONSENT_CHANNELS = ("email", "sms", "push")
PURPOSES = ("marketing", "personalization", "cross_border")
# P(grant at signup) per purpose. Cross-border consent (PIPL Art. 39) is asked of everyone: e-mail goes
# through SendGrid, a US processor, so a mainland resident's e-mail needs it (rule CN-PI-02).
GRANT_P = np.array([0.70, 0.80, 0.60])
WITHDRAW_P = 0.08
WITHDRAW_SOURCES = ("settings_page", "sms_unsubscribe", "customer_service")


def generate_consents(rng: np.random.Generator, pop: Population, window: Window) -> pl.DataFrame:
    """One row per consent record, sorted by time."""
    pairs = len(CONSENT_CHANNELS) * len(PURPOSES)
    user = np.repeat(np.arange(pop.size), pairs)
    channel = np.tile(np.repeat(np.arange(len(CONSENT_CHANNELS)), len(PURPOSES)), pop.size)
    purpose = np.tile(np.arange(len(PURPOSES)), len(CONSENT_CHANNELS) * pop.size)
    granted = rng.random(user.size) < GRANT_P[purpose]
    user, channel, purpose = user[granted], channel[granted], purpose[granted]
    grant_t = pop.signup_s[user] + rng.integers(1, 120, size=user.size)
    withdraw_t = grant_t + 3600 + (rng.random(user.size) * (window.end - 3600 - grant_t)).astype(np.int64)
    withdrawn = (rng.random(user.size) < WITHDRAW_P) & (withdraw_t < window.end) & (withdraw_t > grant_t)
    w = withdrawn
    frame = pl.DataFrame(
        {
            "_user": np.concatenate([user, user[w]]),
            "_channel": np.concatenate([channel, channel[w]]),
            "_purpose": np.concatenate([purpose, purpose[w]]),
            "_t": np.concatenate([grant_t, withdraw_t[w]]),
            "_withdrawn": np.concatenate([np.zeros(user.size, bool), np.ones(w.sum(), bool)]),
            "_source": np.concatenate(
                [np.zeros(user.size, np.int64), 1 + rng.integers(0, len(WITHDRAW_SOURCES), size=w.sum())]
            ),
        }
    ).sort("_t", "_user", "_channel", "_purpose", maintain_order=True)
    return frame.select(
        pop.user_id.gather(frame["_user"]).alias("user_id"),
        lookup(CONSENT_CHANNELS, frame["_channel"]).alias("channel"),
        lookup(PURPOSES, frame["_purpose"]).alias("purpose"),
        pl.when(pl.col("_withdrawn")).then(pl.lit("withdrawn")).otherwise(pl.lit("granted")).alias("status"),
        local_with_offset(pl.col("_t")).alias("recorded_at"),
        lookup(("signup_flow", *WITHDRAW_SOURCES), frame["_source"]).alias("source"),
        padded_id("cr", pl.int_range(1, pl.len() + 1), 9).alias("evidence_ref"),
    )

"""The planted user population: who each user is and when they are active."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

from sampledata import catalog as c
from sampledata.formats import (
    SECONDS_PER_DAY,
    diurnal_seconds,
    local_epoch_seconds,
    local_naive,
    padded_id,
)

MINOR_SHARE = 0.01
UNKNOWN_BIRTH_SHARE = 0.03
NEVER = np.iinfo(np.int64).max
KYC_STATUSES = ("none", "pending", "passed", "failed")
NONE, PENDING, PASSED, FAILED = range(4)


@dataclass(frozen=True)
class Window:
    """The data window in local epoch seconds: [start, end)."""

    start: int
    end: int
    days: int

    @classmethod
    def ending(cls, end_date: dt.date, days: int) -> Window:
        start = local_epoch_seconds(end_date - dt.timedelta(days=days - 1))
        return cls(start=start, end=local_epoch_seconds(end_date) + SECONDS_PER_DAY, days=days)


@dataclass(frozen=True)
class Population:
    """Per-user arrays (index = user number - 1) shared by every source generator."""

    user_id: pl.Series
    device_id: pl.Series
    type_idx: np.ndarray
    channel_idx: np.ndarray
    campaign: np.ndarray
    signup_s: np.ndarray
    active_start: np.ndarray
    active_end: np.ndarray
    default_s: np.ndarray
    kyc: np.ndarray
    risk_idx: np.ndarray
    risk_assessed_s: np.ndarray
    platform_idx: np.ndarray
    country_idx: np.ndarray
    window_start: int
    users: pl.DataFrame

    @property
    def size(self) -> int:
        return self.type_idx.size


def anonymous_ids(numbers: np.ndarray) -> pl.Series:
    """Device identifiers such as 'dev000123456'."""
    return pl.select(padded_id("dev", pl.lit(pl.Series(numbers)), 9)).to_series().alias("anonymous_id")


def choose_rows(rng: np.random.Generator, probabilities: np.ndarray) -> np.ndarray:
    """One categorical draw per row of a (rows x categories) probability matrix."""
    cumulative = probabilities.cumsum(axis=1)
    draws = rng.random(probabilities.shape[0])[:, None] * cumulative[:, -1:]
    return (draws >= cumulative).sum(axis=1)


def build_population(
    rng: np.random.Generator, users: int, window: Window, device_numbers: np.ndarray
) -> Population:
    """Draw every user's planted type, acquisition, demographics and activity window."""
    type_idx = rng.choice(len(c.TYPE_NAMES), size=users, p=c.TYPE_SHARE)
    channel_idx = choose_rows(rng, c.CHANNEL_GIVEN_TYPE[type_idx])
    campaign = random_campaign(rng, channel_idx)
    signup_s = _signup_times(rng, type_idx, window)
    kyc = _kyc_status(rng, type_idx, channel_idx)
    risk_idx, risk_assessed_s = _risk_assessment(rng, type_idx, signup_s, window)
    active_start, active_end, default_s = _activity(rng, type_idx, channel_idx, signup_s, window)
    # Wealth purchases need a suitability assessment first.
    wealth_type = type_idx == c.TYPE_NAMES.index("affluent_wealth_investor")
    active_start = np.where(wealth_type, np.maximum(active_start, risk_assessed_s + 60), active_start)
    active_end = np.maximum(active_end, active_start)
    user_id = pl.select(padded_id("u", pl.int_range(1, users + 1), 7)).to_series().alias("user_id")
    platform_idx = rng.choice(len(c.PLATFORMS), size=users, p=c.PLATFORM_P)
    country_idx = rng.choice(len(c.COUNTRIES), size=users, p=c.COUNTRY_P)
    frame = _users_frame(
        rng, user_id, type_idx, channel_idx, signup_s, kyc, risk_idx, risk_assessed_s, country_idx, window
    )
    return Population(
        user_id=user_id,
        device_id=anonymous_ids(device_numbers),
        type_idx=type_idx,
        channel_idx=channel_idx,
        campaign=campaign,
        signup_s=signup_s,
        active_start=active_start,
        active_end=active_end,
        default_s=default_s,
        kyc=kyc,
        risk_idx=risk_idx,
        risk_assessed_s=risk_assessed_s,
        platform_idx=platform_idx,
        country_idx=country_idx,
        window_start=window.start,
        users=frame,
    )


def campaign_table() -> tuple[np.ndarray, np.ndarray]:
    """Flat campaign names and the channel index of each."""
    names = np.array([name for group in c.CAMPAIGNS for name in group])
    channels = np.array([i for i, group in enumerate(c.CAMPAIGNS) for _ in group])
    return names, channels


def random_campaign(rng: np.random.Generator, channel_idx: np.ndarray) -> np.ndarray:
    """A campaign name of the given channel for each row."""
    names, channels = campaign_table()
    counts = np.bincount(channels, minlength=len(c.CHANNELS))
    offsets = np.concatenate([[0], counts.cumsum()[:-1]])
    pick = offsets[channel_idx] + (rng.random(channel_idx.size) * counts[channel_idx]).astype(np.int64)
    return names[pick]


def _signup_times(rng: np.random.Generator, type_idx: np.ndarray, window: Window) -> np.ndarray:
    users = type_idx.size
    growth = 1.0 + 0.6 * np.arange(window.days) / max(window.days - 1, 1)
    weekday_boost = np.where(np.arange(window.days) % 7 >= 5, 1.15, 1.0)
    weights = growth * weekday_boost
    # Every sign-up falls inside the data window, as transactions, events, spend and loans do: a cohort of
    # every age up to the window's length, and no sign-up whose activity the data cannot show.
    day = rng.choice(window.days, size=users, p=weights / weights.sum())
    # Lapsed users must have had time to be active before going quiet.
    lapsed = type_idx == c.TYPE_NAMES.index("lapsed_credit_user")
    early = rng.integers(0, max(1, int(0.5 * window.days)), size=users)
    day = np.where(lapsed, early, day)
    return window.start + day * SECONDS_PER_DAY + diurnal_seconds(rng, users)


def _kyc_status(rng: np.random.Generator, type_idx: np.ndarray, channel_idx: np.ndarray) -> np.ndarray:
    users = type_idx.size
    payer = type_idx == c.TYPE_NAMES.index("everyday_payer")
    dormant = type_idx == c.TYPE_NAMES.index("dormant_signup")
    pass_p = np.where(payer, c.CHANNEL_KYC_PASS[channel_idx], 1.0)
    pass_p = np.where(dormant, 0.35 * c.CHANNEL_KYC_PASS[channel_idx], pass_p)
    passed = rng.random(users) < pass_p
    other = rng.choice([NONE, PENDING, FAILED], size=users, p=[0.45, 0.25, 0.30])
    # Users from low-quality channels fail KYC more often than they abandon it.
    low_quality = c.CHANNEL_KYC_PASS[channel_idx] < 0.7
    other = np.where(low_quality & (rng.random(users) < 0.3), FAILED, other)
    return np.where(passed, PASSED, other)


def _risk_assessment(
    rng: np.random.Generator, type_idx: np.ndarray, signup_s: np.ndarray, window: Window
) -> tuple[np.ndarray, np.ndarray]:
    users = type_idx.size
    assessed = rng.random(users) < c.ASSESSED_P[type_idx]
    level = choose_rows(rng, c.RISK_LEVEL_P[type_idx])
    wealth_type = type_idx == c.TYPE_NAMES.index("affluent_wealth_investor")
    delay = np.where(
        wealth_type,
        rng.integers(60, 600, size=users),
        rng.integers(3600, 20 * SECONDS_PER_DAY, size=users),
    )
    at = signup_s + delay
    assessed &= (at < window.end) | wealth_type
    at = np.where(wealth_type, at, np.minimum(at, window.end - 1))
    return np.where(assessed, level, -1), np.where(assessed, at, NEVER)


def _activity(
    rng: np.random.Generator,
    type_idx: np.ndarray,
    channel_idx: np.ndarray,
    signup_s: np.ndarray,
    window: Window,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    users = type_idx.size
    # Purchases start at least an hour after signup, leaving room for KYC and loan approval events.
    start = np.maximum(signup_s + 3600, window.start)
    end = np.full(users, window.end, dtype=np.int64)
    dormant = type_idx == c.TYPE_NAMES.index("dormant_signup")
    lapsed = type_idx == c.TYPE_NAMES.index("lapsed_credit_user")
    end = np.where(dormant, signup_s + 3 * SECONDS_PER_DAY, end)
    lapse_after = rng.integers(14, 46, size=users) * SECONDS_PER_DAY
    end = np.where(lapsed, start + lapse_after, end)
    churn = rng.random(users) < c.CHURN_P[type_idx]
    end = np.where(churn, start + (rng.random(users) * (end - start)).astype(np.int64), end)
    end = np.clip(end, start, np.maximum(start, window.end))
    default_p = c.DEFAULT_BASE[type_idx] * c.CHANNEL_DEFAULT_MULTIPLIER[channel_idx]
    defaults = (rng.random(users) < default_p) & (end - start > 20 * SECONDS_PER_DAY)
    default_at = start + ((0.3 + 0.6 * rng.random(users)) * (end - start)).astype(np.int64)
    default_s = np.where(defaults, default_at, NEVER)
    # A defaulted borrower stops transacting.
    end = np.where(defaults, default_at, end)
    return start, end, default_s


def _users_frame(
    rng: np.random.Generator,
    user_id: pl.Series,
    type_idx: np.ndarray,
    channel_idx: np.ndarray,
    signup_s: np.ndarray,
    kyc: np.ndarray,
    risk_idx: np.ndarray,
    risk_assessed_s: np.ndarray,
    country_idx: np.ndarray,
    window: Window,
) -> pl.DataFrame:
    users = type_idx.size
    age = np.clip(
        rng.normal(c.AGE_MEAN[type_idx], c.AGE_SD[type_idx]), c.AGE_MIN[type_idx] + 0.05, c.AGE_MAX[type_idx] + 0.95
    )
    minor = rng.random(users) < MINOR_SHARE
    age = np.where(minor, 16.0 + 1.99 * rng.random(users), age)
    end_day = np.datetime64(window.end // SECONDS_PER_DAY - 1, "D")
    birth = end_day - np.rint(age * 365.25).astype("timedelta64[D]")
    unknown_birth = rng.random(users) < UNKNOWN_BIRTH_SHARE
    student_p = np.select([age < 18, age < 23, age < 26], [0.9, 0.45, 0.12], 0.004)
    student = rng.random(users) < student_p
    occupation = np.array(c.OCCUPATIONS)[rng.choice(len(c.OCCUPATIONS), size=users, p=c.OCCUPATION_P)]
    occupation = np.where((age >= 60) & (rng.random(users) < 0.6), "retired", occupation)
    occupation = np.where(student, "student", occupation)
    income = np.array(c.INCOME_BANDS)[choose_rows(rng, c.INCOME_P[type_idx])]
    income = np.where(student, "<5k", income)
    tier = choose_rows(rng, c.TIER_P[type_idx]) + 1
    city_tiers = np.array([t for _, _, t in c.CITIES])
    order = np.argsort(city_tiers, kind="stable")
    per_tier = np.bincount(city_tiers, minlength=6)
    offsets = np.concatenate([[0], per_tier.cumsum()[:-1]])
    city_pick = order[offsets[tier] + (rng.random(users) * per_tier[tier]).astype(np.int64)]
    province = np.array([p for p, _, _ in c.CITIES])[city_pick]
    city = np.array([name for _, name, _ in c.CITIES])[city_pick]
    for country, place in enumerate(c.COUNTRY_PLACE):
        if place is not None:
            abroad = country_idx == country
            province = np.where(abroad, place[0], province)
            city = np.where(abroad, place[1], city)
            tier = np.where(abroad, 1, tier)
    english = rng.random(users) < c.COUNTRY_ENGLISH_P[country_idx]
    digits = np.array(c.COUNTRY_PHONE_DIGITS)[country_idx]
    low = np.where(digits == 10, 3 * 10**9, 10**6)
    phone_number = low + (rng.random(users) * (10**digits - low)).astype(np.int64)
    frame = pl.DataFrame(
        {
            "user_id": user_id,
            "_signup_s": signup_s,
            "_birth": np.where(unknown_birth, np.datetime64("NaT"), birth),
            "gender": np.array(c.GENDERS)[rng.choice(len(c.GENDERS), size=users, p=c.GENDER_P)],
            "province": province,
            "city": city,
            "city_tier": tier.astype(np.int64),
            "occupation": occupation,
            "income_band": income,
            "is_student": student,
            "kyc_status": np.array(KYC_STATUSES)[kyc],
            "_risk_idx": risk_idx,
            "_risk_s": np.where(risk_idx >= 0, risk_assessed_s, 0),
            "acquisition_channel": np.array(c.CHANNELS)[channel_idx],
            "_phone_prefix": np.array(c.COUNTRY_PHONE_PREFIX)[country_idx],
            "_phone_number": phone_number,
            "country": np.array(c.COUNTRIES)[country_idx],
            "timezone": np.array(c.COUNTRY_TIMEZONE)[country_idx],
            "language": np.where(english, "en", "zh-CN"),
        }
    )
    assessed = pl.col("_risk_idx") >= 0
    return frame.select(
        "user_id",
        local_naive(pl.col("_signup_s")).alias("signup_at"),
        pl.col("_birth").dt.strftime("%Y-%m-%d").alias("birth_date"),
        "gender",
        "province",
        "city",
        "city_tier",
        "occupation",
        "income_band",
        "is_student",
        "kyc_status",
        pl.when(assessed)
        .then(pl.concat_str([pl.lit("C"), (pl.col("_risk_idx") + 1).cast(pl.Utf8)]))
        .alias("risk_level"),
        pl.when(assessed).then(local_naive(pl.col("_risk_s"))).alias("risk_assessed_at"),
        "acquisition_channel",
        pl.concat_str([pl.col("user_id"), pl.lit("@example.com")]).alias("email"),
        pl.concat_str([pl.col("_phone_prefix"), pl.col("_phone_number").cast(pl.Utf8)]).alias("phone"),
        "country",
        "timezone",
        "language",
    )

"""App and web events: browsing sessions, funnel steps, purchases, repayments, anonymous visits."""

from __future__ import annotations

import numpy as np
import polars as pl

from sampledata import catalog as c
from sampledata.formats import SECONDS_PER_DAY, diurnal_seconds, lookup, padded_id, uniform_times, utc_zulu
from sampledata.population import FAILED, NONE, PASSED, Population, Window, choose_rows

PURCHASE_EVENT = ("loan_drawn", "fund_purchase", "payment", "purchase")
SESSION_CHANNEL_P = np.array([0.5, 0.2, 0.3])
# Share of signed-in events that still carry the device id (lets journeys be stitched).
DEVICE_ON_SIGNED_IN_EVENT = 0.3
# KYC-passed users who never borrow but apply for a loan, and the share of those approved who then never draw.
NON_BORROWER_APPLY_P = 0.35
APPROVED_NOT_DRAWN_P = 0.4
EVENT_COLUMNS = (
    "event_id", "occurred_at", "event_name", "user_id", "anonymous_id", "platform", "channel", "properties",
)


def generate_events(
    rng: np.random.Generator,
    pop: Population,
    transactions: pl.DataFrame,
    touchpoints: pl.DataFrame,
    loans: pl.DataFrame,
    visitor_devices: pl.Series,
    window: Window,
) -> pl.DataFrame:
    """All events inside the window, sorted by time; `_date` is the UTC partition day."""
    parts = [
        _sessions(rng, pop),
        _purchases(transactions),
        _funnel(rng, pop, transactions, window),
        _anonymous_visits(rng, pop, touchpoints),
        _repayments(rng, loans),
    ]
    frame = (
        pl.concat(parts, how="vertical")
        .filter((pl.col("_t") >= window.start) & (pl.col("_t") < window.end))
        .sort("_t", "_user", "_device", "event_name", maintain_order=True)
    )
    users = frame["_user"]
    devices = frame["_device"]
    all_devices = pl.concat([pop.device_id, visitor_devices])
    visitor_platform = rng.choice(len(c.PLATFORMS), size=visitor_devices.len(), p=c.PLATFORM_P)
    platform = np.concatenate([pop.platform_idx, visitor_platform])
    owner_device = np.where(users.to_numpy() >= 0, users.to_numpy(), devices.to_numpy())
    return frame.with_columns(
        padded_id("e", pl.int_range(1, pl.len() + 1), 10).alias("event_id"),
        utc_zulu(pl.col("_t")).alias("occurred_at"),
        pl.when(users >= 0).then(pop.user_id.gather(users.clip(0))).alias("user_id"),
        pl.when(devices >= 0).then(all_devices.gather(devices.clip(0))).alias("anonymous_id"),
        lookup(c.PLATFORMS, pl.Series(platform[owner_device])).alias("platform"),
        utc_zulu(pl.col("_t")).str.slice(0, 10).alias("_date"),
    ).select(*EVENT_COLUMNS, "_date", "_t")


def _frame(
    t: np.ndarray,
    name: pl.Series | str,
    user: np.ndarray,
    device: np.ndarray,
    channel: pl.Series | str,
    properties: pl.Series | str,
) -> pl.DataFrame:
    size = t.size
    return pl.DataFrame(
        {
            "_t": t.astype(np.int64),
            "event_name": name if isinstance(name, pl.Series) else pl.repeat(name, size, eager=True),
            "_user": user.astype(np.int64),
            "_device": device.astype(np.int64),
            "channel": channel if isinstance(channel, pl.Series) else pl.repeat(channel, size, eager=True),
            "properties": properties
            if isinstance(properties, pl.Series)
            else pl.repeat(properties, size, eager=True),
        },
        schema={
            "_t": pl.Int64, "event_name": pl.Utf8, "_user": pl.Int64, "_device": pl.Int64,
            "channel": pl.Utf8, "properties": pl.Utf8,
        },
    )


def _json_property(key: str, values: pl.Series) -> pl.Series:
    return pl.select(pl.concat_str([pl.lit(f'{{"{key}": "'), pl.lit(values), pl.lit('"}')])).to_series()


def _signed_in_device(rng: np.random.Generator, user: np.ndarray) -> np.ndarray:
    return np.where(rng.random(user.size) < DEVICE_ON_SIGNED_IN_EVENT, user, -1)


def _sessions(rng: np.random.Generator, pop: Population) -> pl.DataFrame:
    span_days = (pop.active_end - pop.active_start) / SECONDS_PER_DAY
    engagement = rng.gamma(4.0, 0.25, size=pop.size)
    per_user = rng.poisson(c.SESSION_RATE[pop.type_idx] * engagement * span_days)
    session_user = np.repeat(np.arange(pop.size), per_user)
    start = uniform_times(rng, pop.active_start[session_user], pop.active_end[session_user])
    kind = pop.type_idx[session_user]
    length = 1 + rng.poisson(c.EVENTS_PER_SESSION[kind] - 1)
    user = np.repeat(session_user, length)
    first = np.repeat(np.cumsum(length) - length, length)
    position = np.arange(user.size) - first
    gaps = np.where(position == 0, 0, rng.integers(5, 120, size=user.size))
    elapsed = np.cumsum(gaps)
    t = np.repeat(start, length) + elapsed - elapsed[first]
    browse = choose_rows(rng, c.BROWSE_MIX[pop.type_idx[user]])
    opener = np.where(pop.platform_idx[user] == c.PLATFORMS.index("web"), 0, -1)
    name_code = np.where(position == 0, opener, browse)
    names = pl.Series(["app_open", *c.BROWSE_EVENTS]).gather(pl.Series(name_code + 1))
    line = choose_rows(rng, c.LINE_MIX[pop.type_idx[user]])
    product = _random_product_in_line(rng, line)
    product_json = _json_property("product_id", c.PRODUCTS["product_id"].gather(pl.Series(product)))
    properties = pl.select(
        pl.when(pl.lit(names) == "product_view").then(pl.lit(product_json)).otherwise(pl.lit("{}"))
    ).to_series()
    channel = lookup(c.SESSION_CHANNELS, pl.Series(rng.choice(3, size=user.size, p=SESSION_CHANNEL_P)))
    return _frame(t, names, user, _signed_in_device(rng, user), channel, properties)


def _random_product_in_line(rng: np.random.Generator, line: np.ndarray) -> np.ndarray:
    lines = c.PRODUCTS["product_line"].to_numpy()
    per_line = np.array([(lines == name).sum() for name in c.LINES])
    offsets = np.concatenate([[0], per_line.cumsum()[:-1]])
    return offsets[line] + (rng.random(line.size) * per_line[line]).astype(np.int64)


def _purchases(transactions: pl.DataFrame) -> pl.DataFrame:
    done = transactions.filter(pl.col("_status") == 0)
    user = done["_user"].to_numpy()
    properties = pl.select(
        pl.concat_str(
            [pl.lit('{"product_id": "'), pl.lit(done["product_id"]), pl.lit('", "txn_id": "'),
             pl.lit(done["txn_id"]), pl.lit('"}')]
        )
    ).to_series()
    return _frame(
        done["_t"].to_numpy(), lookup(PURCHASE_EVENT, done["_line"]), user, np.full(user.size, -1), "direct", properties
    )


def _funnel(rng: np.random.Generator, pop: Population, transactions: pl.DataFrame, window: Window) -> pl.DataFrame:
    everyone = np.arange(pop.size)
    submitted = everyone[pop.kyc != NONE]
    submit_t = pop.signup_s[submitted] + np.where(
        pop.kyc[submitted] == PASSED,
        rng.integers(30, 600, size=submitted.size),
        rng.integers(60, 2 * SECONDS_PER_DAY, size=submitted.size),
    )
    decided = (pop.kyc[submitted] == PASSED) | (pop.kyc[submitted] == FAILED)
    outcome_user = submitted[decided]
    outcome_t = submit_t[decided] + rng.integers(60, 1800, size=outcome_user.size)
    outcome_name = np.where(pop.kyc[outcome_user] == PASSED, "kyc_passed", "kyc_failed")
    assessed = everyone[pop.risk_idx >= 0]
    risk_levels = pl.Series([f'{{"risk_level": "C{level}"}}' for level in range(1, 6)])
    risk_json = risk_levels.gather(pl.Series(pop.risk_idx[assessed]))
    credit = (
        transactions.filter((pl.col("_line") == c.CREDIT) & (pl.col("_status") == 0))
        .group_by("_user")
        .agg(pl.col("_t").min())
        .sort("_user")
    )
    borrower = credit["_user"].to_numpy()
    first_draw = credit["_t"].to_numpy()
    apply_t = first_draw - rng.integers(300, 900, size=borrower.size)
    approve_t = first_draw - rng.integers(30, 299, size=borrower.size)
    # Not every application ends in a loan: some KYC-passed users apply and are declined, and some approved
    # applicants never draw, so the funnel narrows at each step (applied > approved > drawn).
    passed_t = np.full(pop.size, -1, dtype=np.int64)
    passed_t[outcome_user[pop.kyc[outcome_user] == PASSED]] = outcome_t[pop.kyc[outcome_user] == PASSED]
    not_borrowing = np.setdiff1d(everyone[passed_t >= 0], borrower)
    applicant = not_borrowing[rng.random(not_borrowing.size) < NON_BORROWER_APPLY_P]
    applied_t = passed_t[applicant] + rng.integers(3600, 20 * SECONDS_PER_DAY, size=applicant.size)
    in_window = applied_t < window.end
    applicant, applied_t = applicant[in_window], applied_t[in_window]
    approved = rng.random(applicant.size) < APPROVED_NOT_DRAWN_P
    approved_user = applicant[approved]
    approved_t = applied_t[approved] + rng.integers(300, 3 * 3600, size=approved_user.size)
    signup_channel = lookup(c.CHANNELS, pl.Series(pop.channel_idx))
    no_device = np.full(pop.size, -1)
    return pl.concat(
        [
            _frame(pop.signup_s, "sign_up", everyone, everyone, signup_channel, "{}"),
            _frame(submit_t, "kyc_submit", submitted, no_device[submitted], "direct", "{}"),
            _frame(outcome_t, pl.Series(outcome_name), outcome_user, no_device[outcome_user], "direct", "{}"),
            _frame(pop.risk_assessed_s[assessed], "risk_assessment", assessed, no_device[assessed], "direct", risk_json),
            _frame(apply_t, "loan_apply", borrower, no_device[borrower], "direct", "{}"),
            _frame(approve_t, "loan_approved", borrower, no_device[borrower], "direct", "{}"),
            _frame(applied_t, "loan_apply", applicant, no_device[applicant], "direct", "{}"),
            _frame(np.minimum(approved_t, window.end - 1), "loan_approved", approved_user, no_device[approved_user],
                   "direct", "{}"),
        ]
    )


def _anonymous_visits(rng: np.random.Generator, pop: Population, touchpoints: pl.DataFrame) -> pl.DataFrame:
    """Page views right after each anonymous click (before signup for users who later convert)."""
    clicks = touchpoints.filter(pl.col("_click") & (pl.col("_user") < 0))
    views = 1 + rng.poisson(0.3, size=clicks.height)
    device = np.repeat(clicks["_device"].to_numpy(), views)
    t = np.repeat(clicks["_t"].to_numpy(), views) + rng.integers(1, 60, size=device.size)
    channel = clicks["channel"].gather(pl.Series(np.repeat(np.arange(clicks.height), views)))
    return _frame(t, "page_view", np.full(device.size, -1), device, channel, "{}")


def _repayments(rng: np.random.Generator, loans: pl.DataFrame) -> pl.DataFrame:
    paid = loans.filter((pl.col("_k") > 0) & (pl.col("days_past_due") == 0))
    as_of_day = paid["as_of"].cast(pl.Int64).to_numpy()
    t = (as_of_day - rng.integers(0, 6, size=paid.height)) * SECONDS_PER_DAY + diurnal_seconds(rng, paid.height)
    user = paid["_user"].to_numpy()
    properties = _json_property("loan_id", paid["loan_id"])
    return _frame(t, "repayment", user, np.full(user.size, -1), "direct", properties)

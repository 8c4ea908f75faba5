"""Transactions drawn from each user's planted type and activity window."""

from __future__ import annotations

import numpy as np
import polars as pl

from sampledata import catalog as c
from sampledata.formats import (
    SECONDS_PER_DAY,
    local_date_text,
    local_with_offset,
    money,
    lookup,
    padded_id,
    to_cents,
    uniform_times,
)
from sampledata.population import PASSED, Population, choose_rows

ACTIVATION_DAYS = 3
STATUSES = ("completed", "failed", "refunded")
STATUS_P = np.array([0.95, 0.035, 0.015])
# Rounding step of amounts in cents per line: loans in whole yuan, fund purchases in hundreds.
AMOUNT_STEP_CENTS = np.array([100, 10_000, 1, 1])
# Number of wealth products (sorted by grade) a risk level C1..C5 may buy.
WEALTH_ALLOWED_BY_RISK = np.array([2, 3, 5, 6, 7])
TRANSACTION_COLUMNS = (
    "txn_id", "user_id", "occurred_at", "amount", "product_line", "product_id", "revenue", "currency", "status",
)


def generate_transactions(rng: np.random.Generator, pop: Population) -> pl.DataFrame:
    """All clean transactions, sorted by time, with contract columns plus internal `_` columns.

    Internal columns: `_user` (user index), `_t` (local epoch seconds), `_line`, `_product`
    (index into catalog.PRODUCTS), `_amount_cents`, `_status`, `_date` (local partition day).
    """
    span_days = (pop.active_end - pop.active_start) / SECONDS_PER_DAY
    activity = rng.gamma(6.0, 1.0 / 6.0, size=pop.size)
    expected = c.TXN_RATE[pop.type_idx] * activity * span_days
    dormant = pop.type_idx == c.TYPE_NAMES.index("dormant_signup")
    expected = np.where(dormant & (span_days > 0), c.DORMANT_TXN_PROBABILITY, expected)
    counts = rng.poisson(expected)
    user = np.repeat(np.arange(pop.size), counts)
    t = uniform_times(rng, pop.active_start[user], pop.active_end[user])
    # New users of the active types make a first purchase within days of signing up (activation).
    activation_t = pop.active_start + rng.integers(0, ACTIVATION_DAYS * SECONDS_PER_DAY, size=pop.size)
    activated = (~dormant) & (pop.signup_s >= pop.window_start) & (activation_t < pop.active_end)
    user = np.concatenate([user, np.flatnonzero(activated)])
    t = np.concatenate([t, activation_t[activated]])
    kind = pop.type_idx[user]

    line = choose_rows(rng, c.LINE_MIX[kind])
    line = np.where((line == c.CREDIT) & (pop.kyc[user] != PASSED), c.PAYMENT, line)
    line = np.where((line == c.WEALTH) & (pop.risk_idx[user] < 0), c.PAYMENT, line)

    # A per-user scale keeps each user's ticket size consistent across their purchases.
    user_scale = rng.lognormal(0.0, 0.3, size=pop.size)[user]
    yuan = c.AMOUNT_MEDIAN[kind, line] * user_scale * rng.lognormal(0.0, 1.0, size=user.size) ** c.AMOUNT_SIGMA[kind]
    amount_cents = to_cents(yuan, 1) // AMOUNT_STEP_CENTS[line]
    amount_cents = np.maximum(amount_cents, 1) * AMOUNT_STEP_CENTS[line]

    product = _pick_products(rng, line, pop.risk_idx[user])
    revenue_cents = _revenue_cents(line, product, amount_cents)
    status = rng.choice(len(STATUSES), size=user.size, p=STATUS_P)
    revenue_cents = np.where(status == 0, revenue_cents, 0)

    frame = pl.DataFrame(
        {
            "_user": user,
            "_t": t,
            "_line": line,
            "_product": product,
            "_amount_cents": amount_cents,
            "_revenue_cents": revenue_cents,
            "_status": status,
        }
    ).sort("_t", "_user", maintain_order=True)
    return frame.with_columns(
        padded_id("t", pl.int_range(1, pl.len() + 1), 9).alias("txn_id"),
        pop.user_id.gather(frame["_user"]).alias("user_id"),
        local_with_offset(pl.col("_t")).alias("occurred_at"),
        money(pl.col("_amount_cents")).alias("amount"),
        lookup(c.LINES, frame["_line"]).alias("product_line"),
        c.PRODUCTS["product_id"].gather(frame["_product"]).alias("product_id"),
        money(pl.col("_revenue_cents")).alias("revenue"),
        pl.lit("CNY").alias("currency"),
        lookup(STATUSES, frame["_status"]).alias("status"),
        local_date_text(pl.col("_t")).alias("_date"),
    ).drop("_revenue_cents")


def _pick_products(rng: np.random.Generator, line: np.ndarray, risk_idx: np.ndarray) -> np.ndarray:
    lines = c.PRODUCTS["product_line"].to_numpy()
    per_line = np.array([(lines == name).sum() for name in c.LINES])
    offsets = np.concatenate([[0], per_line.cumsum()[:-1]])
    allowed = per_line[line]
    # Suitability: a wealth buyer only gets products up to their risk level.
    wealth_allowed = WEALTH_ALLOWED_BY_RISK[np.clip(risk_idx, 0, 4)]
    allowed = np.where(line == c.WEALTH, wealth_allowed, allowed)
    return offsets[line] + (rng.random(line.size) * allowed).astype(np.int64)


def _revenue_cents(line: np.ndarray, product: np.ndarray, amount_cents: np.ndarray) -> np.ndarray:
    apr_mid = ((c.PRODUCTS["apr_min"] + c.PRODUCTS["apr_max"]) / 2).fill_null(0.0).to_numpy()
    term = c.PRODUCTS["term_months"].to_numpy()
    # Interest on an amortising loan is roughly half the principal outstanding for the whole term.
    credit_rate = apr_mid[product] * term[product] / 12 * 0.5
    rate = np.where(line == c.CREDIT, credit_rate, c.REVENUE_RATE[line])
    return np.rint(amount_cents * rate).astype(np.int64)

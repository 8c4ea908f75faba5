"""Monthly performance snapshots of every credit drawdown."""

from __future__ import annotations

import numpy as np
import polars as pl

from sampledata import catalog as c
from sampledata.formats import SECONDS_PER_DAY, money
from sampledata.population import Population, Window

CHARGE_OFF_DPD = 90
MINOR_DELINQUENCY_SHARE = 0.02


def generate_loan_performance(
    rng: np.random.Generator, pop: Population, transactions: pl.DataFrame, window: Window
) -> pl.DataFrame:
    """One row per loan x month-end up to the window end; `_user` and `_k` (months since drawdown) are internal.

    A defaulted borrower's loans still outstanding at default go delinquent together; at 90+ days
    past due the outstanding principal is charged off.
    """
    loans = transactions.filter((pl.col("_line") == c.CREDIT) & (pl.col("_status") == 0))
    user = loans["_user"].to_numpy()
    term = c.PRODUCTS["term_months"].to_numpy()[loans["_product"].to_numpy()]
    draw_day = loans["_t"].to_numpy() // SECONDS_PER_DAY
    draw_month = _month_of(draw_day)
    last_day = window.end // SECONDS_PER_DAY - 1
    last_month = _month_of(np.array([last_day]))[0]
    snapshots = np.minimum(term, last_month - draw_month) + 1
    # The final month-end may fall after the window end when it ends mid-month.
    snapshots -= (_month_end(draw_month + snapshots - 1) > last_day).astype(np.int64)
    snapshots = np.maximum(snapshots, 0)

    loan = np.repeat(np.arange(user.size), snapshots)
    k = np.arange(loan.size) - np.repeat(np.cumsum(snapshots) - snapshots, snapshots)
    as_of = _month_end(draw_month[loan] + k)
    principal_cents = loans["_amount_cents"].to_numpy()
    outstanding = np.rint(principal_cents[loan] * np.maximum(0.0, 1.0 - k / term[loan])).astype(np.int64)

    # Borrowers who never default carry a default day far beyond any snapshot.
    default_day = (pop.default_s[user] // SECONDS_PER_DAY)[loan]
    default_month_k = _month_of(np.minimum(default_day, last_day + 1)) - draw_month[loan]
    # Loans already repaid before the borrower defaulted are not affected.
    hit = (default_day <= as_of) & (default_month_k < term[loan])
    stuck_principal = np.rint(
        principal_cents[loan] * np.maximum(0.0, 1.0 - np.clip(default_month_k, 0, None) / term[loan])
    ).astype(np.int64)
    dpd = np.where(hit, as_of - default_day + 1, 0)
    minor = (~hit) & (k > 0) & (outstanding > 0) & (rng.random(loan.size) < MINOR_DELINQUENCY_SHARE)
    dpd = np.where(minor, rng.integers(1, 21, size=loan.size), dpd)
    principal = np.where(hit, stuck_principal, outstanding)
    charged_off = np.where(hit & (dpd >= CHARGE_OFF_DPD), stuck_principal, 0)

    return pl.DataFrame(
        {
            "loan_id": loans["txn_id"].str.replace("^t", "L").gather(loan),
            "user_id": loans["user_id"].gather(loan),
            "as_of": as_of.astype("datetime64[D]"),
            "principal": _decimal(principal),
            "days_past_due": dpd.astype(np.int32),
            "charged_off_amount": _decimal(charged_off),
            "_user": user[loan],
            "_k": k,
        }
    )


def _month_of(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)


def _month_end(month: np.ndarray) -> np.ndarray:
    """Day number (since 1970-01-01) of the last day of each month number."""
    return (month + 1).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64) - 1


def _decimal(cents: np.ndarray) -> pl.Series:
    """Exact money as Decimal(18, 2) from integer cents."""
    text = pl.select(money(pl.lit(pl.Series(cents, dtype=pl.Int64)))).to_series()
    return text.cast(pl.Decimal(18, 2))

"""Synthetic users in four well-separated, heavy-tailed personas, and a clusterer fitted on them."""

import numpy as np
import polars as pl
import pytest

from segments.clustering import PersonaClusterer

FEATURES = [
    "credit_txn_count",
    "wealth_amount",
    "payment_txn_count",
    "age",
    "total_amount",
    "city_tier",
]

# Each planted persona differs from the others on one or two features; total_amount and
# city_tier are the same noise everywhere.
PLANTED = [
    {"credit_txn_count": 20, "wealth_amount": 100.0, "payment_txn_count": 5, "age": 25.0},
    {"credit_txn_count": 1, "wealth_amount": 50_000.0, "payment_txn_count": 5, "age": 45.0},
    {"credit_txn_count": 1, "wealth_amount": 100.0, "payment_txn_count": 80, "age": 32.0},
    {"credit_txn_count": 1, "wealth_amount": 300.0, "payment_txn_count": 1, "age": 62.0},
]


def make_users(users_per_persona: int, seed: int) -> pl.DataFrame:
    """Users with a ``truth`` column naming their planted persona (0..3)."""
    rng = np.random.default_rng(seed)
    n = users_per_persona
    parts = []
    for truth, p in enumerate(PLANTED):
        parts.append(
            pl.DataFrame(
                {
                    "truth": np.full(n, truth),
                    "credit_txn_count": rng.poisson(p["credit_txn_count"], n),
                    "wealth_amount": rng.lognormal(np.log(p["wealth_amount"]), 0.5, n),
                    "payment_txn_count": rng.poisson(p["payment_txn_count"], n),
                    "age": rng.normal(p["age"], 3.0, n).round(),
                    "total_amount": rng.lognormal(6.0, 1.5, n),
                    "city_tier": rng.integers(1, 6, n),
                }
            )
        )
    users = pl.concat(parts)
    return users.with_columns(pl.format("u{}", pl.int_range(pl.len())).alias("user_id"))


@pytest.fixture(scope="session")
def users() -> pl.DataFrame:
    return make_users(users_per_persona=2_000, seed=1)


@pytest.fixture(scope="session")
def fitted(users) -> PersonaClusterer:
    return PersonaClusterer().fit(users, FEATURES)

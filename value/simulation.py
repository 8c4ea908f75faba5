"""Draw synthetic customers from the BG/NBD and Gamma-Gamma models (for tests and benchmarks)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def simulate_bgnbd(
    params: dict[str, float], T: ArrayLike, rng: np.random.Generator
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Simulate (frequency, recency, T) for customers observed for ``T`` time units after their first purchase.

    Each customer buys as a Poisson process with rate lambda ~ Gamma(r, 1/alpha) and drops out
    after each repeat purchase with probability p ~ Beta(a, b).

    Args:
        params: ``{"r", "alpha", "a", "b"}``.
        T: observation length per customer (its size sets the number of customers).
        rng: numpy random generator.
    """
    t_cal = np.asarray(T, dtype=np.float64)
    n = t_cal.size
    rate = rng.gamma(params["r"], 1.0 / params["alpha"], size=n)
    dropout = rng.beta(params["a"], params["b"], size=n)
    purchases_if_alive = rng.poisson(rate * t_cal)
    purchases_before_dropout = rng.geometric(dropout)
    frequency = np.minimum(purchases_if_alive, purchases_before_dropout)
    # Given n Poisson arrivals in (0, T], the k-th arrival time is T times the k-th of n
    # uniform order statistics, which is Beta(k, n - k + 1).
    has_repeat = frequency > 0
    shape_a = np.where(has_repeat, frequency, 1)
    shape_b = np.where(has_repeat, purchases_if_alive - frequency + 1, 1)
    recency = np.where(has_repeat, t_cal * rng.beta(shape_a, shape_b), 0.0)
    return frequency.astype(np.float64), recency, t_cal


def simulate_gamma_gamma(
    params: dict[str, float], frequency: ArrayLike, rng: np.random.Generator
) -> NDArray[np.float64]:
    """Simulate the mean transaction value of each customer's ``frequency`` repeat purchases (0 when none).

    Values are Gamma(p, rate nu) per transaction with nu ~ Gamma(q, rate v) per customer.
    """
    x = np.asarray(frequency, dtype=np.float64)
    nu = rng.gamma(params["q"], 1.0 / params["v"], size=x.size)
    # A sum of x Gamma(p, nu) values is Gamma(p x, nu).
    totals = rng.gamma(np.where(x > 0, params["p"] * x, 1.0), 1.0 / nu)
    return np.where(x > 0, totals / np.maximum(x, 1.0), 0.0)


def simulate_mbgnbd(
    params: dict[str, float], T: ArrayLike, rng: np.random.Generator
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Simulate (frequency, recency, T) under the MBG/NBD model.

    As :func:`simulate_bgnbd`, except that the customer may also drop out right after the
    first purchase, so the number of repeat purchases before drop-out is geometric from 0.
    """
    t_cal = np.asarray(T, dtype=np.float64)
    n = t_cal.size
    rate = rng.gamma(params["r"], 1.0 / params["alpha"], size=n)
    dropout = rng.beta(params["a"], params["b"], size=n)
    purchases_if_alive = rng.poisson(rate * t_cal)
    frequency = np.minimum(purchases_if_alive, rng.geometric(dropout) - 1)
    has_repeat = frequency > 0
    shape_a = np.where(has_repeat, frequency, 1)
    shape_b = np.where(has_repeat, purchases_if_alive - frequency + 1, 1)
    recency = np.where(has_repeat, t_cal * rng.beta(shape_a, shape_b), 0.0)
    return frequency.astype(np.float64), recency, t_cal


def simulate_pareto_nbd(
    params: dict[str, float], T: ArrayLike, rng: np.random.Generator
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Simulate (frequency, recency, T) under the Pareto/NBD model.

    Purchase rate lambda ~ Gamma(r, 1/alpha) and death rate mu ~ Gamma(s, 1/beta); the
    customer buys as a Poisson process until an Exponential(mu) lifetime ends.
    """
    t_cal = np.asarray(T, dtype=np.float64)
    n = t_cal.size
    rate = rng.gamma(params["r"], 1.0 / params["alpha"], size=n)
    death_rate = rng.gamma(params["s"], 1.0 / params["beta"], size=n)
    active_time = np.minimum(rng.exponential(1.0 / death_rate), t_cal)
    frequency = rng.poisson(rate * active_time)
    # The last of n uniform arrivals in (0, L] is L times a Beta(n, 1) draw.
    has_repeat = frequency > 0
    recency = np.where(has_repeat, active_time * rng.beta(np.maximum(frequency, 1), 1.0), 0.0)
    return frequency.astype(np.float64), recency, t_cal

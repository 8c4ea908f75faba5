"""Time the lifetime-value model fits on 1,000,000 simulated customers.

Plain script: ``python bench/value_fit.py [--customers N] [--seed S]``. Prints, per model, the
wall time, the peak memory allocated during the fit (tracemalloc, which numpy reports to) and
the fitted parameters, then the process's peak resident memory.

Customers are drawn from a BG/NBD population (and a Gamma-Gamma spend model) with first
purchases spread over a year and times kept at daily resolution, as summaries built from
calendar dates are; the models group identical (frequency, recency, T) rows, which is what
makes a million customers cheap.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from value.bgnbd import BetaGeoModel  # noqa: E402
from value.gamma_gamma import GammaGammaModel  # noqa: E402
from value.mbg_nbd import ModifiedBetaGeoModel  # noqa: E402
from value.pareto_nbd import ParetoNBDModel  # noqa: E402
from value.simulation import simulate_bgnbd, simulate_gamma_gamma  # noqa: E402

TRUE_COUNTS = {"r": 0.6, "alpha": 8.0, "a": 0.7, "b": 3.0}
TRUE_SPEND = {"p": 6.0, "q": 4.0, "v": 15.0}
DAYS_PER_WEEK = 7.0


def simulate(customers: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    observed_days = rng.integers(1, 366, size=customers)
    frequency, recency, T = simulate_bgnbd(TRUE_COUNTS, observed_days / DAYS_PER_WEEK, rng)
    # Purchases happen on calendar days: recency is a whole number of days, at most T.
    recency = np.minimum(np.floor(recency * DAYS_PER_WEEK), observed_days) / DAYS_PER_WEEK
    monetary = simulate_gamma_gamma(TRUE_SPEND, frequency, rng)
    return frequency, recency, T, monetary


def timed(label: str, fit) -> float:
    tracemalloc.start()
    started = time.perf_counter()
    model = fit()
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    params = ", ".join(f"{name}={value:.4g}" for name, value in model.params_.items())
    print(
        f"{label:<12} {elapsed:8.2f} s  peak {peak / 2**20:8.1f} MiB  "
        f"LL={model.log_likelihood_:.6g}  converged={model.converged_}  {params}",
        flush=True,
    )
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()

    started = time.perf_counter()
    frequency, recency, T, monetary = simulate(args.customers, args.seed)
    distinct = np.unique(np.stack([frequency, recency, T]), axis=1).shape[1]
    print(
        f"simulated {args.customers:,} customers ({int((frequency > 0).sum()):,} repeat buyers, "
        f"{distinct:,} distinct (frequency, recency, T) rows) in {time.perf_counter() - started:.2f} s",
        flush=True,
    )
    total = 0.0
    total += timed("bg_nbd", lambda: BetaGeoModel().fit(frequency, recency, T))
    total += timed("pareto_nbd", lambda: ParetoNBDModel().fit(frequency, recency, T))
    total += timed("mbg_nbd", lambda: ModifiedBetaGeoModel().fit(frequency, recency, T))
    total += timed("gamma_gamma", lambda: GammaGammaModel().fit(frequency, monetary))
    peak_rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"total fit time {total:.2f} s; process peak RSS {peak_rss_mib:.0f} MiB")


if __name__ == "__main__":
    main()

"""Benchmark: journeys and every attribution model over synthetic touchpoints (50,000,000 by default).

Run from the repository root:

    .venv/bin/python bench/attribution.py [--touchpoints N] [--threads 2]

Prints, per stage, wall time, rows and rows per second, then the process's peak resident memory.
Touches are spread over 90 days and the lookback is 90 days, so nearly every touchpoint ends up in a
converting journey or a non-converting path: the models see all of them, not a thin slice.
"""

import argparse
import os
import resource
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

CHANNELS = ["search", "social", "email", "display", "affiliate", "app_store", "referral", "sms",
            "video", "partner", "push", "influencer"]
DAYS = 90


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--touchpoints", type=int, default=50_000_000)
    parser.add_argument("--touches-per-user", type=int, default=10, help="average touches per user")
    parser.add_argument("--conversion-rate", type=float, default=0.2, help="share of users who convert")
    parser.add_argument("--threads", type=int, default=2, help="Polars threads (the target machine has 2 cores)")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args(argv)

    # Must be set before Polars is imported, or the thread pool is already sized to the machine.
    os.environ["POLARS_MAX_THREADS"] = str(args.threads)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import polars as pl

    from channels import ATTRIBUTION_MODELS, attribute, build_journeys, build_non_converting_paths

    started = time.perf_counter()
    touchpoints, conversions, cutoff = _synthetic(pl, args)
    print(f"synthetic data: {touchpoints.height:,} touchpoints, {conversions.height:,} conversions, "
          f"{time.perf_counter() - started:.1f}s (not timed below); peak RSS so far {_peak_gib():.2f} GiB")
    print(f"polars threads: {pl.thread_pool_size()}")

    stages: list[tuple[str, float, int]] = []
    clock = time.perf_counter()
    journeys = build_journeys(touchpoints, conversions, lookback_days=DAYS)
    stages.append(("build_journeys", time.perf_counter() - clock, touchpoints.height))
    clock = time.perf_counter()
    non_converting = build_non_converting_paths(touchpoints, conversions, cutoff, lookback_days=DAYS)
    stages.append(("build_non_converting_paths", time.perf_counter() - clock, touchpoints.height))
    print(f"journey rows {journeys.height:,} ({journeys['conversion_id'].n_unique():,} conversions), "
          f"non-converting rows {non_converting.height:,}")
    del touchpoints

    totals = {}
    for model in ATTRIBUTION_MODELS:
        clock = time.perf_counter()
        result = attribute(journeys, model, non_converting=non_converting)
        rows = journeys.height + (non_converting.height if model == "markov" else 0)
        stages.append((model, time.perf_counter() - clock, rows))
        totals[model] = result["conversions"].sum()

    print(f"\n{'stage':<28}{'wall s':>9}{'rows':>15}{'rows/s':>15}")
    for name, seconds, rows in stages:
        print(f"{name:<28}{seconds:>9.2f}{rows:>15,}{rows / seconds:>15,.0f}")
    total = sum(seconds for _, seconds, _ in stages)
    print(f"{'total (journeys + models)':<28}{total:>9.2f}")
    print(f"peak RSS {_peak_gib():.2f} GiB")
    expected = conversions.height
    off = {model: value for model, value in totals.items() if abs(value - expected) > 1e-6 * expected}
    print("conversions reconcile in every model" if not off else f"conversions do not reconcile: {off}")
    return 0 if not off else 1


def _synthetic(pl, args):
    """Users with Poisson-ish touch counts, uniform times over DAYS, one conversion for some users."""
    import numpy as np

    rng = np.random.default_rng(args.seed)
    n = args.touchpoints
    users = max(1, n // args.touches_per_user)
    start = np.datetime64("2024-01-01T00:00:00", "us")
    seconds = DAYS * 86_400
    # Channels follow a skewed mix so the Markov chain has structure to find.
    weights = np.linspace(3.0, 0.5, len(CHANNELS))
    touchpoints = pl.DataFrame(
        {
            "touchpoint_id": np.arange(n, dtype=np.int64),
            "user_id": rng.integers(0, users, n, dtype=np.int64),
            "occurred_at": start + rng.integers(0, seconds, n) * np.timedelta64(1, "s"),
            "channel": rng.choice(len(CHANNELS), n, p=weights / weights.sum()).astype(np.uint8),
            "touch_type": rng.integers(0, 2, n, dtype=np.uint8),
        }
    ).with_columns(
        pl.col("occurred_at").dt.replace_time_zone("UTC"),
        pl.col("channel").replace_strict(dict(enumerate(CHANNELS)), return_dtype=pl.Categorical),
        pl.when(pl.col("touch_type") == 0).then(pl.lit("click")).otherwise(pl.lit("impression"))
        .cast(pl.Categorical).alias("touch_type"),
    )
    converting = rng.choice(users, int(users * args.conversion_rate), replace=False)
    conversions = pl.DataFrame(
        {
            "user_id": converting.astype(np.int64),
            "converted_at": start + rng.integers(seconds // 3, seconds, len(converting)) * np.timedelta64(1, "s"),
            "conversion_value": rng.gamma(2.0, 50.0, len(converting)),
        }
    ).with_columns(pl.col("converted_at").dt.replace_time_zone("UTC"))
    cutoff = datetime(2024, 1, 1, tzinfo=UTC) + (np.timedelta64(seconds, "s").astype(object))
    return touchpoints, conversions, cutoff


def _peak_gib() -> float:
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


if __name__ == "__main__":
    raise SystemExit(main())

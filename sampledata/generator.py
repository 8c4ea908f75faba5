"""`generate_sample_data`: a seeded, believable internet-finance landing folder."""

from __future__ import annotations

import datetime as dt
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from sampledata import catalog as c
from sampledata.consents import generate_consents
from sampledata.dirty import inject, plans
from sampledata.events import EVENT_COLUMNS, generate_events
from sampledata.loans import generate_loan_performance
from sampledata.marketing import generate_marketing_spend, generate_touchpoints, visitor_count
from sampledata.population import Window, anonymous_ids, build_population
from sampledata.transactions import TRANSACTION_COLUMNS, generate_transactions
from sampledata.writers import write_csv, write_jsonl, write_parquet, write_partitioned

USER_COLUMNS = (
    "user_id", "signup_at", "birth_date", "gender", "province", "city", "city_tier", "occupation",
    "income_band", "is_student", "kyc_status", "risk_level", "risk_assessed_at", "acquisition_channel",
    "email", "phone", "country", "timezone", "language",
)
TOUCHPOINT_COLUMNS = ("occurred_at", "channel", "user_id", "anonymous_id", "campaign", "touch_type", "cost")
LOAN_COLUMNS = ("loan_id", "user_id", "as_of", "principal", "days_past_due", "charged_off_amount")
# Landing entries this generator owns (removed before writing so no stale partition survives).
ENTRIES = (
    "users.csv", "transactions", "events", "touchpoints.parquet", "marketing_spend.csv",
    "consents.jsonl", "products.csv", "loan_performance.parquet", "_truth",
)
STREAMS = ("devices", "population", "transactions", "loans", "touchpoints", "events", "spend", "consents", "dirty")


@dataclass(frozen=True)
class SampleDataSummary:
    """What `generate_sample_data` wrote.

    Attributes:
        out_dir: the landing folder.
        rows: rows written per source, dirty rows included.
        dirty_rows: planted dirty rows per source (kinds are in `_truth/dirty_rows.csv`).
        truth_path: `_truth/planted_types.csv` (user_id, planted_type); `dirty_rows.csv` sits beside it.
        seconds: wall time of the whole generation.
    """

    out_dir: Path
    rows: dict[str, int]
    dirty_rows: dict[str, int]
    truth_path: Path
    seconds: float


def generate_sample_data(
    out_dir: Path,
    users: int = 50_000,
    days: int = 180,
    seed: int = 7,
    dirty_fraction: float = 0.01,
    end_date: dt.date = dt.date(2026, 6, 30),
    progress: Callable[[str], None] | None = None,
) -> SampleDataSummary:
    """Write a seeded landing folder in the input contract; same arguments give identical bytes.

    Args:
        out_dir: landing folder to (re)write; only the entries this generator owns are replaced.
        users: number of signed-up users (volumes scale linearly).
        days: length of the activity window, ending on `end_date` (local days).
        seed: random seed.
        dirty_fraction: share of planted dirty rows per source (0 disables them).
        end_date: last local day with data.
        progress: called with a short message after each source.

    Returns:
        A `SampleDataSummary`.
    """
    if users < 1 or days < 1:
        raise ValueError("users and days must be at least 1")
    if not 0 <= dirty_fraction < 0.5:
        raise ValueError("dirty_fraction must be in [0, 0.5)")
    started = time.perf_counter()
    say = progress or (lambda _message: None)
    out_dir = Path(out_dir)
    _clear(out_dir)
    built = build_sources(users, days, seed, dirty_fraction, end_date)
    say(f"generated {users:,} users over {days} days")
    sources, manifest = built.sources, built.manifest

    _write_sources(out_dir, sources, say)
    truth_path = _write_truth(out_dir, built.user_id, built.type_idx, manifest)
    dirty_rows = {name: sum(r for s, _, r in manifest if s == name) for name in sources}
    return SampleDataSummary(
        out_dir=out_dir,
        rows={name: frame.height for name, frame in sources.items()},
        dirty_rows=dirty_rows,
        truth_path=truth_path,
        seconds=time.perf_counter() - started,
    )


@dataclass(frozen=True)
class BuiltSources:
    """Every source as an in-memory frame, dirty rows included, before anything is written.

    Attributes:
        sources: one frame per source in contract text; event-like ones keep the internal `_date`.
        manifest: (source, dirty kind, rows) for every planted defect.
        user_id: the signed-up users' ids, in population order.
        type_idx: each user's planted type (index into `catalog.TYPE_NAMES`).
    """

    sources: dict[str, pl.DataFrame]
    manifest: list[tuple[str, str, int]]
    user_id: pl.Series
    type_idx: np.ndarray


def build_sources(
    users: int,
    days: int,
    seed: int,
    dirty_fraction: float,
    end_date: dt.date = dt.date(2026, 6, 30),
    dirty_sources: tuple[str, ...] | None = None,
) -> BuiltSources:
    """Generate every source in memory; `generate_sample_data` writes what this returns.

    Args:
        dirty_sources: sources to plant dirty rows in (default: all); others stay clean, so a caller
            that merges several generated sets can plant defects after merging.
    """
    rng = dict(zip(STREAMS, (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(len(STREAMS)))))
    window = Window.ending(end_date, days)

    visitors = visitor_count(users)
    device_numbers = rng["devices"].permutation(users + visitors)
    pop = build_population(rng["population"], users, window, device_numbers[:users])
    visitor_devices = anonymous_ids(device_numbers[users:])
    transactions = generate_transactions(rng["transactions"], pop)
    loans = generate_loan_performance(rng["loans"], pop, transactions, window)
    touchpoints = generate_touchpoints(rng["touchpoints"], pop, transactions, visitor_devices, window)
    events = generate_events(rng["events"], pop, transactions, touchpoints, loans, visitor_devices, window)
    sources = {
        "users": pop.users,
        "transactions": transactions,
        "events": events,
        "touchpoints": touchpoints,
        "marketing_spend": generate_marketing_spend(rng["spend"], pop, window),
        "consents": generate_consents(rng["consents"], pop, window),
        "products": c.PRODUCTS.select(c.PRODUCT_COLUMNS),
        "loan_performance": loans,
    }
    manifest: list[tuple[str, str, int]] = []
    for name, kinds in plans().items():
        if dirty_sources is not None and name not in dirty_sources:
            continue
        minimum = 1 if name == "products" else 3
        sources[name], counts = inject(sources[name], kinds, dirty_fraction, rng["dirty"], minimum)
        manifest.extend((name, kind, rows) for kind, rows in counts.items())
    return BuiltSources(sources, manifest, pop.user_id, pop.type_idx)


def _clear(out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for entry in ENTRIES:
        path = out_dir / entry
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


def _write_sources(out_dir: Path, sources: dict[str, pl.DataFrame], say: Callable[[str], None]) -> None:
    write_csv(sources["users"].select(USER_COLUMNS), out_dir / "users.csv", bom=True)
    say(f"users.csv: {sources['users'].height:,} rows")
    write_partitioned(sources["transactions"], out_dir / "transactions", TRANSACTION_COLUMNS, "part-0.parquet")
    say(f"transactions/: {sources['transactions'].height:,} rows")
    write_partitioned(sources["events"], out_dir / "events", EVENT_COLUMNS, "events.jsonl")
    say(f"events/: {sources['events'].height:,} rows")
    write_parquet(sources["touchpoints"].select(TOUCHPOINT_COLUMNS), out_dir / "touchpoints.parquet")
    write_csv(sources["marketing_spend"], out_dir / "marketing_spend.csv")
    write_jsonl(sources["consents"], out_dir / "consents.jsonl")
    write_csv(sources["products"], out_dir / "products.csv")
    write_parquet(sources["loan_performance"].select(LOAN_COLUMNS), out_dir / "loan_performance.parquet")
    say("touchpoints, marketing_spend, consents, products, loan_performance written")


def _write_truth(
    out_dir: Path, user_id: pl.Series, type_idx: np.ndarray, manifest: list[tuple[str, str, int]]
) -> Path:
    truth = out_dir / "_truth"
    truth.mkdir()
    planted = pl.DataFrame({"user_id": user_id, "planted_type": pl.Series(c.TYPE_NAMES).gather(type_idx)})
    write_csv(planted, truth / "planted_types.csv")
    dirty = pl.DataFrame(manifest, schema={"source": pl.Utf8, "kind": pl.Utf8, "rows": pl.Int64}, orient="row")
    write_csv(dirty, truth / "dirty_rows.csv")
    return truth / "planted_types.csv"

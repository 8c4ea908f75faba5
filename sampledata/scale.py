"""A large landing folder written chunk by chunk, with event-like sources as daily Parquet partitions.

`generate_sample_data` builds everything in memory, which caps it at a few hundred thousand users. Here
the population is split into chunks of users; each chunk is an independent seeded sample whose ids get a
chunk prefix, and is written before the next is built, so memory follows the chunk, not the total.
Marketing spend is one row per date, channel and campaign, so the chunks' spend is summed before its
dirty rows are planted; products are the shared catalog and are written once.
"""

from __future__ import annotations

import datetime as dt
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from sampledata.dirty import inject, plans
from sampledata.events import EVENT_COLUMNS
from sampledata.formats import local_date_text, money
from sampledata.generator import LOAN_COLUMNS, TOUCHPOINT_COLUMNS, USER_COLUMNS, build_sources
from sampledata.transactions import TRANSACTION_COLUMNS
from sampledata.writers import PARTITION_COLUMN, write_csv, write_parquet

# Measured on the generator: events per user grow by about this much per day of window.
EVENTS_PER_USER_DAY = 0.152
ID_COLUMNS = {
    "users": ("user_id",),
    "transactions": ("txn_id", "user_id"),
    "events": ("event_id", "user_id", "anonymous_id"),
    "touchpoints": ("user_id", "anonymous_id"),
    "consents": ("user_id", "evidence_ref"),
    "loan_performance": ("loan_id", "user_id"),
}
PARTITIONED = ("transactions", "events", "touchpoints")
ENTRIES = ("users", "transactions", "events", "touchpoints", "consents", "loan_performance",
           "marketing_spend.csv", "products.csv")


@dataclass(frozen=True)
class ScaleDataSummary:
    out_dir: Path
    rows: dict[str, int]
    days: int
    chunks: int
    seconds: float


def days_for(users: int, events: int) -> int:
    """The window length that gives about `events` events for `users` users."""
    return int(min(3650, max(30, round(events / users / EVENTS_PER_USER_DAY))))


def generate_scale_data(
    out_dir: Path,
    users: int = 1_000_000,
    events: int = 50_000_000,
    transactions: int = 5_000_000,
    chunk_users: int = 100_000,
    seed: int = 7,
    dirty_fraction: float = 0.001,
    end_date: dt.date = dt.date(2026, 6, 30),
    progress: Callable[[str], None] | None = None,
) -> ScaleDataSummary:
    """Write a landing folder of about the requested volumes, one chunk of users at a time.

    Events follow from the window length (chosen from `events / users`); transactions are thinned at
    random to `transactions / users` per user, since the generator's users buy more often than that.

    Args:
        out_dir: landing folder; only the entries this generator owns are replaced.
        users: signed-up users in total.
        events: approximate number of events.
        transactions: approximate number of transactions (an upper bound on the thinning).
        chunk_users: users generated and written at a time (memory grows with it).
        seed: random seed; chunk k uses seed + k.
        dirty_fraction: share of planted dirty rows per source.
        end_date: last local day with data.
        progress: called with a short message after each chunk.
    """
    started = time.perf_counter()
    say = progress or (lambda _message: None)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for entry in ENTRIES:
        path = out_dir / entry
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
    days = days_for(users, events)
    rows = {name: 0 for name in (*ID_COLUMNS, "marketing_spend", "products")}
    spends: list[pl.DataFrame] = []
    products = None
    chunks = -(-users // chunk_users)
    for k in range(chunks):
        size = min(chunk_users, users - k * chunk_users)
        dirty = tuple(n for n in plans() if n not in ("transactions", "marketing_spend", "products"))
        built = build_sources(size, days, seed + k, dirty_fraction, end_date, dirty_sources=dirty)
        sources = dict(built.sources)
        rng = np.random.default_rng([seed, k])
        sources["transactions"] = _thinned(sources["transactions"], transactions / users * size, rng)
        sources["transactions"], _ = inject(sources["transactions"], plans()["transactions"], dirty_fraction, rng)
        spends.append(sources.pop("marketing_spend"))
        products = sources.pop("products")
        prefix = f"c{k:03d}"
        for name, frame in sources.items():
            frame = frame.with_columns(
                pl.concat_str([pl.lit(prefix), pl.col(c)]).alias(c) for c in ID_COLUMNS[name]
            )
            rows[name] += frame.height
            _write_chunk(out_dir, name, frame, f"part-{k:03d}")
        say(f"chunk {k + 1}/{chunks}: {size:,} users, {sources['events'].height:,} events")
        del built, sources
    spend = _summed_spend(spends)
    spend, _ = inject(spend, plans()["marketing_spend"], dirty_fraction, np.random.default_rng([seed, chunks]))
    write_csv(spend, out_dir / "marketing_spend.csv")
    write_csv(products, out_dir / "products.csv")
    rows["marketing_spend"], rows["products"] = spend.height, products.height
    return ScaleDataSummary(out_dir, rows, days, chunks, time.perf_counter() - started)


def _thinned(frame: pl.DataFrame, keep: float, rng: np.random.Generator) -> pl.DataFrame:
    if keep >= frame.height:
        return frame
    picked = np.sort(rng.choice(frame.height, size=int(round(keep)), replace=False))
    return frame[picked]


def _summed_spend(spends: list[pl.DataFrame]) -> pl.DataFrame:
    cents = (pl.col("spend").str.replace(r"\.", "").cast(pl.Int64))
    return (
        pl.concat(spends)
        .group_by("date", "channel", "campaign", maintain_order=True)
        .agg(cents.sum().alias("_cents"), pl.col("impressions").sum(), pl.col("clicks").sum(),
             pl.col("currency").first())
        .with_columns(money(pl.col("_cents")).alias("spend"))
        .select("date", "channel", "spend", "campaign", "impressions", "clicks", "currency")
    )


def _write_chunk(out_dir: Path, name: str, frame: pl.DataFrame, part: str) -> None:
    if name == "users":
        folder = out_dir / "users"
        folder.mkdir(exist_ok=True)
        write_csv(frame.select(USER_COLUMNS), folder / f"{part}.csv", bom=True)
        return
    if name in PARTITIONED:
        columns = {"transactions": TRANSACTION_COLUMNS, "events": EVENT_COLUMNS, "touchpoints": TOUCHPOINT_COLUMNS}[name]
        if PARTITION_COLUMN not in frame.columns:
            frame = frame.with_columns(local_date_text(pl.col("_t")).alias(PARTITION_COLUMN))
        for (day,), rows in frame.partition_by(PARTITION_COLUMN, as_dict=True, maintain_order=True).items():
            target = out_dir / name / f"{PARTITION_COLUMN[1:]}={day}"
            target.mkdir(parents=True, exist_ok=True)
            write_parquet(rows.select(columns), target / f"{part}.parquet")
        return
    columns = {"consents": None, "loan_performance": LOAN_COLUMNS}[name]
    folder = out_dir / name
    folder.mkdir(exist_ok=True)
    write_parquet(frame if columns is None else frame.select(columns), folder / f"{part}.parquet")


def add_next_day(landing: Path, source: str = "events", id_column: str = "event_id",
                 time_column: str = "occurred_at") -> tuple[str, int]:
    """Land one more day of `source`: the last landed day's rows, a day later, with new ids.

    Written as `<source>/date=<last day + 1>/part-next.parquet`; rows whose time does not parse (the
    planted dirty ones) keep their text, so the new day is as dirty as the old. Returns the new day
    (ISO) and its rows. Used by the benchmark to time an incremental daily run.
    """
    import duckdb

    folder = Path(landing) / source
    days = sorted(p.name.split("=", 1)[1] for p in folder.glob("date=*") if p.is_dir())
    last = dt.date.fromisoformat(days[-1])
    new_day = (last + dt.timedelta(days=1)).isoformat()
    target = folder / f"date={new_day}"
    target.mkdir(parents=True, exist_ok=True)
    with duckdb.connect() as conn:
        conn.execute("SET TimeZone = 'UTC'")
        shifted = (
            f"coalesce(strftime(TRY_CAST({time_column} AS TIMESTAMPTZ) + INTERVAL 1 DAY, '%Y-%m-%dT%H:%M:%SZ'), "
            f"{time_column})"
        )
        conn.execute(
            f"COPY (SELECT * REPLACE ('n' || {id_column} AS {id_column}, {shifted} AS {time_column}) "
            f"FROM read_parquet('{folder / f'date={days[-1]}' / '*.parquet'}', hive_partitioning = false)) "
            f"TO '{target / 'part-next.parquet'}' (FORMAT parquet)"
        )
        rows = conn.execute(f"SELECT count(*) FROM read_parquet('{target / 'part-next.parquet'}')").fetchone()[0]
    return new_day, rows

"""Polars expressions that turn internal integers (local epoch seconds, cents) into contract text."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

SECONDS_PER_DAY = 86_400
# The business time zone (Asia/Shanghai) has had no daylight saving since 1991: a fixed offset is exact.
LOCAL_OFFSET_SECONDS = 8 * 3600


def local_epoch_seconds(day: dt.date) -> int:
    """Seconds since 1970-01-01 00:00 local time at the start of `day`."""
    return (day - dt.date(1970, 1, 1)).days * SECONDS_PER_DAY


def local_naive(seconds: pl.Expr) -> pl.Expr:
    """'2026-03-01 08:15:00' (local, no offset)."""
    return pl.from_epoch(seconds, time_unit="s").dt.strftime("%Y-%m-%d %H:%M:%S")


def local_with_offset(seconds: pl.Expr) -> pl.Expr:
    """'2026-03-01T08:15:00+08:00'."""
    return pl.from_epoch(seconds, time_unit="s").dt.strftime("%Y-%m-%dT%H:%M:%S+08:00")


def utc_zulu(seconds: pl.Expr) -> pl.Expr:
    """'2026-03-01T00:15:00Z' for a local epoch second."""
    return pl.from_epoch(seconds - LOCAL_OFFSET_SECONDS, time_unit="s").dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def local_date_text(seconds: pl.Expr) -> pl.Expr:
    """'2026-03-01', the local calendar day of a local epoch second."""
    return pl.from_epoch(seconds, time_unit="s").dt.strftime("%Y-%m-%d")


def money(cents: pl.Expr) -> pl.Expr:
    """Non-negative integer cents as an exact two-decimal string, e.g. 123450 -> '1234.50'."""
    return pl.concat_str(
        [(cents // 100).cast(pl.Utf8), pl.lit("."), (cents % 100).cast(pl.Utf8).str.zfill(2)]
    )


def padded_id(prefix: str, numbers: pl.Expr, width: int) -> pl.Expr:
    """'u0000001' style identifiers."""
    return pl.concat_str([pl.lit(prefix), numbers.cast(pl.Utf8).str.zfill(width)])


def to_cents(yuan: np.ndarray, step_cents: int = 1) -> np.ndarray:
    """Round amounts in yuan to whole multiples of `step_cents`, never below one step."""
    steps = np.maximum(np.rint(yuan * 100 / step_cents), 1)
    return steps.astype(np.int64) * step_cents


def diurnal_seconds(rng: np.random.Generator, size: int) -> np.ndarray:
    """Seconds into the local day, busy at lunch and in the evening, quiet at night."""
    weights = np.array(
        [2, 1, 0.6, 0.4, 0.4, 0.6, 1.5, 3, 4.5, 5, 5, 5.5, 6.5, 6, 5, 5, 5, 5.5, 6, 7, 8, 8.5, 7, 4]
    )
    hours = rng.choice(24, size=size, p=weights / weights.sum())
    return hours * 3600 + rng.integers(0, 3600, size=size)


def uniform_times(
    rng: np.random.Generator, start: np.ndarray, end: np.ndarray
) -> np.ndarray:
    """One time per row in [start, end), on a realistic time of day where it stays in range."""
    raw = start + (rng.random(start.size) * (end - start)).astype(np.int64)
    day_start = raw - raw % SECONDS_PER_DAY
    retimed = day_start + diurnal_seconds(rng, start.size)
    inside = (retimed >= start) & (retimed < end)
    return np.where(inside, retimed, raw)


def lookup(names: tuple[str, ...] | list[str], codes: pl.Series) -> pl.Series:
    """Category names for integer codes."""
    return pl.Series(list(names), dtype=pl.Utf8).gather(codes)

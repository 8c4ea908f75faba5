"""The scale benchmark: the whole pipeline on a million users and fifty million events.

Plain script, never a test: ``python bench/scale.py [--users N] [--events N] [--transactions N]``
(``make bench`` runs the full size). It

1. generates the landing set once into a cache folder (``.cache/bench/`` under the repository,
   one sub-folder per size), event-like sources as daily Parquet partitions, in a child process so
   the generator's memory never counts against the pipeline;
2. runs the whole analytics job (``execute_in_process``, as ``fingrowth run`` does) in another child
   process that samples its own resident memory every 50 ms, and prints per Dagster step the wall
   time, peak resident memory while the step ran, rows (materialized or checked) and rows per second;
3. lands one more day of events (the last day's, a day later, with new ids; removed from the cache
   afterwards) and times the incremental run in another child process: that day staged by partition
   (`staging_partitions_job`, the DuckDB file untouched) and `daily_refresh_job`'s assets (window,
   purchases, per-user-per-day activity for the changed days only, daily KPIs);
4. times the floor: one bare DuckDB aggregation of the same events, straight from the Parquet files,
   into per-user features, and prints how many times longer the whole run took.

Every DuckDB connection gets `--memory-limit` (default 3GB: DuckDB spills beyond it, and Python, Polars
and GX need the rest of the 6 GB budget). Other processes on the machine skew the timings; compare the
ratio to the floor, which is measured under the same load.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

DEFAULT_CACHE = REPO / ".cache" / "bench"
PAGE = os.sysconf("SC_PAGE_SIZE")
# Per-user behavioural features the pipeline also derives; the floor computes only these.
FLOOR_SQL = """
CREATE TABLE features AS
SELECT user_id,
       count(*) AS events,
       count(DISTINCT event_name) AS event_types,
       count(DISTINCT TRY_CAST(occurred_at AS TIMESTAMPTZ)::DATE) AS active_days,
       min(TRY_CAST(occurred_at AS TIMESTAMPTZ)) AS first_seen,
       max(TRY_CAST(occurred_at AS TIMESTAMPTZ)) AS last_seen,
       count(*) FILTER (WHERE event_name IN ('loan_drawn', 'fund_purchase', 'payment', 'purchase')) AS purchases
FROM read_parquet(?, hive_partitioning = true)
WHERE user_id IS NOT NULL
GROUP BY user_id
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command")
    for name in ("generate", "pipeline", "incremental"):
        worker = sub.add_parser(name)
        worker.add_argument("--landing", type=Path, required=True)
        worker.add_argument("--users", type=int, default=1_000_000)
        worker.add_argument("--events", type=int, default=50_000_000)
        worker.add_argument("--transactions", type=int, default=None)
        worker.add_argument("--chunk-users", type=int, default=100_000)
        worker.add_argument("--work", type=Path)
        worker.add_argument("--report", type=Path)
        worker.add_argument("--memory-limit", default=None)
        worker.add_argument("--day", default=None)
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=50_000_000)
    parser.add_argument("--transactions", type=int, default=None, help="default: 5 per user")
    parser.add_argument("--chunk-users", type=int, default=100_000, help="users generated at a time")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="where generated landing sets are kept")
    parser.add_argument("--work", type=Path, default=None, help="warehouse and output folder (default: a temp folder)")
    parser.add_argument("--regenerate", action="store_true", help="rebuild the landing set even if cached")
    parser.add_argument("--skip-floor", action="store_true")
    parser.add_argument("--skip-incremental", action="store_true")
    parser.add_argument("--memory-limit", default="3GB",
                        help="DuckDB memory_limit for every connection of the run ('' for the warehouse default, half "
                             "the machine's memory); DuckDB spills to disk beyond it, and Python and Polars need the "
                             "rest of the 6 GB budget")
    args = parser.parse_args(argv)
    if args.command == "generate":
        return _generate(args)
    if args.command == "pipeline":
        return _pipeline(args)
    if args.command == "incremental":
        return _incremental(args)
    return _bench(args)


def _bench(args: argparse.Namespace) -> int:
    transactions = args.transactions or 5 * args.users
    landing = args.cache / f"u{args.users}_e{args.events}_t{transactions}" / "landing"
    manifest = landing / "_bench.json"
    if args.regenerate or not manifest.is_file():
        print(f"generating {args.users:,} users, ~{args.events:,} events into {landing} ...", flush=True)
        _child("generate", "--landing", landing, "--users", args.users, "--events", args.events,
               "--transactions", transactions, "--chunk-users", args.chunk_users)
    generated = json.loads(manifest.read_text())
    print(f"landing set: {landing} (generated in {generated['seconds']:.0f}s, {generated['days']} days)")
    for source, rows in generated["rows"].items():
        print(f"  {source:<18} {rows:>13,} rows")

    work = args.work or Path(tempfile.mkdtemp(prefix="fingrowth-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    report = work / "report.json"
    print(f"\nrunning the whole pipeline (warehouse and dashboards under {work}, "
          f"DuckDB memory_limit {args.memory_limit or 'default'}) ...", flush=True)
    _child("pipeline", "--landing", landing, "--work", work, "--report", report, "--memory-limit", args.memory_limit)
    result = json.loads(report.read_text())
    _print_steps(result)

    incremental = None
    if not args.skip_incremental and result["success"]:
        incremental = _bench_incremental(args, landing, work)
    if not args.skip_floor:
        floor = _floor(landing)
        print(f"\nfloor: bare DuckDB per-user features from the events Parquet: {floor['seconds']:.1f}s, "
              f"{floor['users']:,} users, {floor['events']:,} events "
              f"({floor['events'] / floor['seconds']:,.0f} rows/s)")
        print(f"whole run / floor: {result['seconds'] / floor['seconds']:.1f}x")
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if result["success"] and (incremental is None or incremental["success"]) else 1


def _bench_incremental(args: argparse.Namespace, landing: Path, work: Path) -> dict:
    """Land one more day of events, then time the incremental run: that day staged by partition, and the
    daily refresh (window, purchases, per-user-per-day activity for the changed days, daily KPIs)."""
    from sampledata.scale import add_next_day

    day, rows = add_next_day(landing)
    try:
        print(f"\nincremental: landed {rows:,} events for {day}; staging that day and refreshing the daily layer ...",
              flush=True)
        report = work / "incremental.json"
        _child("incremental", "--landing", landing, "--work", work, "--report", report,
               "--memory-limit", args.memory_limit, "--day", day)
        result = json.loads(report.read_text())
        _print_steps(result, title="incremental run")
        return result
    finally:
        # The cached landing set stays as generated.
        shutil.rmtree(landing / "events" / f"date={day}", ignore_errors=True)


def _child(command: str, *arguments) -> None:
    cmd = [sys.executable, str(Path(__file__).resolve()), command, *map(str, arguments)]
    subprocess.run(cmd, check=True)


def _generate(args: argparse.Namespace) -> int:
    from sampledata.scale import generate_scale_data

    summary = generate_scale_data(
        args.landing, users=args.users, events=args.events, transactions=args.transactions,
        chunk_users=args.chunk_users, progress=lambda message: print(f"  {message}", flush=True),
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    (args.landing / "_bench.json").write_text(json.dumps({
        "rows": summary.rows, "days": summary.days, "seconds": summary.seconds, "peak_rss_mb": peak,
    }, indent=2))
    print(f"  generated in {summary.seconds:.0f}s, peak memory {peak:,.0f} MB")
    return 0


class _MemorySampler(threading.Thread):
    """Resident memory of this process every 50 ms, so each step's peak can be read off afterwards."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.samples: list[tuple[float, int]] = []
        self._halt = threading.Event()

    def run(self) -> None:
        with open("/proc/self/statm") as statm:
            while not self._halt.is_set():
                statm.seek(0)
                self.samples.append((time.time(), int(statm.read().split()[1]) * PAGE))
                self._halt.wait(0.05)

    def stop(self) -> None:
        self._halt.set()
        self.join()

    def peak(self, start: float, end: float) -> int:
        inside = [rss for t, rss in self.samples if start <= t <= end]
        # A step shorter than the sampling interval gets the last reading before it ended.
        before = [rss for t, rss in self.samples if t <= end][-1:]
        return max(inside or before or [0])


def _settings(args: argparse.Namespace):
    from pipelines.settings import Settings

    if args.memory_limit:
        _limit_duckdb_memory(args.memory_limit)
    return Settings.from_env(
        landing=args.landing, warehouse=args.work / "warehouse.duckdb", out=args.work / "out",
        staged_dir=str(args.work / "staged"), duckdb_memory_limit=args.memory_limit or None)


def _pipeline(args: argparse.Namespace) -> int:
    from pipelines.definitions import build_definitions

    settings = _settings(args)
    if settings.warehouse.exists():
        settings.warehouse.unlink()
    shutil.rmtree(args.work / "staged", ignore_errors=True)
    job = build_definitions(settings).resolve_job_def("analytics_job")
    _run_jobs(args.report, [(job, {})])
    return 0


def _incremental(args: argparse.Namespace) -> int:
    from pipelines.definitions import build_definitions
    from pipelines.partitioned import build_partition_definitions

    settings = _settings(args)
    staging = build_partition_definitions(settings).resolve_job_def("staging_partitions_job")
    refresh = build_definitions(settings).resolve_job_def("daily_refresh_job")
    _run_jobs(args.report, [
        # In this process (execute_in_process); `dagster job launch` would run its steps in parallel processes.
        (staging, {"partition_key": args.day}),
        (refresh, {}),
    ])
    return 0


def _run_jobs(report: Path, jobs: list) -> None:
    """Run the jobs one after another in this process, sampling memory, and write the per-step report."""
    from dagster import DagsterEventType, DagsterInstance

    sampler = _MemorySampler()
    sampler.start()
    started = time.time()
    records, success = [], True
    with DagsterInstance.ephemeral() as instance:
        for job, extra in jobs:
            result = job.execute_in_process(
                instance=instance, raise_on_error=False, run_config={"loggers": {"progress": {}}}, **extra
            )
            success = success and result.success
            records += instance.all_logs(result.run_id)
        seconds = time.time() - started
    sampler.stop()

    steps: dict[str, dict] = {}
    for record in records:
        event = record.dagster_event
        if event is None or not event.step_key:
            continue
        step = steps.setdefault(event.step_key, {"step": event.step_key, "rows": None, "status": "?"})
        kind = event.event_type
        if kind == DagsterEventType.STEP_START:
            step["start"] = record.timestamp
        elif kind in (DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE):
            step["end"] = record.timestamp
            step["status"] = "ok" if kind == DagsterEventType.STEP_SUCCESS else "FAILED"
        elif kind == DagsterEventType.ASSET_MATERIALIZATION:
            metadata = event.event_specific_data.materialization.metadata
            step["rows"] = _number(metadata.get("rows_in")) or _number(metadata.get("dagster/row_count"))
        elif kind == DagsterEventType.ASSET_CHECK_EVALUATION:
            step["rows"] = _number(event.event_specific_data.metadata.get("rows_checked")) or step["rows"]
    ordered = sorted((s for s in steps.values() if "start" in s), key=lambda s: s["start"])
    for step in ordered:
        step["end"] = step.get("end", step["start"])
        step["seconds"] = step["end"] - step["start"]
        step["peak_rss_mb"] = sampler.peak(step["start"], step["end"]) / 2**20
    report.write_text(json.dumps({
        "success": success,
        "seconds": seconds,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "steps": ordered,
    }, indent=2))


def _limit_duckdb_memory(limit: str) -> None:
    """Give every DuckDB connection the run opens this memory_limit, so the 6 GB target is a budget."""
    import duckdb

    connect = duckdb.connect

    def limited(database=":memory:", read_only=False, config=None, **kwargs):
        return connect(database, read_only=read_only, config={"memory_limit": limit, **(config or {})}, **kwargs)

    duckdb.connect = limited


def _number(value) -> int | None:
    inner = getattr(value, "value", value)
    return int(inner) if isinstance(inner, (int, float)) and not isinstance(inner, bool) else None


def _print_steps(result: dict, title: str = "whole run") -> None:
    print(f"\n{'step':<48} {'wall s':>8} {'peak MB':>9} {'rows':>13} {'rows/s':>12}")
    for step in result["steps"]:
        rows = step["rows"]
        rate = f"{rows / step['seconds']:,.0f}" if rows and step["seconds"] > 0 else "-"
        flag = "" if step["status"] == "ok" else f"  {step['status']}"
        shown = f"{rows:,}" if rows is not None else "-"
        print(f"{step['step']:<48} {step['seconds']:>8.1f} {step['peak_rss_mb']:>9,.0f} {shown:>13} {rate:>12}{flag}")
    by_layer: dict[str, float] = {}
    for step in result["steps"]:
        layer = step["step"].split("_")[0] if step["step"].startswith(("raw_", "stg_")) else "downstream"
        if step["step"].startswith("stg_") and step["step"].endswith(("_passes_expectations", "_rows_accounted_for")):
            layer = "checks"
        by_layer[layer] = by_layer.get(layer, 0.0) + step["seconds"]
    print("\n" + ", ".join(f"{layer} {seconds:.0f}s" for layer, seconds in by_layer.items()))
    status = "succeeded" if result["success"] else "FAILED (see the steps marked above)"
    print(f"{title}: {result['seconds']:.1f}s, peak memory {result['peak_rss_mb']:,.0f} MB, {status}")


def _floor(landing: Path) -> dict:
    import duckdb

    conn = duckdb.connect()
    conn.execute("SET TimeZone = 'Asia/Shanghai'; SET enable_progress_bar = false")
    pattern = str(landing / "events" / "*" / "*.parquet")
    started = time.perf_counter()
    conn.execute(FLOOR_SQL, [pattern])
    seconds = time.perf_counter() - started
    users, events = conn.execute("SELECT count(*), sum(events) FROM features").fetchone()
    conn.close()
    return {"seconds": seconds, "users": users, "events": int(events)}


if __name__ == "__main__":
    raise SystemExit(main())

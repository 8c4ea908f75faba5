"""The CSV-size benchmark: `fingrowth run` on a text landing folder against a plain pandas script.

Plain script, never a test: ``python bench/csv_scale.py [--users N] [--events N] [--repeat N]``
(``make bench`` runs it after the scale bench, at the default size: 100,000 users, 9.0M events, 2.7M
transactions, 4.1M loan snapshots over 757 days, 2.6 GB of text, events as JSON lines 2.0 GB of it). It

1. builds the landing set once into a cache folder (``.cache/bench/csv-u<users>_e<events>/landing``
   under the repository), in a child process: the scale generator (`sampledata.scale`) writes a Parquet
   set next to it, then DuckDB ``COPY`` turns every source into text the way real exports look —
   ``users.csv``, ``transactions/date=YYYY-MM-DD/transactions.csv``, ``events/date=…/events.jsonl``
   (JSON lines), ``touchpoints/date=…/touchpoints.csv``, ``marketing_spend.csv``, ``consents.csv``,
   ``loan_performance.csv``, ``products.csv`` — timestamps as ISO 8601 text with offsets, money as plain
   decimals, the generator's planted dirty rows kept as they are; the Parquet set is then removed;
2. runs, in ONE invocation, (a) ``fingrowth run --data LANDING --warehouse … --out …`` and (b)
   ``bench/pandas_baseline.py LANDING OUT`` (pandas + scikit-learn + lifetimes computing the core marts
   from the same files), each in a child process whose wall time and peak resident memory of the whole
   process tree (sampled every 50 ms from /proc; shared pages counted once) are recorded; with
   ``--repeat N`` the order alternates (fingrowth first on odd repetitions, pandas first on even ones), so
   neither always runs on a warm page cache, and the medians are reported;
3. prints a table (wall, peak memory, the biggest steps of each from their ``done <step> <seconds>s``
   progress lines) and the ratios fingrowth / pandas.

Both tools use the same as-of date: ``--as-of`` when given, otherwise each its default (the local date of
the latest transaction or event, the same day for both). The environment is passed through, so
``FINGROWTH_DUCKDB_MEMORY_LIMIT`` and the like apply as they would to any run; ``--memory-limit`` sets it.
Other processes on the machine skew the timings: the ratio, measured under the same load, is the figure.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
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
# The scale generator picks the window from events / users (11.5M asked -> 757 days). Since its sign-ups
# fall inside the data window (every cohort's activity visible), that gives about 9.0M events and 2.7M
# transactions at 100,000 users (11.9M and 3.6M before); the window, not the count, is what the default
# keeps, so runs of this bench stay comparable with each other.
DEFAULT_EVENTS = 11_500_000
STEP_LINE = re.compile(r"^\s*done\s+(\S+)\s+([0-9.]+)s\s*$")
TEXT_SOURCES = {
    # source: (format, file extension) for the daily partitions
    "transactions": ("csv", "csv"),
    "events": ("json", "jsonl"),
    "touchpoints": ("csv", "csv"),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command")
    build = sub.add_parser("build", help="(child) generate the Parquet set and convert it to text")
    build.add_argument("--landing", type=Path, required=True)
    build.add_argument("--users", type=int, required=True)
    build.add_argument("--events", type=int, required=True)
    build.add_argument("--transactions", type=int, default=None)
    build.add_argument("--chunk-users", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=DEFAULT_EVENTS,
                        help="events asked of the scale generator (it picks the window length from it; the default "
                             "gives about 9.0M at 100,000 users)")
    parser.add_argument("--transactions", type=int, default=None,
                        help="thin transactions to about this many (default: as generated, about 36 per user)")
    parser.add_argument("--chunk-users", type=int, default=100_000, help="users generated at a time")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="where generated landing sets are kept")
    parser.add_argument("--work", type=Path, default=None,
                        help="warehouse, outputs and logs of the runs (default: a temp folder, removed afterwards)")
    parser.add_argument("--regenerate", action="store_true", help="rebuild the landing set even if cached")
    parser.add_argument("--repeat", type=int, default=1, help="paired repetitions, order alternating (median)")
    parser.add_argument("--as-of", default=None, help="analysis date YYYY-MM-DD passed to both (default: theirs)")
    parser.add_argument("--memory-limit", default=None,
                        help="FINGROWTH_DUCKDB_MEMORY_LIMIT for the fingrowth run (default: the environment's or "
                             "fingrowth's own default)")
    parser.add_argument("--only", choices=("fingrowth", "pandas"), default=None, help="run one side only")
    args = parser.parse_args(argv)
    if args.command == "build":
        return _build(args)
    return _bench(args)


# --- the landing set -------------------------------------------------------------------------------


def _landing_for(args: argparse.Namespace) -> Path:
    name = f"csv-u{args.users}_e{args.events}" + (f"_t{args.transactions}" if args.transactions else "")
    return args.cache / name / "landing"


def _build(args: argparse.Namespace) -> int:
    """Generate the Parquet set beside the landing folder, convert it to text, remove it, write a manifest."""
    from sampledata.scale import generate_scale_data

    landing = args.landing
    parquet = landing.parent / "parquet"
    shutil.rmtree(parquet, ignore_errors=True)
    shutil.rmtree(landing, ignore_errors=True)
    started = time.perf_counter()
    summary = generate_scale_data(
        parquet, users=args.users, events=args.events,
        # No thinning unless asked: the generator keeps every transaction when asked for more than it makes.
        transactions=args.transactions or sys.maxsize,
        chunk_users=args.chunk_users, progress=lambda message: print(f"  {message}", flush=True),
    )
    generated = time.perf_counter() - started
    print(f"  generated the Parquet set in {generated:.0f}s; converting to CSV and JSON lines ...", flush=True)
    started = time.perf_counter()
    rows = _convert(parquet, landing)
    converted = time.perf_counter() - started
    shutil.rmtree(parquet)
    files = [p for p in landing.rglob("*") if p.is_file()]
    sizes = {}
    for path in files:
        source = path.relative_to(landing).parts[0].split(".")[0]
        sizes[source] = sizes.get(source, 0) + path.stat().st_size
    (landing / "_bench.json").write_text(json.dumps({
        "users_asked": args.users, "events_asked": args.events, "days": summary.days, "rows": rows,
        "bytes": sizes, "files": len(files), "generate_seconds": generated, "convert_seconds": converted,
    }, indent=2))
    print(f"  converted in {converted:.0f}s: {len(files):,} files, {sum(sizes.values()) / 1e9:.2f} GB", flush=True)
    return 0


def _convert(parquet: Path, landing: Path) -> dict[str, int]:
    """Every source of the Parquet set as text; returns rows per source (dirty rows included)."""
    import duckdb

    landing.mkdir(parents=True)
    conn = duckdb.connect()
    conn.execute("SET enable_progress_bar = false; SET preserve_insertion_order = true")
    rows: dict[str, int] = {}

    def copy(select: str, target: Path, fmt: str) -> int:
        options = "FORMAT csv, HEADER" if fmt == "csv" else "FORMAT json"
        return conn.execute(f"COPY ({select}) TO '{_quoted(target)}' ({options})").fetchone()[0]

    # Users: one file. Sign-up and risk-assessment times get the business zone's offset; values that are
    # not timestamps (the planted dirty ones) stay as they are.
    with_offset = ("coalesce(strftime(try_strptime({c}, '%Y-%m-%d %H:%M:%S'), '%Y-%m-%dT%H:%M:%S+08:00'), {c}) "
                   "AS {c}")
    rows["users"] = copy(
        f"SELECT * REPLACE ({with_offset.format(c='signup_at')}, {with_offset.format(c='risk_assessed_at')}) "
        f"FROM read_csv('{_quoted(parquet / 'users' / '*.csv')}', header = true, all_varchar = true)",
        landing / "users.csv", "csv",
    )
    for source, (fmt, ext) in TEXT_SOURCES.items():
        rows[source] = 0
        for day in sorted(p for p in (parquet / source).iterdir() if p.is_dir()):
            target = landing / source / day.name / f"{source}.{ext}"
            target.parent.mkdir(parents=True)
            rows[source] += copy(
                f"SELECT * FROM read_parquet('{_quoted(day / '*.parquet')}', hive_partitioning = false)", target, fmt
            )
    for source in ("consents", "loan_performance"):
        rows[source] = copy(f"SELECT * FROM read_parquet('{_quoted(parquet / source / '*.parquet')}')",
                            landing / f"{source}.csv", "csv")
    for source in ("marketing_spend", "products"):
        # Already CSV from the generator.
        shutil.copyfile(parquet / f"{source}.csv", landing / f"{source}.csv")
        rows[source] = conn.execute(
            f"SELECT count(*) FROM read_csv('{_quoted(landing / f'{source}.csv')}', header = true, all_varchar = true)"
        ).fetchone()[0]
    conn.close()
    return rows


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")


# --- the paired run --------------------------------------------------------------------------------


def _bench(args: argparse.Namespace) -> int:
    landing = _landing_for(args)
    manifest = landing / "_bench.json"
    if args.regenerate or not manifest.is_file():
        print(f"building the CSV landing set: {args.users:,} users, ~{args.events:,} events asked, "
              f"into {landing} ...", flush=True)
        command = ["build", "--landing", landing, "--users", args.users, "--events", args.events,
                   "--chunk-users", args.chunk_users]
        if args.transactions:
            command += ["--transactions", args.transactions]
        subprocess.run([sys.executable, str(Path(__file__).resolve()), *map(str, command)], check=True)
    built = json.loads(manifest.read_text())
    _print_landing(landing, built)

    work = args.work or Path(tempfile.mkdtemp(prefix="fingrowth-csv-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    sides = [args.only] if args.only else ["fingrowth", "pandas"]
    runs: dict[str, list[dict]] = {side: [] for side in sides}
    try:
        for repetition in range(args.repeat):
            order = sides if repetition % 2 == 0 else sides[::-1]
            for side in order:
                print(f"\nrepetition {repetition + 1}/{args.repeat}: {side} ...", flush=True)
                result = _run_side(side, landing, work / f"{side}-{repetition + 1}", args)
                runs[side].append(result)
                status = "ok" if result["returncode"] == 0 else f"FAILED (exit {result['returncode']})"
                print(f"  {result['seconds']:.1f}s wall, peak {result['peak_rss_mb']:,.0f} MB, {status}", flush=True)
                if result["returncode"] != 0:
                    print("  last lines of its output:", *result["tail"], sep="\n    ", flush=True)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    _print_report(runs, args.repeat)
    return 0 if all(r["returncode"] == 0 for side in runs.values() for r in side) else 1


def _print_landing(landing: Path, built: dict) -> None:
    print(f"landing set: {landing} ({built['days']} days, {built['files']:,} files, "
          f"{sum(built['bytes'].values()) / 1e9:.2f} GB; built in "
          f"{built['generate_seconds'] + built['convert_seconds']:.0f}s)")
    for source, rows in built["rows"].items():
        size = built["bytes"].get(source, 0)
        print(f"  {source:<18} {rows:>13,} rows {size / 1e6:>10,.1f} MB")


def _run_side(side: str, landing: Path, work: Path, args: argparse.Namespace) -> dict:
    """One child process: wall time, peak resident memory of its process tree, per-step timings."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    env = dict(os.environ)
    if side == "fingrowth":
        fingrowth = Path(sys.executable).with_name("fingrowth")
        command = [str(fingrowth) if fingrowth.exists() else "fingrowth", "run", "--data", str(landing),
                   "--warehouse", str(work / "warehouse.duckdb"), "--out", str(work / "out")]
        # A Dagster instance of its own (run history in the work folder), not the repository's .dagster/;
        # telemetry off as in the repository's dagster.yaml.
        env["DAGSTER_HOME"] = str(work / "dagster")
        (work / "dagster").mkdir()
        (work / "dagster" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        if args.memory_limit:
            env["FINGROWTH_DUCKDB_MEMORY_LIMIT"] = args.memory_limit
    else:
        command = [sys.executable, str(REPO / "bench" / "pandas_baseline.py"), str(landing), str(work / "out")]
    if args.as_of:
        command += ["--as-of", args.as_of]
    log = work / "run.log"
    with open(log, "wb") as out:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
        sampler = _TreeSampler(process.pid)
        sampler.start()
        returncode = process.wait()
        seconds = time.perf_counter() - started
        sampler.stop()
    steps, lines = [], log.read_text(errors="replace").splitlines()
    for line in lines:
        match = STEP_LINE.match(line)
        if match:
            steps.append((match.group(1), float(match.group(2))))
    return {"seconds": seconds, "peak_rss_mb": sampler.peak / 2**20, "returncode": returncode, "steps": steps,
            "tail": lines[-15:]}


class _TreeSampler(threading.Thread):
    """Resident memory of a process and all its descendants, summed, every 50 ms; keeps the peak.

    A lone process is read from /proc/PID/statm (RSS, cheap). While the tree holds more than one process
    each is read as PSS from /proc/PID/smaps_rollup, which splits shared pages among their sharers: a
    forked child shares its parent's pages, and summing RSS would count them twice (reading PSS walks the
    page tables, so it is done only then).
    """

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = 0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            pids = _tree(self.pid)
            self.peak = max(self.peak, _rss(pids[0]) if len(pids) == 1 else sum(_pss(pid) for pid in pids))
            self._halt.wait(0.05)

    def stop(self) -> None:
        self._halt.set()
        self.join()


def _tree(root: int) -> list[int]:
    """The process and its descendants, from the parent ids in /proc/*/stat."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                text = stat.read()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: the fields after the last ')' are fixed.
        parent = int(text[text.rindex(")") + 2:].split()[1])
        children.setdefault(parent, []).append(int(entry))
    found, pending = [], [root]
    while pending:
        pid = pending.pop()
        found.append(pid)
        pending += children.get(pid, [])
    return found


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as statm:
            return int(statm.read().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0


def _pss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, IndexError, ValueError):
        pass
    return 0


def _print_report(runs: dict[str, list[dict]], repeat: int) -> None:
    medians = {}
    print(f"\n{'':<11} {'wall s':>9} {'peak MB':>9}   runs (wall s / peak MB)")
    for side, results in runs.items():
        if not results:
            continue
        wall = statistics.median(r["seconds"] for r in results)
        peak = statistics.median(r["peak_rss_mb"] for r in results)
        medians[side] = (wall, peak)
        each = ", ".join(f"{r['seconds']:.1f}/{r['peak_rss_mb']:,.0f}" for r in results)
        print(f"{side:<11} {wall:>9.1f} {peak:>9,.0f}   {each}")
    if len(medians) == 2:
        (f_wall, f_peak), (p_wall, p_peak) = medians["fingrowth"], medians["pandas"]
        label = "median of " + str(repeat) + " paired runs" if repeat > 1 else "one paired run"
        print(f"\nfingrowth / pandas ({label}): wall {f_wall / p_wall:.2f}x, peak memory {f_peak / p_peak:.2f}x")
    for side, results in runs.items():
        steps = results[len(results) // 2]["steps"] if results else []
        if steps:
            top = sorted(steps, key=lambda s: -s[1])[:12]
            total = sum(s for _, s in steps)
            print(f"\n{side}: biggest steps of run {len(results) // 2 + 1} (steps add up to {total:.1f}s)")
            for step, seconds in top:
                print(f"  {step:<52} {seconds:>7.1f}s")


if __name__ == "__main__":
    raise SystemExit(main())

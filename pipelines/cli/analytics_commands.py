"""`fingrowth sample-data`, `fingrowth run` and `fingrowth demo`: sample data and analytics runs through Dagster."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# Dagster and the asset graph load only for `run` and `demo`, so campaign and template commands start fast.
from pipelines.settings import DEFAULT_LANDING, Settings, parse_as_of

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def add_analytics_commands(commands: argparse._SubParsersAction) -> None:
    """Register `sample-data`, `run` and `demo` on the main parser."""
    sample = commands.add_parser("sample-data", help="write a seeded, realistic sample landing folder")
    sample.add_argument("--out", type=Path, required=True, help="landing folder to write")
    sample.add_argument("--users", type=int, default=50_000)
    sample.add_argument("--days", type=int, default=180)
    sample.add_argument("--seed", type=int, default=7)
    sample.add_argument("--dirty-fraction", type=float, default=0.01, help="share of dirty rows per source (0 disables)")
    sample.set_defaults(handler=_sample_data)

    run = commands.add_parser("run", help="materialize every analytics asset through Dagster (never sends)")
    _run_arguments(run)
    run.add_argument("--data", type=Path, required=True, help="landing folder holding the sources")
    run.set_defaults(handler=_run)

    demo = commands.add_parser("demo", help="generate sample data if absent, then run on the defaults")
    _run_arguments(demo)
    demo.add_argument("--data", type=Path, default=None, help=f"landing folder (default {DEFAULT_LANDING})")
    demo.set_defaults(handler=_demo)


def _run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--warehouse", type=Path, default=None, help="DuckDB file (default data/fingrowth.duckdb)")
    parser.add_argument("--out", type=Path, default=None, help="output folder for dashboards (default out/)")
    parser.add_argument("--as-of", type=parse_as_of, default=None, help="analysis date YYYY-MM-DD (default: latest in data)")
    parser.add_argument("--holdout-weeks", type=int, default=None,
                        help="weeks before the as-of date held out to check the lifetime-value model "
                             "(default: half the history, at most 39)")
    parser.add_argument("--targets", type=Path, default=None,
                        help="YAML of executive KPI targets (default config/targets.yaml when present)")


def _sample_data(args: argparse.Namespace) -> int:
    from sampledata import generate_sample_data

    if args.users < 1 or args.days < 1:
        raise ValueError("--users and --days must be at least 1")
    print(f"writing sample data for {args.users:,} users over {args.days} days to {args.out} ...", file=sys.stderr)
    summary = generate_sample_data(
        args.out, users=args.users, days=args.days, seed=args.seed, dirty_fraction=args.dirty_fraction,
        progress=lambda message: print(f"  {message}", file=sys.stderr),
    )
    for source, rows in summary.rows.items():
        print(f"  {source:<18} {rows:>12,} rows ({summary.dirty_rows.get(source, 0):,} dirty)")
    print(f"planted truth: {summary.truth_path}")
    print(f"sample data written to {args.out} in {summary.seconds:.1f}s")
    return EXIT_OK


def _settings(args: argparse.Namespace, landing: Path) -> Settings:
    if args.holdout_weeks is not None and args.holdout_weeks < 1:
        raise ValueError("--holdout-weeks must be at least 1")
    return Settings.from_env(landing=landing, warehouse=args.warehouse, out=args.out, as_of=args.as_of,
                             targets=args.targets, holdout_weeks=args.holdout_weeks)


def _run(args: argparse.Namespace) -> int:
    if not args.data.is_dir():
        raise FileNotFoundError(f"landing folder {args.data} does not exist")
    return run_analytics(_settings(args, args.data))


def _demo(args: argparse.Namespace) -> int:
    landing = args.data or Settings.from_env().landing
    if not any(landing.glob("users*")):
        code = _sample_data(argparse.Namespace(out=landing, users=50_000, days=180, seed=7, dirty_fraction=0.01))
        if code != EXIT_OK:
            return code
    else:
        print(f"using existing sample data in {landing}", file=sys.stderr)
    return run_analytics(_settings(args, landing))


def run_analytics(settings: Settings) -> int:
    """Run the analytics job in-process on the Dagster instance, so the run shows in the UI."""
    from pipelines.definitions import build_definitions
    from pipelines.summary import print_summary

    from warehouse.ownership import StagedFolderShared, WarehouseBusy, claim_staged_folder, exclusive_run

    definitions = build_definitions(settings)
    job = definitions.resolve_job_def("analytics_job")
    started = time.perf_counter()
    try:
        # Refused before anything is opened: a second run on the warehouse would fail both.
        with exclusive_run(settings.warehouse):
            claim_staged_folder(settings.staged_location, settings.warehouse)
            print(f"running analytics on {settings.landing} into {settings.warehouse} ...", file=sys.stderr)
            with _instance() as instance:
                result = job.execute_in_process(
                    instance=instance, raise_on_error=False, run_config={"loggers": {"progress": {}}}
                )
                failures, skipped = _failure_reasons(result), _skipped_steps(job, result)
    except (WarehouseBusy, StagedFolderShared) as refusal:
        print(f"fingrowth run refused: {refusal}", file=sys.stderr)
        return EXIT_FAILED
    seconds = time.perf_counter() - started
    if failures or not result.success:
        # The cause first and alone; the steps it kept from running are one count, not a list.
        print(f"\nfingrowth run stopped after {seconds:.1f}s: {(failures or [UNKNOWN_FAILURE])[0]}", file=sys.stderr)
        for reason in failures[1:]:
            print(f"  also: {reason}", file=sys.stderr)
        if skipped:
            print(f"({skipped} later step(s) did not run because of it; the warehouse keeps what finished before)",
                  file=sys.stderr)
        return EXIT_FAILED
    print_summary(settings, run_id=result.run_id, seconds=seconds)
    return EXIT_OK


UNKNOWN_FAILURE = "the run did not succeed; see the Dagster UI for the step logs"


def _skipped_steps(job, result) -> int:
    """Steps that did not run (because a step they depend on failed): the job's steps less those started."""
    started = sum(1 for event in result.all_events if event.event_type_value == "STEP_START")
    return max(len(job.graph.nodes) - started, 0)


def _failure_reasons(result) -> list[str]:
    from pipelines.progress import failure_reason

    reasons = []
    for event in result.all_events:
        if event.event_type_value == "STEP_FAILURE":
            reasons.append(f"{event.step_key}: {failure_reason(event)}")
        elif event.event_type_value == "ASSET_CHECK_EVALUATION" and not event.event_specific_data.passed:
            evaluation = event.event_specific_data
            reasons.append(
                f"check {evaluation.asset_key.to_user_string()}.{evaluation.check_name} failed: {evaluation.description or ''}"
            )
    return reasons


@contextmanager
def _instance() -> Iterator:
    """The Dagster instance `dagster dev` uses from the repository root, so CLI runs appear in its history."""
    from dagster import DagsterInstance
    from dagster._core.instance.ref import InstanceRef

    home = Settings.from_env().dagster_home
    if home:
        # A DAGSTER_HOME that does not exist yet is made, as `dagster dev` would need it anyway, with a
        # dagster.yaml so Dagster does not print its first-run banner into the run's output.
        if not home.exists():
            home.mkdir(parents=True)
            (home / "dagster.yaml").write_text("# Made by fingrowth for a new DAGSTER_HOME.\ntelemetry:\n  enabled: false\n")
        with DagsterInstance.get() as instance:
            yield instance
        return
    config_dir = Path.cwd()
    if not (config_dir / "dagster.yaml").exists():
        print("note: no dagster.yaml here and DAGSTER_HOME unset: this run is not kept for the Dagster UI",
              file=sys.stderr)
        with DagsterInstance.ephemeral() as instance:
            yield instance
        return
    home = config_dir / ".dagster"
    home.mkdir(exist_ok=True)
    with DagsterInstance.from_ref(InstanceRef.from_dir(str(home), config_dir=str(config_dir))) as instance:
        yield instance

"""A Dagster logger for the command line: one line per finished step, warnings and failures."""

import logging
import sys
import time

import dagster as dg

_STARTS: dict[str, float] = {}
SKIPPED_PREFIX = "Dependencies for step "


class _StepProgressHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", None) or {}
        event = meta.get("dagster_event")
        step = meta.get("step_key") or ""
        if event is None:
            message = meta.get("orig_message", record.getMessage())
            # A failed step's dependants each say they were not run: the cause is printed once, by itself.
            if record.levelno >= logging.WARNING and not message.startswith(SKIPPED_PREFIX):
                self._write(f"  ! {step}: {message}")
            return
        kind = event.event_type_value
        if kind == "STEP_START":
            _STARTS[step] = time.perf_counter()
        elif kind == "STEP_SUCCESS":
            seconds = time.perf_counter() - _STARTS.pop(step, time.perf_counter())
            self._write(f"  done  {step:<48} {seconds:6.1f}s")
        elif kind == "STEP_FAILURE":
            self._write(f"  FAILED {step}: {failure_reason(event)}")
        elif kind == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            if not evaluation.passed:
                self._write(
                    f"  CHECK FAILED {evaluation.asset_key.to_user_string()}.{evaluation.check_name}: "
                    f"{evaluation.description or ''}"
                )

    def _write(self, line: str) -> None:
        # The stream is looked up at each line, so a caller that redirects stderr sees the progress.
        print(line, file=sys.stderr, flush=True)


def failure_reason(event: dg.DagsterEvent) -> str:
    """The readable reason of a step failure: a Failure's description, else the innermost error."""
    data = event.step_failure_data
    if data.user_failure_data and data.user_failure_data.description:
        return data.user_failure_data.description
    error = data.error
    while error is not None and error.cause is not None:
        error = error.cause
    return error.message.strip() if error else "failed"


@dg.logger(description="One line per finished step, with warnings and failures (used by the fingrowth CLI).")
def step_progress_logger(init_context: dg.InitLoggerContext) -> logging.Logger:
    logger = logging.getLogger("fingrowth.progress")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    if not logger.handlers:
        logger.addHandler(_StepProgressHandler())
    return logger

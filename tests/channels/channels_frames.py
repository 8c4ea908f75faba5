"""Hand-made frames shared by the channel tests (a plain module, not a conftest)."""

from datetime import UTC, datetime

import polars as pl

TS = pl.Datetime("us", "UTC")


def at(day: int, hour: int = 0, month: int = 3) -> datetime:
    """A UTC instant in 2024 (March by default)."""
    return datetime(2024, month, day, hour, tzinfo=UTC)


def touchpoints(rows: list[tuple[str, str | None, datetime, str, str]]) -> pl.DataFrame:
    """Touchpoints from (touchpoint_id, user_id, occurred_at, channel, touch_type) tuples."""
    return pl.DataFrame(
        rows,
        schema={
            "touchpoint_id": pl.String,
            "user_id": pl.String,
            "occurred_at": TS,
            "channel": pl.String,
            "touch_type": pl.String,
        },
        orient="row",
    )


def conversions(rows: list[tuple[str, datetime, float | None]]) -> pl.DataFrame:
    """Conversions from (user_id, converted_at, conversion_value) tuples."""
    return pl.DataFrame(
        rows,
        schema={"user_id": pl.String, "converted_at": TS, "conversion_value": pl.Float64},
        orient="row",
    )


def scenario_touchpoints() -> pl.DataFrame:
    """Four converting users (u1, u2, u3 direct, u5) and one non-converter (u4).

    Expected journeys (lookback 30 days):
      u1 (value 100): search, social, email
      u2 (value 50):  social
      u3 (value 30):  (direct)
      u5 (value 20):  email, email
    """
    return touchpoints(
        [
            ("t01", "u1", at(29, 23, month=2), "display", "impression"),  # 30 days + 1 hour before
            ("t02", "u1", at(1), "search", "click"),  # exactly 30 days before: inside
            ("t03", "u1", at(10), "social", "impression"),
            ("t04", "u1", at(20), "email", "click"),
            ("t05", "u1", at(31), "display", "click"),  # at the conversion instant: outside
            ("t06", "u1", at(2, month=4), "search", "click"),  # after the conversion
            ("t07", "u2", at(14), "social", "click"),
            ("t08", "u3", at(20), "search", "click"),  # after u3 converted
            ("t09", "u4", at(5), "display", "click"),  # u4 never converts
            ("t10", "u5", at(5), "email", "click"),
            ("t11", "u5", at(6), "email", "click"),
            ("t12", None, at(6), "display", "click"),  # unresolved anonymous touch
        ]
    )


def scenario_conversions() -> pl.DataFrame:
    """Conversions matching :func:`scenario_touchpoints`; total value 200."""
    return conversions(
        [
            ("u1", at(31), 100.0),
            ("u2", at(15), 50.0),
            ("u3", at(10), 30.0),
            ("u5", at(7), 20.0),
        ]
    )

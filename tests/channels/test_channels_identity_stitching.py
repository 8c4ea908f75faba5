from datetime import UTC, datetime

import polars as pl

from channels import resolve_touchpoints, stitch_identities

TS = pl.Datetime("us", "UTC")


def _events() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "event_id": ["e1", "e2", "e3", "e4", "e5", "e6"],
            "occurred_at": [
                datetime(2024, 1, 3, tzinfo=UTC),
                datetime(2024, 1, 2, tzinfo=UTC),  # earliest link for a1 -> u9
                datetime(2024, 1, 1, tzinfo=UTC),  # a1 without a user: ignored
                datetime(2024, 1, 5, tzinfo=UTC),
                datetime(2024, 1, 5, tzinfo=UTC),  # same instant: smallest user id wins
                datetime(2024, 1, 1, tzinfo=UTC),  # user without anonymous id: ignored
            ],
            "user_id": ["u1", "u9", None, "u7", "u3", "u5"],
            "anonymous_id": ["a1", "a1", "a1", "a2", "a2", None],
        },
        schema_overrides={"occurred_at": TS},
    )


def test_stitch_keeps_the_earliest_user_per_anonymous_id() -> None:
    identity = stitch_identities(_events())
    assert identity.columns == ["anonymous_id", "user_id", "linked_at"]
    assert identity.select("anonymous_id", "user_id").rows() == [("a1", "u9"), ("a2", "u3")]
    assert identity["linked_at"].to_list() == [
        datetime(2024, 1, 2, tzinfo=UTC),
        datetime(2024, 1, 5, tzinfo=UTC),
    ]


def test_stitch_does_not_depend_on_row_order() -> None:
    events = _events()
    forward = stitch_identities(events)
    backward = stitch_identities(events.reverse())
    assert forward.equals(backward)


def test_resolve_fills_only_missing_user_ids() -> None:
    touchpoints = pl.DataFrame(
        {
            "touchpoint_id": ["t1", "t2", "t3", "t4", "t5"],
            "user_id": [None, "u1", None, None, None],
            "anonymous_id": ["a1", "a2", "a2", "zz", None],
            "channel": ["search", "social", "email", "display", "search"],
        }
    )
    identity = stitch_identities(_events())
    resolved = resolve_touchpoints(touchpoints, identity)
    assert resolved.columns == touchpoints.columns
    assert resolved["touchpoint_id"].to_list() == ["t1", "t2", "t3", "t4", "t5"]
    # t2 keeps its own user; unknown or missing anonymous ids stay unresolved.
    assert resolved["user_id"].to_list() == ["u9", "u1", "u3", None, None]

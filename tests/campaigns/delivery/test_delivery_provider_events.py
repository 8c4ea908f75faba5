"""Provider events: one malformed event is quarantined with its reason, the rest of the delivery is stored."""

from __future__ import annotations

import time

from campaigns.delivery.provider_events import record_events
from tests.campaigns.conftest import store_rows


def _unsubscribe(user_id: str, event_id: str, **overrides) -> dict:
    return {"email": f"{user_id}@example.test", "timestamp": int(time.time()), "event": "unsubscribe",
            "sg_event_id": event_id, "sg_message_id": f"msg-{user_id}.filter0.0", "campaign_id": "first",
            "member_ref": user_id, **overrides}


def test_a_malformed_event_is_quarantined_and_the_rest_of_the_batch_is_stored(op_store) -> None:
    events = [
        _unsubscribe("u01", "ev-1", timestamp=10**15),
        _unsubscribe("u02", "ev-2", sg_event_id=["a", "list"]),
        "not an event",
        _unsubscribe("u03", "ev-3"),
    ]
    result = record_events(op_store, events)
    assert result.status == 200 and result.new_events == 1 and result.suppressed == 1 and result.quarantined == 3
    assert store_rows(op_store, "SELECT user_id, reason FROM suppressions") == [("u03", "unsubscribe")]
    quarantined = store_rows(op_store, "SELECT position, reason, event FROM event_quarantine ORDER BY position")
    assert quarantined == [(0, "timestamp out of range", "unsubscribe"), (1, "sg_event_id is not a string", "unsubscribe"),
                           (2, "event is not an object", None)]
    stored = " ".join(str(r) for table in ("event_quarantine", "webhook_events")
                      for r in store_rows(op_store, f"SELECT * FROM {table}"))
    assert "example.test" not in stored
    # SendGrid retries the same delivery: nothing is stored or quarantined twice.
    again = record_events(op_store, events)
    assert again.new_events == 0 and again.duplicates == 1 and again.quarantined == 0
    assert store_rows(op_store, "SELECT count(*) FROM event_quarantine") == [(3,)]


def test_an_event_without_member_ref_waits_for_the_warehouse(op_store) -> None:
    """When the address cannot be resolved now, the good events are kept and the answer asks for a retry."""
    events = [_unsubscribe("u04", "ev-4"), {**_unsubscribe("u05", "ev-5"), "member_ref": None}]
    busy = record_events(op_store, events, lookup=lambda addresses: None)
    assert busy.status == 503 and busy.new_events == 1
    retried = record_events(op_store, events, lookup=lambda addresses: {"u05@example.test": "u05"})
    assert retried.status == 200 and retried.new_events == 1 and retried.duplicates == 1
    assert sorted(store_rows(op_store, "SELECT user_id FROM suppressions")) == [("u04",), ("u05",)]

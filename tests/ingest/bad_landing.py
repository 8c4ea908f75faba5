"""A landing folder with good rows and bad rows of every kind, each with the reason it must get."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import polars as pl


@dataclass(frozen=True)
class ExpectedRejection:
    source: str
    source_file: str
    line: int
    reason: str  # a substring of the quarantine reason
    kind: str = "row"  # row: the row is rejected; value: the value is stored as null, the row staged


ROW, VALUE = "row", "value"


USERS_CSV = [
    "user_id,signup_at,birth_date,gender,city_tier,is_student,risk_level,email,phone,kyc_status,extra_note",
    "u1,2026-01-01 09:00:00,1990-05-01,female,1,false,C3,u1@example.com,13800000001,passed,keep me",  # 2 good
    "u2,2026-01-02T10:00:00+08:00,1985-01-01,male,2,false,C4,u2@example.com,13800000002,passed,",  # 3 good
    "u3,2026-01-03,,unknown,3,true,,u3@example.com,,none,",  # 4 good (unknown birth date)
    ",2026-01-04,1990-01-01,female,1,false,C2,,,none,",  # 5 missing user_id
    "u5,2026-13-45,1990-01-01,female,1,false,C2,,,none,",  # 6 bad timestamp
    "u6,yesterday,1990-01-01,female,1,false,C2,,,none,",  # 7 not a timestamp
    "u7,2026-01-05,1990-02-30,female,1,false,C2,,,none,",  # 8 impossible date
    "u8,2026-01-05,1990-01-01,robot,1,false,C2,,,none,",  # 9 gender not allowed
    "u9,2026-01-05,1990-01-01,female,9,false,C2,,,none,",  # 10 city tier above max
    "u10,2026-01-05,1990-01-01,female,x,false,C2,,,none,",  # 11 city tier not an integer
    "u11,2026-01-05,1990-01-01,female,1,maybe,C2,,,none,",  # 12 bool
    "u12,2026-01-05,1990-01-01,female,1,false,C9,,,none,",  # 13 risk level
    "u1,2026-01-01 09:00:00,1990-05-01,female,1,false,C3,u1@example.com,13800000001,passed,keep me",  # 14 exact dup
    "u2,2026-02-02,1985-01-01,male,2,false,C4,u2@example.com,13800000002,passed,",  # 15 dup key
    # 16 ragged row (DuckDB's reader takes empty fields after the last column as padding; these are not empty)
    "u13,2026-01-05,1990-01-01,female,1,false,C2,,,none,,x,y",
    "u14,2026-01-05,1990-01-01,female,1,false,C2,,,weird,",  # 17 kyc status
]
USERS_EXPECTED = [
    (5, "user_id: required value is missing", ROW),
    (6, 'signup_at: "2026-13-45" is not an ISO 8601 timestamp', ROW),
    (7, 'signup_at: "yesterday" is not an ISO 8601 timestamp', ROW),
    (8, 'birth_date: *** is not an ISO 8601 date', VALUE),  # a contact detail is never shown
    (9, 'gender: "robot" is not one of', VALUE),
    (10, 'city_tier: "9" is above the maximum 5', VALUE),
    (11, 'city_tier: "x" is not an integer', VALUE),
    (12, 'is_student: "maybe" is not true or false', VALUE),
    (13, 'risk_level: "C9" is not one of C1, C2, C3, C4, C5', VALUE),
    (14, "duplicate: exact copy of users.csv line 2", ROW),
    (15, "duplicate key (user_id) = u2 already staged from users.csv line 3", ROW),
    (16, "expected 11 fields, found 13", ROW),
    (17, 'kyc_status: "weird" is not one of', VALUE),
]

PRODUCTS_CSV = [
    "product_id,product_line,risk_grade,apr_min,apr_max,issuer",
    "p1,credit,R3,0.072,0.18,示例消费金融",  # 2 good
    "p2,wealth,R2,,,示例理财",  # 3 good
    "p3,crypto,R5,,,x",  # 4 product line
    "p4,wealth,R9,,,x",  # 5 risk grade
    "p5,credit,R3,abc,0.2,x",  # 6 apr not a number
]
PRODUCTS_EXPECTED = [
    (4, 'product_line: "crypto" is not one of', ROW),
    (5, 'risk_grade: "R9" is not one of', VALUE),
    (6, 'apr_min: "abc" is not a number', VALUE),
]

TRANSACTION_ROWS = [
    # txn_id, user_id, occurred_at, amount, product_line, product_id, revenue, currency, status
    ("t1", "u1", "2026-01-10T10:00:00+08:00", "100.50", "credit", "p1", "3.20", "CNY", "completed"),  # 1 good
    ("t2", "u2", "2026-01-11 12:00:00", "2000.00", "wealth", "p2", "10.00", "CNY", "completed"),  # 2 good
    ("t3", "u999", "2026-01-11", "10.00", "payment", None, "0.10", "CNY", "completed"),  # 3 unknown user
    ("t4", "u1", "2026-01-11", "10.00", "credit", "p404", "0.10", "CNY", "completed"),  # 4 unknown product
    ("t5", "u1", "2026-01-11", "12.345", "payment", None, "0.10", "CNY", "completed"),  # 5 three decimals
    ("t6", "u1", "2026-01-11", "abc", "payment", None, "0.10", "CNY", "completed"),  # 6 not money
    ("t7", "u1", "2026-01-11", "-5.00", "payment", None, "0.10", "CNY", "completed"),  # 7 negative
    ("t8", "u1", None, "5.00", "payment", None, "0.10", "CNY", "completed"),  # 8 missing time
    ("t9", "u1", "2026-01-11", "5.00", "payment", None, "0.10", "CNY", "pending?"),  # 9 status
    ("t1", "u1", "2026-01-10T10:00:00+08:00", "100.50", "credit", "p1", "3.20", "CNY", "completed"),  # 10 dup
    ("t10", "u1", "2026-01-11", "5.00", "payment", None, "1,000.00", "CNY", "completed"),  # 11 revenue format
]
TRANSACTIONS_FILE = "transactions/date=2026-01-10/part-0.parquet"
TRANSACTIONS_EXPECTED = [
    (3, 'user_id: "u999" is not a known users.user_id', ROW),
    (4, 'product_id: "p404" is not a known products.product_id', VALUE),
    (5, 'amount: "12.345" is not an amount with at most two decimals', ROW),
    (6, 'amount: "abc" is not an amount with at most two decimals', ROW),
    (7, 'amount: "-5.00" is below the minimum 0', ROW),
    (8, "occurred_at: required value is missing", ROW),
    (9, 'status: "pending?" is not one of completed, failed, refunded', ROW),
    (10, "duplicate: exact copy of transactions/date=2026-01-10/part-0.parquet line 1", ROW),
    (11, 'revenue: "1,000.00" is not an amount with at most two decimals', ROW),
]

EVENTS_LINES = [
    {"event_id": "e1", "occurred_at": "2026-01-10T01:00:00Z", "event_name": "app_open", "user_id": "u1", "platform": "ios"},
    {"event_id": "e2", "occurred_at": "2026-01-10T02:00:00Z", "event_name": "page_view", "anonymous_id": "d1", "platform": "web"},
    "this is not json",
    [1, 2, 3],
    {"event_id": "e3", "occurred_at": "2026-01-10T02:00:00Z", "event_name": "page_view", "platform": "web"},
    {"event_id": "e4", "occurred_at": "2026-01-10T02:00:00Z", "event_name": "x", "user_id": "u1", "properties": "{bad"},
    {"event_id": "e5", "occurred_at": "2026-01-10T02:00:00Z", "event_name": "x", "user_id": "u1", "platform": "fax"},
    {"event_id": "e1", "occurred_at": "2026-01-10T01:00:00Z", "event_name": "app_open", "user_id": "u1", "platform": "ios"},
    {"event_id": "e6", "occurred_at": "2026-01-10T02:00:00Z", "event_name": "x", "user_id": "ghost"},
]
EVENTS_FILE = "events/date=2026-01-10/events.jsonl"
EVENTS_EXPECTED = [
    (3, "line is not valid JSON", ROW),
    (4, "line is not a JSON object", ROW),
    (5, "user_id or anonymous_id: at least one is required", ROW),
    (6, "properties: not valid JSON", VALUE),
    (7, 'platform: "fax" is not one of', VALUE),
    (8, "duplicate: exact copy of events/date=2026-01-10/events.jsonl line 1", ROW),
    (9, 'user_id: "ghost" is not a known users.user_id', ROW),
]

SPEND_CSV = [
    "date,channel,spend,campaign,impressions,clicks",
    "2026-01-10,search_ads,100.00,c1,1000,50",  # 2 good
    "2026-01-10,search_ads,-1.00,c2,1000,50",  # 3 negative
    "2026-01-32,search_ads,1.00,c3,1000,50",  # 4 bad date
    "2026-01-10,search_ads,5.00,c1,10,1",  # 5 dup key
    "2026-01-10,social_feed,5.00,c1,-3,1",  # 6 negative impressions
]
SPEND_EXPECTED = [
    (3, 'spend: "-1.00" is below the minimum 0', ROW),
    (4, 'date: "2026-01-32" is not an ISO 8601 date', ROW),
    (5, "duplicate key (date, channel, campaign)", ROW),
    (6, 'impressions: "-3" is below the minimum 0', VALUE),
]

CONSENT_LINES = [
    {"user_id": "u1", "channel": "email", "purpose": "marketing", "status": "granted", "recorded_at": "2026-01-01T00:00:00Z", "evidence_ref": "form-1"},
    {"user_id": "u1", "channel": "fax", "purpose": "marketing", "status": "granted", "recorded_at": "2026-01-01T00:00:00Z"},
    {"user_id": "u1", "channel": "email", "purpose": "marketing", "status": "maybe", "recorded_at": "2026-01-02T00:00:00Z"},
    {"user_id": "nobody", "channel": "email", "purpose": "marketing", "status": "granted", "recorded_at": "2026-01-01T00:00:00Z"},
]
CONSENTS_EXPECTED = [
    (2, 'channel: "fax" is not one of email, sms, push', ROW),
    (3, 'status: "maybe" is not one of granted, withdrawn', ROW),
    (4, 'user_id: "nobody" is not a known users.user_id', ROW),
]

TOUCH_ROWS = [
    ("2026-01-09T10:00:00+08:00", "search_ads", "u1", None, "c1", "click", "1.20"),  # 1 good
    ("2026-01-09T10:00:00+08:00", "search_ads", None, None, "c1", "click", "1.20"),  # 2 no ids
    ("2026-01-09T11:00:00+08:00", "search_ads", "u1", None, "c1", "hover", "1.20"),  # 3 touch type
    ("2026-01-09T12:00:00+08:00", "search_ads", "u1", None, "c1", "click", "1.999"),  # 4 cost
    ("2026-01-09T10:00:00+08:00", "search_ads", "u1", None, "c1", "click", "1.20"),  # 5 exact dup
]
TOUCH_EXPECTED = [
    (2, "user_id or anonymous_id: at least one is required", ROW),
    (3, 'touch_type: "hover" is not one of impression, click', VALUE),
    (4, 'cost: "1.999" is not an amount with at most two decimals', ROW),
    (5, "duplicate: exact copy of touchpoints.parquet line 1", ROW),
]

LOAN_CSV = [
    "loan_id,user_id,as_of,principal,days_past_due,charged_off_amount",
    "l1,u1,2026-01-31,1000.00,0,0",  # 2 good
    "l2,u1,2026-01-31,1000.00,-1,0",  # 3 dpd
    "l3,u1,2026-01-31,x,0,0",  # 4 principal
]
LOAN_EXPECTED = [
    (3, 'days_past_due: "-1" is below the minimum 0', ROW),
    (4, 'principal: "x" is not an amount with at most two decimals', ROW),
]


def write_bad_landing(folder: Path) -> list[ExpectedRejection]:
    """Write every source in a different format, with bad rows and bad values, and return what quarantine
    must hold."""
    folder.mkdir(parents=True, exist_ok=True)
    users = "\n".join(USERS_CSV).encode("utf-8")
    # A BOM is tolerated (bytes that are not UTF-8 stop the run: tests/ingest/test_ingest_landing_files.py).
    users = b"\xef\xbb\xbf" + users + b"\n"
    (folder / "users.csv").write_bytes(users)
    (folder / "products.csv").write_text("\n".join(PRODUCTS_CSV) + "\n", encoding="utf-8")
    columns = ["txn_id", "user_id", "occurred_at", "amount", "product_line", "product_id", "revenue", "currency", "status"]
    path = folder / TRANSACTIONS_FILE
    path.parent.mkdir(parents=True)
    pl.DataFrame([dict(zip(columns, row)) for row in TRANSACTION_ROWS], schema={c: pl.Utf8 for c in columns}).write_parquet(path)
    path = folder / EVENTS_FILE
    path.parent.mkdir(parents=True)
    path.write_text("\n".join(json.dumps(e) if not isinstance(e, str) else e for e in EVENTS_LINES) + "\n")
    (folder / "marketing_spend.csv").write_text("\n".join(SPEND_CSV) + "\n")
    (folder / "consents.jsonl").write_text("\n".join(json.dumps(c) for c in CONSENT_LINES) + "\n")
    touch_columns = ["occurred_at", "channel", "user_id", "anonymous_id", "campaign", "touch_type", "cost"]
    pl.DataFrame([dict(zip(touch_columns, r)) for r in TOUCH_ROWS], schema={c: pl.Utf8 for c in touch_columns}).write_parquet(
        folder / "touchpoints.parquet")
    (folder / "loan_performance.csv").write_text("\n".join(LOAN_CSV) + "\n")
    (folder / "_notes").mkdir()
    (folder / "_notes" / "ignored.csv").write_text("not,a,source\n")

    expected = [ExpectedRejection("users", "users.csv", *finding) for finding in USERS_EXPECTED]
    expected += [ExpectedRejection("products", "products.csv", *finding) for finding in PRODUCTS_EXPECTED]
    expected += [ExpectedRejection("transactions", TRANSACTIONS_FILE, *finding) for finding in TRANSACTIONS_EXPECTED]
    expected += [ExpectedRejection("events", EVENTS_FILE, *finding) for finding in EVENTS_EXPECTED]
    expected += [ExpectedRejection("marketing_spend", "marketing_spend.csv", *finding) for finding in SPEND_EXPECTED]
    expected += [ExpectedRejection("consents", "consents.jsonl", *finding) for finding in CONSENTS_EXPECTED]
    expected += [ExpectedRejection("touchpoints", "touchpoints.parquet", *finding) for finding in TOUCH_EXPECTED]
    expected += [ExpectedRejection("loan_performance", "loan_performance.csv", *finding) for finding in LOAN_EXPECTED]
    return expected


# Rows staged: the good ones and those with a bad optional value (stored as null).
GOOD_ROWS = {
    "users": 10, "products": 4, "transactions": 3, "events": 4, "marketing_spend": 2, "consents": 1,
    "touchpoints": 2, "loan_performance": 1,
}

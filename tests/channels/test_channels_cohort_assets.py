"""The channel assets on a small hand-built warehouse: money stays exact from staged spend to the marts."""

from datetime import date
from decimal import Decimal

import dagster as dg
import pytest

from assets.channel_cohorts import channel_cohorts
from assets.channel_roi import channel_roi
from pipelines.resource_factory import build_resources
from pipelines.settings import Settings
from warehouse import connect

# 3 x 1,000 spend rows of a few cents each on three channels over three months.
SPEND_ROWS = [(date(2026, 1 + i % 3, 1 + i % 28), ("search", "social", "display")[i % 3], f"0.{(i * 7) % 100:02d}")
              for i in range(3_000)]
TABLES = """
CREATE SCHEMA staged; CREATE SCHEMA core; CREATE SCHEMA marts;
CREATE TABLE core.analysis_window AS
    SELECT DATE '2026-03-31' AS as_of, TIMESTAMPTZ '2026-03-31 16:00:00+00' AS window_end;
CREATE TABLE staged.users (user_id VARCHAR, kyc_status VARCHAR);
INSERT INTO staged.users VALUES ('u1', 'passed'), ('u2', 'failed'), ('u3', NULL), ('u4', 'passed');
CREATE TABLE staged.events (user_id VARCHAR, anonymous_id VARCHAR, occurred_at TIMESTAMPTZ);
CREATE TABLE staged.touchpoints (touchpoint_id VARCHAR, occurred_at TIMESTAMPTZ, channel VARCHAR, user_id VARCHAR,
                                 anonymous_id VARCHAR, campaign VARCHAR, touch_type VARCHAR, cost DECIMAL(18, 2));
INSERT INTO staged.touchpoints VALUES
    ('t1', '2026-01-03 02:00:00+00', 'search', 'u1', NULL, NULL, 'click', NULL),
    ('t2', '2026-01-05 02:00:00+00', 'social', 'u1', NULL, NULL, 'click', NULL),
    ('t3', '2026-02-02 02:00:00+00', 'social', 'u2', NULL, NULL, 'click', NULL),
    ('t4', '2026-03-01 02:00:00+00', 'search', 'u3', NULL, NULL, 'click', NULL);
CREATE TABLE core.purchases (txn_id VARCHAR, user_id VARCHAR, occurred_at TIMESTAMPTZ, txn_date DATE,
                             amount DECIMAL(18, 2), revenue DECIMAL(18, 2), product_line VARCHAR);
INSERT INTO core.purchases VALUES
    ('p1', 'u1', '2026-01-06 02:00:00+00', '2026-01-06', 100, 10.10, 'credit'),
    ('p2', 'u1', '2026-02-06 02:00:00+00', '2026-02-06', 100, 20.20, 'credit'),
    ('p3', 'u2', '2026-02-03 02:00:00+00', '2026-02-03', 100, 5.05, 'wealth'),
    ('p4', 'u3', '2026-03-02 02:00:00+00', '2026-03-02', 100, 1.01, 'payment'),
    ('p5', 'u4', '2026-03-05 02:00:00+00', '2026-03-05', 100, 2.02, 'payment');
CREATE TABLE marts.user_clv AS SELECT * FROM (VALUES ('u1', 50.0), ('u2', 10.0), ('u3', 5.0), ('u4', 1.0)) t(user_id, clv);
CREATE TABLE marts.user_value AS SELECT user_id, clv, clv - 1.0 AS risk_adjusted_clv FROM marts.user_clv;
CREATE TABLE marts.user_credit_loss AS SELECT 'u1' AS user_id, 1 AS open_loans, 100.0 AS outstanding,
    1.0 AS expected_credit_loss, 0.0 AS charged_off;
CREATE TABLE staged.marketing_spend (date DATE, channel VARCHAR, spend DECIMAL(18, 2), campaign VARCHAR);
"""


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    folder = tmp_path_factory.mktemp("channel_assets")
    path = folder / "w.duckdb"
    with connect(path) as conn:
        conn.execute(TABLES)
        conn.executemany("INSERT INTO staged.marketing_spend VALUES (?, ?, ?, 'c')", SPEND_ROWS)
    settings = Settings(landing=folder / "landing", warehouse=path, out=folder / "out")
    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize([channel_roi, channel_cohorts], resources=build_resources(settings),
                                instance=instance)
    assert result.success
    return path


def _one(path, sql):
    with connect(path, read_only=True) as conn:
        return conn.sql(sql).fetchall()


def test_daily_spend_is_decimal_and_sums_exactly_to_staged_spend(warehouse):
    assert _one(warehouse, "SELECT data_type FROM information_schema.columns WHERE table_schema = 'marts' "
                           "AND table_name = 'channel_daily_spend' AND column_name = 'spend'") == [("DECIMAL(18,2)",)]
    staged_total = sum(Decimal(amount) for *_, amount in SPEND_ROWS)
    assert _one(warehouse, "SELECT sum(spend) FROM marts.channel_daily_spend") == [(staged_total,)]
    assert _one(warehouse, "SELECT sum(spend) FROM staged.marketing_spend") == [(staged_total,)]
    per_channel = dict(_one(warehouse, "SELECT channel, sum(spend) FROM marts.channel_daily_spend GROUP BY ALL"))
    for channel in ("search", "social", "display"):
        assert per_channel[channel] == sum(Decimal(a) for _, c, a in SPEND_ROWS if c == channel)


def test_cohort_marts_reconcile_with_channel_roi_for_every_model(warehouse):
    mismatches = _one(warehouse, """
        SELECT r.attribution_model, r.channel
        FROM marts.channel_roi r
        FULL JOIN (SELECT attribution_model, channel, sum(spend) AS spend, sum(conversions) AS conversions
                   FROM marts.channel_cohort_roi GROUP BY ALL) k USING (attribution_model, channel)
        WHERE r.spend IS DISTINCT FROM k.spend OR abs(r.conversions - k.conversions) > 1e-9
    """)
    assert mismatches == []
    assert _one(warehouse, "SELECT count(DISTINCT attribution_model) FROM marts.channel_cohort_roi") == [(7,)]
    types = dict(_one(warehouse, "SELECT column_name, data_type FROM information_schema.columns "
                                 "WHERE table_schema = 'marts' AND table_name = 'channel_cohort_roi'"))
    assert {types[c] for c in ("spend", "revenue", "cac", "ltv", "revenue_to_date")} == {"DECIMAL(18,2)"}
    assert {types[c] for c in ("roas", "ltv_to_cac", "risk_adjusted_roi", "kyc_pass_rate")} == {"DOUBLE"}
    # u1 converts in January after search then social: last touch gives social the January cohort,
    # and u1's February purchase counts towards that cohort's revenue to date.
    assert _one(warehouse, "SELECT conversions, revenue, revenue_to_date, kyc_pass_rate FROM marts.channel_cohort_roi "
                           "WHERE attribution_model = 'last_touch' AND channel = 'social' AND cohort = '2026-01'") == [
        (1.0, Decimal("10.10"), Decimal("30.30"), 1.0)]
    assert _one(warehouse, "SELECT count(*) FROM marts.channel_conversion_credit") == [(5,)]  # u1 x 2, u2, u3, u4

"""`fingrowth sample-data` then `fingrowth run` (the session's sample run): every mart is built and the dashboards
render in Chromium."""

import pytest

from tests.dashboards.browser import check_page, headless_chromium
from tests.pipelines.cli_runner import query

MARTS = ["user_profile", "user_segment", "persona", "clv_model", "user_clv", "cohort_retention", "kpi_daily",
         "channel_roi", "user_value", "value_by_group", "credit_loss_model", "user_credit_loss", "metric_values"]


@pytest.mark.slow
def test_every_mart_is_built_and_rows_balance(sample_run):
    workdir, result = sample_run.workdir, sample_run.result
    warehouse = workdir / "w.duckdb"
    for mart in MARTS:
        assert query(warehouse, f"SELECT count(*) FROM marts.{mart}")[0][0] > 0, mart
    users = query(warehouse, "SELECT count(*) FROM staged.users")[0][0]
    for mart in ["user_profile", "user_segment", "user_clv"]:
        assert query(warehouse, f"SELECT count(*) FROM marts.{mart}")[0][0] == users, mart
    assert all(row[0] for row in query(warehouse, "SELECT balanced FROM quarantine.row_accounting"))
    quarantined = query(warehouse, "SELECT count(*), count(*) FILTER (WHERE reasons = '') FROM quarantine.rejected_rows")[0]
    assert quarantined[0] > 0 and quarantined[1] == 0  # 1% dirty rows by default, each with a reason
    for mart in MARTS[:8]:
        assert f"marts.{mart}" in result.stdout
    attribution = {row[0] for row in query(warehouse, "SELECT DISTINCT attribution_model FROM marts.channel_roi")}
    assert {"first_touch", "last_touch"} <= attribution


@pytest.mark.slow
def test_analytical_tables_hold_no_contact_details(sample_run):
    workdir = sample_run.workdir
    columns = query(workdir / "w.duckdb", "SELECT table_schema, table_name, column_name FROM information_schema.columns "
                                          "WHERE table_schema NOT IN ('private', 'raw')")
    leaked = [c for c in columns if c[2] in ("email", "phone", "birth_date")]
    assert leaked == []


@pytest.mark.slow
def test_campaign_dry_run_sends_nothing_and_decides_everyone(sample_run):
    workdir = sample_run.workdir
    warehouse = workdir / "w.duckdb"
    decisions = dict(query(warehouse, "SELECT decision, count(*) FROM campaigns.decisions GROUP BY 1"))
    assert decisions.get("send", 0) > 0 and decisions.get("excluded", 0) > 0
    messages = query(warehouse, "SELECT count(*) FROM campaigns.messages")[0][0]
    assert messages == decisions["send"]
    minors_sent = query(warehouse, "SELECT count(*) FROM campaigns.decisions d JOIN private.user_contacts c USING (user_id) "
                                   "WHERE d.decision = 'send' AND c.birth_date > DATE '2008-06-30'")[0][0]
    assert minors_sent == 0


@pytest.mark.slow
@pytest.mark.browser
def test_dashboards_render_in_headless_chromium(sample_run, tmp_path):
    workdir = sample_run.workdir
    dashboards = workdir / "out" / "dashboards"
    pages = sorted(dashboards.glob("*.html"))
    assert {p.name for p in pages} >= {"index.html", "executive.html"}
    with headless_chromium(tmp_path / "profile") as driver:
        for page in pages:
            check = check_page(driver, page)
            assert check.problems(expect_plots=page.name != "index.html") == [], page.name


@pytest.mark.slow
def test_value_is_netted_of_expected_credit_loss(sample_run):
    workdir = sample_run.workdir
    warehouse = workdir / "w.duckdb"
    pd_rates = [v for _, v in query(warehouse, "SELECT parameter, value FROM marts.credit_loss_model "
                                               "WHERE parameter LIKE 'pd_%' ORDER BY rowid")]
    assert pd_rates == sorted(pd_rates) and 0 <= pd_rates[0] < pd_rates[-1] <= 1
    totals = query(warehouse, "SELECT sum(clv), sum(expected_credit_loss), sum(risk_adjusted_clv) FROM marts.user_value")[0]
    assert totals[1] > 0 and abs(totals[0] - totals[1] - totals[2]) < 1e-6 * max(1.0, totals[0])
    by_channel = query(warehouse, "SELECT sum(users), sum(risk_adjusted_clv) FROM marts.value_by_group "
                                  "WHERE grouping = 'acquisition_channel'")[0]
    assert by_channel[0] == query(warehouse, "SELECT count(*) FROM marts.user_profile")[0][0]
    assert by_channel[1] == pytest.approx(totals[2])


@pytest.mark.slow
def test_lifecycle_history_and_both_cohort_bases(sample_run):
    workdir = sample_run.workdir
    warehouse = workdir / "w.duckdb"
    at_as_of = dict(query(warehouse, "SELECT lifecycle_stage, users FROM marts.lifecycle_counts "
                                     "WHERE snapshot_date = (SELECT as_of FROM core.analysis_window)"))
    profile = dict(query(warehouse, "SELECT lifecycle_stage, count(*) FROM marts.user_profile GROUP BY 1"))
    assert at_as_of == profile  # the history's last snapshot is today's profile
    assert query(warehouse, "SELECT count(DISTINCT snapshot_date) FROM marts.lifecycle_counts")[0][0] >= 6
    bases = dict(query(warehouse, "SELECT cohort_basis, sum(users) FILTER (WHERE period = 0) "
                                  "FROM marts.cohort_retention GROUP BY 1"))
    purchasers = query(warehouse, "SELECT count(DISTINCT user_id) FROM core.purchases")[0][0]
    assert bases["first_transaction"] == purchasers
    assert bases["signup"] == query(warehouse, "SELECT count(*) FROM marts.user_profile")[0][0]
    first_month = query(warehouse, "SELECT min(revenue_retention), max(revenue_retention) FROM marts.cohort_retention "
                                   "WHERE period = 0 AND cohort_basis = 'first_transaction'")[0]
    assert first_month == (1.0, 1.0)


@pytest.mark.slow
def test_channel_quality_covers_every_acquired_user(sample_run):
    workdir = sample_run.workdir
    warehouse = workdir / "w.duckdb"
    totals = query(warehouse, "SELECT sum(users), count(*) FILTER (WHERE kyc_pass_rate BETWEEN 0 AND 1), count(*) "
                              "FROM marts.channel_quality WHERE cohort = 'all'")[0]
    assert totals[0] == query(warehouse, "SELECT count(*) FROM marts.user_profile")[0][0]
    assert totals[1] == totals[2]
    by_cohort = query(warehouse, "SELECT sum(users) FROM marts.channel_quality WHERE cohort <> 'all'")[0][0]
    assert by_cohort == totals[0]
    paid_spend = query(warehouse, "SELECT count(*) FROM marts.channel_quality WHERE cohort = 'all' "
                                  "AND spend_per_signup > 0")[0][0]
    assert paid_spend > 0
    curve = query(warehouse, "SELECT acquisition_channel, month, users, cumulative_revenue_per_user "
                             "FROM marts.channel_payback ORDER BY acquisition_channel, month")
    for channel in {c for c, *_ in curve}:
        users = [u for c, _, u, _ in curve if c == channel]
        assert users == sorted(users, reverse=True)  # fewer users are old enough for later months
        cumulative = [r for c, _, _, r in curve if c == channel]
        assert cumulative == sorted(cumulative)  # each month adds what the users old enough brought: never falls


@pytest.mark.slow
def test_profiles_carry_behaviour_and_funnel_stages(sample_run):
    workdir = sample_run.workdir
    warehouse = workdir / "w.duckdb"
    stages = dict(query(warehouse, "SELECT credit_funnel_stage, count(*) FROM marts.user_profile GROUP BY 1"))
    assert set(stages) <= {"registered", "kyc_passed", "applied", "approved", "drawn", "repaying"}
    assert stages.get("repaying", 0) > 0 and stages.get("registered", 0) > 0
    inconsistent = query(warehouse, "SELECT count(*) FROM marts.user_profile WHERE credit_txn_count > 0 "
                                    "AND credit_funnel_stage NOT IN ('drawn', 'repaying')")[0][0]
    assert inconsistent == 0
    wealth = query(warehouse, "SELECT count(*) FROM marts.user_profile WHERE (wealth_txn_count >= 2) <> "
                              "(wealth_funnel_stage = 'repeat_purchase')")[0][0]
    assert wealth == 0
    activity = query(warehouse, "SELECT count(*) FILTER (WHERE active_days > 0 AND sessions = 0), "
                                "count(*) FILTER (WHERE active_days_7d > active_days_30d OR active_days_30d > active_days) "
                                "FROM marts.user_profile")[0]
    assert activity == (0, 0)

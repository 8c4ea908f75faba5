"""fingrowth's core marts the way a data scientist would compute them in a notebook: pandas, scikit-learn, lifetimes.

Plain script, the baseline of ``bench/csv_scale.py``; never a test, and it imports nothing of fingrowth::

    python bench/pandas_baseline.py LANDING OUT [--as-of YYYY-MM-DD]

It reads every file of a landing folder in the input contract written as text (``NAME.csv``, ``NAME.jsonl``
or a folder ``NAME/`` of them, Hive ``date=`` folders included) with pyarrow's CSV and JSON readers (every
column as text, then ``pd.to_datetime`` / ``pd.to_numeric`` with ``errors="coerce"``), and writes to
``OUT/*.parquet``, with the business zone Asia/Shanghai for local days and the as-of date (default: the local
date of the latest transaction or event; history after it is ignored):

- ``user_profile``: one row per user signed up by the as-of date: transactions, repeat purchase days
  (frequency), first/last purchase, recency, tenure and first-purchase age in days, gap between the last two
  purchase days, average and total amount, total revenue, transactions and amount per product line
  (credit, wealth, payment) and holdings; from the events: active days (all, last 7/30/90 days), events,
  product views, events per active day, sessions (a gap over 30 minutes starts a new one), main event
  channel, number of marketing channels; credit and wealth funnel stages; age; lifecycle stage (new,
  active, at risk, dormant, churned, reactivated, never transacted);
- ``user_segment``: RFM quintile scores among purchasers (recency, transactions, total amount), the
  R × FM segment grid, and a k-means persona; ``persona`` (size, feature means, what sets each apart) and
  ``persona_k_evidence`` (silhouette per k): k-means on standardised behaviour features (rates, mixes,
  ticket sizes, age, idleness, activity; log1p on skewed ones, median imputation), k chosen among 3..8 by
  the silhouette of fits on a 20,000-user sample (scored on 5,000 of them), the chosen k then fitted on
  every user;
- ``clv_model`` and ``user_clv``: lifetimes' BG/NBD and Gamma-Gamma fitted on weekly RFM summaries of
  purchase days (revenue per purchase day), P(alive), expected transactions and CLV over 365 days (when
  Gamma-Gamma's q is at most 1, its mean is undefined and each user's mean spend shrunk towards the
  population mean is used instead);
- ``cohort_retention``: monthly cohorts (by sign-up and by first purchase) × months since: users,
  retained, retention rate, revenue, revenue retention;
- ``kpi_daily``: per local day from the first sign-up or purchase to the as-of date: new, active and
  transacting users, transactions, amount, revenue, marketing spend.

Touchpoints, consents, loan snapshots and products are read and typed as well (a notebook loads its
sources) but feed none of these marts. What it does NOT do, unlike fingrowth: no quarantine or row
accounting (a value that does not parse becomes NaN/NaT and its row is dropped when the value is needed;
negative amounts are dropped; unknown users fall out of the joins), no Great Expectations or key checks, no
dedup beyond ``drop_duplicates`` on the keys (first row kept), money in floats rather than exact decimals, no
warehouse (Parquet files only), no anonymous-to-user identity stitching, no persona stability resampling or
identity across runs, no Pareto/NBD or MBG/NBD model selection and no holdout check, no attribution,
channel ROI, credit loss, campaigns or dashboards. It prints ``done <stage> <seconds>s`` per stage on
stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.json as pa_json

TZ = "Asia/Shanghai"
DAY_NS = 86_400 * 10**9
SESSION_GAP_NS = 30 * 60 * 10**9
HORIZON_DAYS = 365
COLUMNS = {
    "users": ["user_id", "signup_at", "birth_date", "gender", "province", "city", "city_tier", "occupation",
              "income_band", "is_student", "kyc_status", "risk_level", "risk_assessed_at", "acquisition_channel",
              "email", "phone", "country", "timezone", "language"],
    "transactions": ["txn_id", "user_id", "occurred_at", "amount", "product_line", "product_id", "revenue",
                     "currency", "status"],
    "events": ["event_id", "occurred_at", "event_name", "user_id", "anonymous_id", "platform", "channel",
               "properties"],
    "touchpoints": ["occurred_at", "channel", "user_id", "anonymous_id", "campaign", "touch_type", "cost"],
    "marketing_spend": ["date", "channel", "spend", "campaign", "impressions", "clicks", "currency"],
    "consents": ["user_id", "channel", "purpose", "status", "recorded_at", "source", "evidence_ref"],
    "products": ["product_id", "product_line", "risk_grade", "apr_min", "apr_max", "issuer"],
    "loan_performance": ["loan_id", "user_id", "as_of", "principal", "days_past_due", "charged_off_amount"],
}
FUNNEL_EVENTS = {"kyc_passed": "kyc_passed", "loan_apply": "applied", "loan_approved": "approved",
                 "loan_drawn": "drawn", "repayment": "repaying", "risk_assessment": "risk_assessed"}
LINES = ("credit", "wealth", "payment")
# R score x combined FM score -> segment (the usual published grid, written as a partition).
RFM_GRID = {
    5: ["New customers", "Potential loyalist", "Potential loyalist", "Champions", "Champions"],
    4: ["Promising", "Potential loyalist", "Potential loyalist", "Champions", "Champions"],
    3: ["About to sleep", "About to sleep", "Need attention", "Loyal", "Loyal"],
    2: ["Hibernating", "Hibernating", "At risk", "At risk", "At risk"],
    1: ["Lost", "Lost", "At risk", "Cannot lose them", "Cannot lose them"],
}
PERSONA_FEATURES = ["txn_per_day", "credit_share", "wealth_share", "payment_share", "monetary_avg",
                    "credit_ticket", "age", "idle_share", "active_day_share", "events_per_active_day"]
SKEWED = {"txn_per_day", "monetary_avg", "credit_ticket", "events_per_active_day"}


class Stages:
    """Prints how long each stage took, in the progress format the benchmark parses."""

    def __init__(self) -> None:
        self.started = self.last = time.perf_counter()

    def done(self, stage: str) -> None:
        now = time.perf_counter()
        print(f"  done  {stage:<48} {now - self.last:6.1f}s", file=sys.stderr, flush=True)
        self.last = now


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("landing", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--as-of", default=None, help="analysis date YYYY-MM-DD (default: latest in data)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    stages = Stages()

    users = load_users(args.landing)
    stages.done("read_users")
    txns = load_transactions(args.landing)
    stages.done("read_transactions")
    events = load_events(args.landing)
    stages.done("read_events")
    spend = load_other_sources(args.landing)
    stages.done("read_touchpoints_spend_consents_loans_products")

    as_of = pd.Timestamp(args.as_of) if args.as_of else max(txns["ts"].max(), events["ts"].max()).tz_convert(
        TZ).tz_localize(None).normalize()
    as_of_day = int(as_of.value // DAY_NS)
    window_end = (as_of + pd.Timedelta(days=1)).tz_localize(TZ)

    # One integer per user (row of `users`), used by every join and group-by.
    users = users[users["signup_at"] < window_end].reset_index(drop=True)
    user_index = pd.Index(users["user_id"])
    txns["uid"] = user_index.get_indexer(txns.pop("user_id"))
    completed = txns["status"].isna() | (txns["status"] == "completed")
    purchases = txns[completed & (txns["ts"] < window_end) & (txns["uid"] >= 0)].drop(columns="status")
    del txns
    purchases["day"] = local_day(purchases["ts"])
    events["uid"] = user_index.get_indexer(events.pop("user_id"))
    events = events[(events["ts"] < window_end) & (events["uid"] >= 0)]
    events["day"] = local_day(events["ts"])
    stages.done("as_of_window_and_user_keys")

    profile = user_profile(users, purchases, as_of_day)
    stages.done("user_profile_purchases")
    activity, user_days = event_activity(events, len(users), as_of_day)
    del events
    profile = finish_profile(profile, activity, users, as_of)
    stages.done("user_profile_activity")
    profile.to_parquet(args.out / "user_profile.parquet", index=False)

    segment = rfm_scores(profile)
    stages.done("rfm")
    personas, persona_table, k_evidence = kmeans_personas(profile)
    segment["persona_id"] = personas
    segment = segment.merge(persona_table[["persona_id", "persona_name"]], on="persona_id", how="left")
    segment.to_parquet(args.out / "user_segment.parquet", index=False)
    persona_table.to_parquet(args.out / "persona.parquet", index=False)
    k_evidence.to_parquet(args.out / "persona_k_evidence.parquet", index=False)
    stages.done("kmeans_personas")

    clv_model, user_clv = lifetime_value(purchases, users, as_of_day)
    clv_model.to_parquet(args.out / "clv_model.parquet", index=False)
    user_clv.to_parquet(args.out / "user_clv.parquet", index=False)
    stages.done("bgnbd_gamma_gamma_clv")

    cohorts = cohort_retention(users, purchases, profile, as_of)
    cohorts.to_parquet(args.out / "cohort_retention.parquet", index=False)
    stages.done("cohort_retention")

    kpis = kpi_daily(users, purchases, user_days, spend, as_of)
    kpis.to_parquet(args.out / "kpi_daily.parquet", index=False)
    stages.done("kpi_daily")
    print(f"pandas baseline: {len(profile):,} users, as of {as_of.date()}, {len(purchases):,} purchases, "
          f"{int(profile['event_count'].sum()):,} events, {len(persona_table)} personas, "
          f"{time.perf_counter() - stages.started:.1f}s; marts in {args.out}", file=sys.stderr)
    return 0


# --- reading ---------------------------------------------------------------------------------------


def source_files(landing: Path, name: str) -> list[Path]:
    """`NAME.csv` / `NAME.jsonl`, or every such file under the folder `NAME/`."""
    files = [landing / f"{name}.{ext}" for ext in ("csv", "jsonl") if (landing / f"{name}.{ext}").is_file()]
    folder = landing / name
    if folder.is_dir():
        files += sorted(p for p in folder.rglob("*") if p.suffix in (".csv", ".jsonl") and p.is_file()
                        and not any(part.startswith((".", "_")) for part in p.relative_to(folder).parts))
    if not files:
        raise SystemExit(f"no {name} files in {landing}")
    return files


def read_source(landing: Path, name: str, columns: list[str] | None = None) -> pd.DataFrame:
    """Every file of a source as text columns, concatenated (a column missing from a file is null)."""
    schema = pa.schema([(c, pa.string()) for c in COLUMNS[name]])
    tables = []
    for path in source_files(landing, name):
        if path.suffix == ".jsonl":
            table = pa_json.read_json(path, parse_options=pa_json.ParseOptions(explicit_schema=schema,
                                                                               unexpected_field_behavior="ignore"))
        else:
            table = pa_csv.read_csv(path, convert_options=pa_csv.ConvertOptions(
                column_types={c: pa.string() for c in COLUMNS[name]},
                include_columns=columns, include_missing_columns=True))
        tables.append(table.select(columns) if columns else table)
    table = pa.concat_tables(tables, promote_options="permissive")
    del tables
    return table.to_pandas(self_destruct=True, split_blocks=True)


def timestamps(text: pd.Series) -> pd.Series:
    """ISO 8601 text with an offset (as these exports have) to UTC; unparseable -> NaT."""
    return pd.to_datetime(text, format="ISO8601", utc=True, errors="coerce")


def local_day(ts: pd.Series) -> np.ndarray:
    """Local calendar day as days since 1970-01-01."""
    local = ts.dt.tz_convert(TZ).dt.tz_localize(None)
    return (local.to_numpy().astype("datetime64[D]").astype(np.int64)).astype(np.int32)


def load_users(landing: Path) -> pd.DataFrame:
    users = read_source(landing, "users")
    users = users.dropna(subset=["user_id"]).drop_duplicates("user_id")
    users["signup_at"] = timestamps(users["signup_at"])
    users["risk_assessed_at"] = timestamps(users["risk_assessed_at"])
    users["birth_year"] = pd.to_datetime(users["birth_date"], format="%Y-%m-%d", errors="coerce").dt.year
    users["city_tier"] = pd.to_numeric(users["city_tier"], errors="coerce")
    users["is_student"] = users["is_student"].str.lower().map({"true": True, "false": False})
    return users.dropna(subset=["signup_at"]).reset_index(drop=True)


def load_transactions(landing: Path) -> pd.DataFrame:
    txns = read_source(landing, "transactions", ["txn_id", "user_id", "occurred_at", "amount", "product_line",
                                                  "revenue", "status"])
    keep = txns["txn_id"].notna() & txns["user_id"].notna() & ~txns["txn_id"].duplicated()
    txns = txns.loc[keep, ["user_id", "occurred_at", "amount", "product_line", "revenue", "status"]]
    txns["ts"] = timestamps(txns.pop("occurred_at"))
    txns["amount"] = pd.to_numeric(txns["amount"], errors="coerce")
    txns["revenue"] = pd.to_numeric(txns["revenue"], errors="coerce").fillna(0.0)
    txns["product_line"] = txns["product_line"].fillna("other").astype("category")
    txns["status"] = txns["status"].astype("category")
    return txns[txns["ts"].notna() & (txns["amount"] >= 0)].reset_index(drop=True)


def load_events(landing: Path) -> pd.DataFrame:
    # Only what the marts use is kept; the rest (properties, platform, anonymous ids) is dropped file by file.
    events = read_source(landing, "events", ["event_id", "occurred_at", "event_name", "user_id", "channel"])
    events["event_name"] = events["event_name"].astype("category")
    events["channel"] = events["channel"].fillna("(none)").astype("category")
    keep = events["event_id"].notna() & events["user_id"].notna() & ~events["event_id"].duplicated()
    events = events.loc[keep, ["occurred_at", "event_name", "user_id", "channel"]]
    events["ts"] = timestamps(events.pop("occurred_at"))
    return events[events["ts"].notna()].reset_index(drop=True)


def load_other_sources(landing: Path) -> pd.DataFrame:
    """Touchpoints, consents, loan snapshots and products, typed; returns the marketing spend per day."""
    touchpoints = read_source(landing, "touchpoints").drop_duplicates()
    touchpoints["occurred_at"] = timestamps(touchpoints["occurred_at"])
    touchpoints["cost"] = pd.to_numeric(touchpoints["cost"], errors="coerce")
    consents = read_source(landing, "consents").drop_duplicates()
    consents["recorded_at"] = timestamps(consents["recorded_at"])
    loans = read_source(landing, "loan_performance").drop_duplicates(["loan_id", "as_of"])
    loans["as_of"] = pd.to_datetime(loans["as_of"], format="%Y-%m-%d", errors="coerce")
    for column in ("principal", "days_past_due", "charged_off_amount"):
        loans[column] = pd.to_numeric(loans[column], errors="coerce")
    products = read_source(landing, "products").drop_duplicates("product_id")
    products[["apr_min", "apr_max"]] = products[["apr_min", "apr_max"]].apply(pd.to_numeric, errors="coerce")
    spend = read_source(landing, "marketing_spend").drop_duplicates(["date", "channel", "campaign"])
    spend["date"] = pd.to_datetime(spend["date"], format="%Y-%m-%d", errors="coerce")
    spend["spend"] = pd.to_numeric(spend["spend"], errors="coerce")
    spend = spend.dropna(subset=["date", "spend"])
    return spend[spend["spend"] >= 0]


# --- user profile ----------------------------------------------------------------------------------


def user_profile(users: pd.DataFrame, purchases: pd.DataFrame, as_of_day: int) -> pd.DataFrame:
    """Purchase side of the profile: RFM inputs, totals, product lines (index = row of `users`)."""
    n = len(users)
    per_user = purchases.groupby("uid").agg(
        txn_count=("amount", "size"), first_txn_at=("ts", "min"), last_txn_at=("ts", "max"),
        first_day=("day", "min"), last_day=("day", "max"),
        total_amount=("amount", "sum"), total_revenue=("revenue", "sum"),
    ).reindex(range(n))
    days = purchases[["uid", "day"]].drop_duplicates().sort_values(["uid", "day"])
    purchase_days = days.groupby("uid").size().reindex(range(n), fill_value=0)
    previous_day = days.groupby("uid").nth(-2).set_index("uid")["day"].reindex(range(n))
    by_line = (purchases[purchases["product_line"].isin(LINES)]
               .groupby(["uid", "product_line"], observed=True)["amount"].agg(["size", "sum"])
               .unstack(fill_value=0).reindex(range(n), fill_value=0))

    profile = users[["user_id", "signup_at"]].copy()
    profile["first_txn_at"] = per_user["first_txn_at"]
    profile["last_txn_at"] = per_user["last_txn_at"]
    profile["txn_count"] = per_user["txn_count"].fillna(0).astype(np.int64)
    profile["frequency"] = (purchase_days - 1).clip(lower=0).astype(np.int64)
    profile["recency_days"] = as_of_day - per_user["last_day"]
    profile["tenure_days"] = as_of_day - local_day(users["signup_at"])
    profile["first_txn_age_days"] = as_of_day - per_user["first_day"]
    profile["gap_before_last_txn_days"] = per_user["last_day"] - previous_day
    profile["monetary_avg"] = (per_user["total_amount"] / per_user["txn_count"]).round(2)
    profile["total_amount"] = per_user["total_amount"].fillna(0.0).round(2)
    profile["total_revenue"] = per_user["total_revenue"].fillna(0.0).round(2)
    for line in LINES:
        count = by_line[("size", line)] if ("size", line) in by_line else 0
        profile[f"{line}_txn_count"] = count
        profile[f"{line}_amount"] = by_line[("sum", line)] if ("sum", line) in by_line else 0.0
        profile[f"holds_{line}"] = profile[f"{line}_txn_count"] > 0
    profile["first_day"] = per_user["first_day"]
    return profile


def event_activity(events: pd.DataFrame, n: int, as_of_day: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per user: active days, events, product views, sessions, funnel events, channel mix; and the user days."""
    uid = events["uid"].to_numpy()
    seconds = events["ts"].dt.as_unit("s").astype("int64").to_numpy()
    user_days = events.groupby(["uid", "day"], sort=False).size().rename("events").reset_index()
    day_uid, day = user_days["uid"].to_numpy(), user_days["day"].to_numpy()

    activity = pd.DataFrame(index=pd.RangeIndex(n))
    activity["active_days"] = np.bincount(day_uid, minlength=n)
    activity["event_count"] = np.bincount(uid, minlength=n)
    activity["product_views"] = np.bincount(uid[(events["event_name"] == "product_view").to_numpy()], minlength=n)
    for window in (7, 30, 90):
        activity[f"active_days_{window}d"] = np.bincount(day_uid[day > as_of_day - window], minlength=n)
    # Sessions: a user's events in time order; more than 30 minutes since the previous one starts a session.
    order = np.lexsort((seconds, uid))
    sorted_uid, sorted_seconds = uid[order], seconds[order]
    starts = np.ones(len(order), dtype=bool)
    starts[1:] = (sorted_uid[1:] != sorted_uid[:-1]) | (np.diff(sorted_seconds) > SESSION_GAP_NS // 10**9)
    activity["sessions"] = np.bincount(sorted_uid[starts], minlength=n)
    del order, sorted_uid, sorted_seconds, starts
    names = events["event_name"]
    for event_name, flag in FUNNEL_EVENTS.items():
        activity[flag] = np.bincount(uid[(names == event_name).to_numpy()], minlength=n) > 0
    channels = events.groupby(["uid", "channel"], observed=True).size().rename("n").reset_index()
    main = (channels.sort_values(["uid", "n", "channel"], ascending=[True, False, True])
            .drop_duplicates("uid").set_index("uid")["channel"])
    activity["main_event_channel"] = main.reindex(range(n)).astype("str").where(main.reindex(range(n)).notna())
    marketing = channels[~channels["channel"].isin(["direct", "(none)"])]
    activity["marketing_channels"] = np.bincount(marketing["uid"].to_numpy(), minlength=n)
    return activity, user_days


def finish_profile(profile: pd.DataFrame, activity: pd.DataFrame, users: pd.DataFrame,
                   as_of: pd.Timestamp) -> pd.DataFrame:
    """Activity columns, funnel stages, age and lifecycle stage."""
    profile = profile.join(activity)
    kyc = (users["kyc_status"] == "passed") | profile.pop("kyc_passed")
    profile["credit_funnel_stage"] = np.select(
        [profile.pop("repaying"), profile.pop("drawn") | profile["holds_credit"], profile.pop("approved"),
         profile.pop("applied"), kyc],
        ["repaying", "drawn", "approved", "applied", "kyc_passed"], default="registered")
    wealth = profile["wealth_txn_count"]
    profile["wealth_funnel_stage"] = np.select(
        [wealth >= 2, wealth == 1, users["risk_assessed_at"].notna() | profile.pop("risk_assessed")],
        ["repeat_purchase", "first_purchase", "risk_assessed"], default="registered")
    profile["events_per_active_day"] = (profile["event_count"] / profile["active_days"]).where(
        profile["active_days"] > 0, 0.0)
    profile["age"] = as_of.year - users["birth_year"]
    for column in ("city_tier", "province", "gender", "is_student", "kyc_status", "risk_level"):
        profile[column] = users[column]
    profile["acquisition_channel"] = users["acquisition_channel"].fillna("(unknown)")
    profile["lifecycle_stage"] = lifecycle_stage(profile)
    return profile.drop(columns="first_day")


def lifecycle_stage(profile: pd.DataFrame) -> np.ndarray:
    """First matching rule: reactivated, new, active, at risk, dormant, churned; never transacted, churned."""
    bought = profile["txn_count"] > 0
    recency, tenure = profile["recency_days"], profile["tenure_days"]
    return np.select(
        [
            bought & (recency <= 30) & (profile["gap_before_last_txn_days"] >= 90),
            (tenure <= 30) | (bought & (profile["first_txn_age_days"] <= 30)),
            bought & (recency <= 30),
            bought & (recency <= 90),
            bought & (recency <= 180),
            bought,
            tenure.isna() | (tenure <= 90),
        ],
        ["reactivated", "new", "active", "at_risk", "dormant", "churned", "never_transacted"],
        default="churned",
    )


# --- segments --------------------------------------------------------------------------------------


def rfm_scores(profile: pd.DataFrame) -> pd.DataFrame:
    """Quintile scores 1-5 among purchasers (1 + floor(5 x share strictly worse)), and the R x FM grid."""
    scored = (profile["txn_count"] > 0) & profile["recency_days"].notna()
    n_scored = int(scored.sum())

    def score(values: pd.Series) -> pd.Series:
        ranks = values[scored].rank(method="min")
        return ((ranks - 1) * 5 // max(n_scored, 1) + 1).clip(upper=5).astype("Int64").reindex(profile.index)

    segment = profile[["user_id"]].copy()
    segment["r_score"] = score(-profile["recency_days"])
    segment["f_score"] = score(profile["txn_count"])
    segment["m_score"] = score(profile["total_amount"])
    fm = np.floor((segment["f_score"] + segment["m_score"]) / 2 + 0.5)
    lookup = {10 * r + k + 1: name for r, names in RFM_GRID.items() for k, name in enumerate(names)}
    segment["rfm_segment"] = (segment["r_score"] * 10 + fm).map(lookup).fillna("No purchase").astype("str")
    segment["rfm_cell"] = ("R" + segment["r_score"].astype("str") + "F" + segment["f_score"].astype("str")
                           + "M" + segment["m_score"].astype("str")).where(scored)
    return segment


def kmeans_personas(profile: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame, pd.DataFrame]:
    """K-means on standardised behaviour features, k in 3..8 by silhouette on a sample; persona table."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score
    from sklearn.preprocessing import StandardScaler

    observed = (profile["tenure_days"] + 1).clip(lower=1)
    txns = profile["txn_count"].where(profile["txn_count"] > 0)
    features = pd.DataFrame({
        "txn_per_day": profile["txn_count"] / observed,
        "credit_share": profile["credit_txn_count"] / txns,
        "wealth_share": profile["wealth_txn_count"] / txns,
        "payment_share": profile["payment_txn_count"] / txns,
        "monetary_avg": profile["monetary_avg"],
        "credit_ticket": profile["credit_amount"] / profile["credit_txn_count"].where(profile["credit_txn_count"] > 0),
        "age": profile["age"],
        "idle_share": (profile["recency_days"] / observed).clip(upper=1).fillna(1.0),
        "active_day_share": (profile["active_days"] / observed).clip(upper=1),
        "events_per_active_day": profile["events_per_active_day"],
    })[PERSONA_FEATURES].astype(float)
    transformed = features.copy()
    for column in SKEWED:
        transformed[column] = np.log1p(transformed[column].clip(lower=0))
    transformed = transformed.fillna(transformed.median())
    x = np.clip(StandardScaler().fit_transform(transformed.to_numpy()), -5, 5)

    # k is chosen on a sample of users (silhouette on 5,000 of them), then the chosen k is fitted on everyone.
    rng = np.random.default_rng(0)
    sample = x[rng.choice(len(x), size=min(len(x), 20_000), replace=False)]
    evidence = []
    for k in range(3, 9):
        model = KMeans(n_clusters=k, n_init=3, random_state=0).fit(sample)
        silhouette = silhouette_score(sample, model.labels_, sample_size=min(len(sample), 5_000), random_state=0)
        evidence.append({"k": k, "silhouette": float(silhouette), "inertia_sample": float(model.inertia_)})
    k_evidence = pd.DataFrame(evidence)
    best = int(k_evidence.loc[k_evidence["silhouette"].idxmax(), "k"])
    k_evidence["chosen"] = k_evidence["k"] == best
    labels = KMeans(n_clusters=best, n_init=3, random_state=0).fit(x).labels_

    z = pd.DataFrame(x, columns=PERSONA_FEATURES).groupby(labels).mean()
    means = features.groupby(labels).mean()
    rows = []
    for persona in z.index:
        top = z.loc[persona].abs().sort_values(ascending=False).index[:3]
        rows.append({
            "persona_id": int(persona),
            "persona_name": ", ".join(f"{'high' if z.loc[persona, f] > 0 else 'low'} {f}" for f in top),
            "users": int((labels == persona).sum()),
            "share": float((labels == persona).mean()),
            "top_features": "; ".join(f"{f}={means.loc[persona, f]:.3g}" for f in top),
            **{f"mean_{f}": float(means.loc[persona, f]) for f in PERSONA_FEATURES},
        })
    return labels.astype(np.int64), pd.DataFrame(rows), k_evidence


# --- lifetime value --------------------------------------------------------------------------------


def lifetime_value(purchases: pd.DataFrame, users: pd.DataFrame, as_of_day: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """BG/NBD and Gamma-Gamma (lifetimes) on weekly summaries of purchase days; CLV over the horizon."""
    from lifetimes import BetaGeoFitter, GammaGammaFitter

    days = purchases.groupby(["uid", "day"], as_index=False)["revenue"].sum().sort_values(["uid", "day"])
    per_user = days.groupby("uid").agg(first=("day", "min"), last=("day", "max"), purchase_days=("day", "size"),
                                       total=("revenue", "sum"), first_value=("revenue", "first"))
    summary = pd.DataFrame({
        "frequency": per_user["purchase_days"] - 1,
        "recency": (per_user["last"] - per_user["first"]) / 7.0,
        "T": (as_of_day - per_user["first"]) / 7.0,
    })
    summary["monetary_value"] = ((per_user["total"] - per_user["first_value"]) / summary["frequency"]).where(
        summary["frequency"] > 0, 0.0)

    bgf = fitted(BetaGeoFitter, summary["frequency"], summary["recency"], summary["T"])
    repeat = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    ggf = fitted(GammaGammaFitter, repeat["frequency"], repeat["monetary_value"])

    horizon = HORIZON_DAYS / 7.0
    f, r, t = summary["frequency"], summary["recency"], summary["T"]
    user_clv = pd.DataFrame({"user_id": users["user_id"].to_numpy()[summary.index.to_numpy()]})
    user_clv["p_alive"] = np.asarray(bgf.conditional_probability_alive(f, r, t))
    user_clv["expected_txns"] = np.asarray(bgf.conditional_expected_number_of_purchases_up_to_time(horizon, f, r, t))
    if ggf.params_["q"] > 1:
        expected_value = np.asarray(ggf.conditional_expected_average_profit(f, summary["monetary_value"]))
    else:
        # Spend too heavy-tailed for Gamma-Gamma (its mean needs q > 1): each user's mean, shrunk towards the
        # population mean with the weight of two purchases.
        population = float(repeat["monetary_value"].mean())
        expected_value = ((f * summary["monetary_value"] + 2 * population) / (f + 2)).to_numpy()
    user_clv["expected_value"] = expected_value
    user_clv["clv"] = user_clv["expected_txns"] * user_clv["expected_value"]
    user_clv["horizon_days"] = HORIZON_DAYS

    # lifetimes keeps the mean negative log-likelihood per customer.
    model = [
        {"model": "bg_nbd", "parameter": name, "value": float(value), "penalizer": bgf.penalizer_coef, "log_likelihood": -bgf._negative_log_likelihood_ * len(summary),
         "customers": len(summary), "time_unit": "week"}
        for name, value in bgf.params_.items()
    ] + [
        {"model": "gamma_gamma", "parameter": name, "value": float(value), "penalizer": ggf.penalizer_coef,
         "log_likelihood": -ggf._negative_log_likelihood_ * len(repeat), "customers": len(repeat), "time_unit": "week"}
        for name, value in ggf.params_.items()
    ]
    return pd.DataFrame(model), user_clv


def fitted(fitter_class, *data):
    """Maximum likelihood first; lifetimes' advice on a convergence error is a (larger) penalizer."""
    from lifetimes.utils import ConvergenceError

    for penalizer in (0.0, 0.001, 0.01, 0.1):
        try:
            # lifetimes prints the optimiser's report before raising; the error is enough.
            with contextlib.redirect_stdout(io.StringIO()):
                return fitter_class(penalizer_coef=penalizer).fit(*data)
        except ConvergenceError:
            continue
    raise SystemExit(f"{fitter_class.__name__} did not converge even with a penalizer of 0.1")


# --- cohorts and daily KPIs ------------------------------------------------------------------------


def month_of(days: np.ndarray) -> np.ndarray:
    """Months since 1970-01 of days since 1970-01-01 (NaN stays NaN)."""
    days = np.asarray(days, dtype=float)
    out = np.full(days.shape, np.nan)
    known = ~np.isnan(days)
    out[known] = days[known].astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    return out


def cohort_retention(users: pd.DataFrame, purchases: pd.DataFrame, profile: pd.DataFrame,
                     as_of: pd.Timestamp) -> pd.DataFrame:
    """Monthly cohorts (sign-up, first purchase) x months since: users, retained, rates, revenue."""
    as_of_month = (as_of.year - 1970) * 12 + as_of.month - 1
    as_of_day = int(as_of.value // DAY_NS)
    purchase_uid, purchase_day = purchases["uid"].to_numpy(), purchases["day"].to_numpy()
    purchase_month = month_of(purchase_day)
    tables = []
    for basis, cohort_day in (("signup", local_day(users["signup_at"]).astype(float)),
                              ("first_transaction", (as_of_day - profile["first_txn_age_days"]).to_numpy(dtype=float))):
        cohort_month = month_of(cohort_day)
        sizes = pd.Series(cohort_month[~np.isnan(cohort_month)]).value_counts().sort_index()
        sizes = sizes[sizes.index <= as_of_month]
        keep = purchase_day >= cohort_day[purchase_uid]
        active = pd.DataFrame({
            "cohort": cohort_month[purchase_uid[keep]].astype(np.int64),
            "period": (purchase_month[keep] - cohort_month[purchase_uid[keep]]).astype(np.int64),
            "uid": purchase_uid[keep],
            "revenue": purchases["revenue"].to_numpy()[keep],
        }).groupby(["cohort", "period"]).agg(retained=("uid", "nunique"), revenue=("revenue", "sum"))
        cohorts = sizes.index.to_numpy().astype(np.int64)
        periods = as_of_month - cohorts + 1
        grid = pd.DataFrame({"cohort": np.repeat(cohorts, periods),
                             "period": np.concatenate([np.arange(p) for p in periods]),
                             "users": np.repeat(sizes.to_numpy(), periods)})
        table = grid.join(active, on=["cohort", "period"])
        table["retained"] = table["retained"].fillna(0).astype(np.int64)
        table["revenue"] = table["revenue"].fillna(0.0)
        table["retention_rate"] = table["retained"] / table["users"]
        first = table.groupby("cohort")["revenue"].transform("first")
        table["revenue_retention"] = table["revenue"] / first.where(first > 0)
        table.insert(0, "cohort_basis", basis)
        table["cohort"] = [f"{1970 + m // 12}-{m % 12 + 1:02d}" for m in table["cohort"]]
        tables.append(table)
    return pd.concat(tables, ignore_index=True)


def kpi_daily(users: pd.DataFrame, purchases: pd.DataFrame, user_days: pd.DataFrame, spend: pd.DataFrame,
              as_of: pd.Timestamp) -> pd.DataFrame:
    """Per local day: new, active and transacting users, transactions, amount, revenue, spend."""
    as_of_day = int(as_of.value // DAY_NS)
    signup_day = local_day(users["signup_at"])
    first = int(min(signup_day.min(), purchases["day"].min()))
    n = as_of_day - first + 1

    def per_day(days: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        inside = (days >= first) & (days <= as_of_day)
        return np.bincount(days[inside] - first, weights=None if weights is None else weights[inside], minlength=n)

    day = purchases["day"].to_numpy()
    transacting = purchases[["day", "uid"]].drop_duplicates()["day"].to_numpy()
    spend = spend[spend["date"] <= as_of]
    spend_day = (spend["date"].to_numpy().astype("datetime64[D]").astype(np.int64))
    return pd.DataFrame({
        "date": pd.to_datetime(np.arange(first, as_of_day + 1), unit="D"),
        "new_users": per_day(signup_day),
        "active_users": per_day(user_days["day"].to_numpy()),
        "transacting_users": per_day(transacting),
        "transactions": per_day(day),
        "txn_amount": per_day(day, purchases["amount"].to_numpy()).round(2),
        "revenue": per_day(day, purchases["revenue"].to_numpy()).round(2),
        "spend": per_day(spend_day, spend["spend"].to_numpy()).round(2),
    })


if __name__ == "__main__":
    raise SystemExit(main())

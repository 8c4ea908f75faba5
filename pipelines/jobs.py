"""Jobs: the analytics refresh, the incremental daily refresh, and the only job that can send."""

import dagster as dg

from pipelines.campaign_reconcile import reconcile_campaigns
from pipelines.campaign_send import launch_campaign_file

# Every analytics asset. Campaign dry runs render and record but never send, so a refresh is always safe.
analytics_job = dg.define_asset_job(
    name="analytics_job",
    selection=dg.AssetSelection.all(),
    description="Ingest the landing folder and rebuild every mart and dashboard. Never sends anything.",
    # Runs that write the DuckDB file carry this tag, so a queued run coordinator can allow one at a time.
    tags={"fingrowth/warehouse-writer": "true"},
)


# Sends live only here: an op-based job outside every asset selection, started by hand (UI or CLI) with a
# campaign file in its run config. No schedule or sensor targets it.
@dg.job(description="Plan and launch one campaign file, as `fingrowth campaign launch`: dry run unless the run "
                    "config sets live: true (and SENDGRID_API_KEY is set). Never scheduled.",
        tags={"fingrowth/sends": "true"})
def campaign_send_job():
    launch_campaign_file()


# Finishing what launches started: settle open batches from provider events and resend, once per batch, those
# without any after the reconcile wait. Started by `campaign_reconcile_sensor` while some batch is open; it
# never freezes or starts a campaign.
@dg.job(description="Reconcile every campaign's open batches (as `fingrowth campaign reconcile`): settle them from "
                    "SendGrid events, resend once those with none after the reconcile wait.",
        tags={"fingrowth/sends": "resends-only"})
def campaign_reconcile_job():
    reconcile_campaigns()


# The incremental daily refresh, after `staging_partitions_job` (pipelines/partitioned.py) staged the new
# landing day: the window, purchases, the per-user-per-day activity (only changed days are recomputed)
# and the daily KPIs. Profiles (about a minute at a million users), segments, lifetime value,
# attribution and dashboards wait for the next full analytics_job (README, "Scale and scale-out").
DAILY_REFRESH_ASSETS = ("analysis_window", "core_purchases", "core_user_activity", "core_user_channel_months",
                        "core_user_activity_state", "kpi_daily")
daily_refresh_job = dg.define_asset_job(
    name="daily_refresh_job",
    selection=dg.AssetSelection.assets(*DAILY_REFRESH_ASSETS),
    description="Refresh the daily activity layer and daily KPIs after a new landing day was staged by "
                "partition; recomputes only the changed days.",
    tags={"fingrowth/warehouse-writer": "true"},
)

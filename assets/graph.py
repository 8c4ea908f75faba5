"""The whole asset graph in data-flow order: every step, every declared table, every separate check."""

from assets.campaign_dry_runs import CAMPAIGN_DRY_RUN_TABLES, campaign_assets
from assets.campaign_ledger import LEDGER_TABLES, campaign_ledger_assets
from assets.campaign_lift import CAMPAIGN_LIFT_TABLES, campaign_lift_assets
from assets.channel_cohorts import CHANNEL_COHORT_TABLES, channel_cohort_assets
from assets.channel_quality import CHANNEL_QUALITY_TABLES, channel_quality_assets
from assets.channel_roi import CHANNEL_ROI_TABLES, channel_assets
from assets.core import CORE_TABLES, core_assets
from assets.credit_value import CREDIT_VALUE_TABLES, credit_value_assets
from assets.daily_kpis import KPI_TABLES, kpi_assets
from assets.lifetime_value import VALUE_TABLES, value_assets
from assets.metric_values import METRIC_TABLES, metric_assets
from assets.pipeline_notes import NOTES_TABLES, notes_assets
from assets.user_profile import PROFILE_TABLES, profile_assets
from assets.raw import RAW_TABLES, raw_assets
from assets.reporting import reporting_assets
from assets.segmentation import SEGMENT_TABLES, segmentation_assets
from assets.staged import STAGED_TABLES, staged_assets
from assets.staged_checks import staged_checks

ANALYTICS_ASSETS = [
    *raw_assets, *staged_assets, *core_assets, *profile_assets, *segmentation_assets, *value_assets,
    *credit_value_assets, *kpi_assets, *metric_assets, *channel_assets, *channel_quality_assets,
    *channel_cohort_assets, *campaign_ledger_assets, *campaign_assets, *campaign_lift_assets, *notes_assets,
    *reporting_assets,
]
# No external assets: the campaign service's tables live in the campaign store, copied by `campaign_ledger`.
EXTERNAL_ASSETS: list = []
SEPARATE_CHECKS = staged_checks
# Every table the warehouse may hold, with the asset that stands for it.
WAREHOUSE_TABLES = [
    *RAW_TABLES, *STAGED_TABLES, *CORE_TABLES, *PROFILE_TABLES, *SEGMENT_TABLES, *VALUE_TABLES, *CREDIT_VALUE_TABLES,
    *KPI_TABLES, *METRIC_TABLES, *CHANNEL_ROI_TABLES, *CHANNEL_QUALITY_TABLES, *CHANNEL_COHORT_TABLES,
    *CAMPAIGN_DRY_RUN_TABLES, *CAMPAIGN_LIFT_TABLES, *NOTES_TABLES, *LEDGER_TABLES,
]

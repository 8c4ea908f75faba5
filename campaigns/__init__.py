"""Campaigns: templates, campaign definitions, per-recipient compliance decisions and dry runs.

No Dagster here. The decision, template and rendering modules are pure; `registry`, `launch`, `delivery`
and `webhook` keep their state in the warehouse (DuckDB, schema `campaigns`) and talk to SendGrid.
"""

from campaigns.campaign import (
    Campaign,
    Variant,
    load_campaign,
    parse_campaign,
    select_audience,
)
from campaigns.consent import latest_consents
from campaigns.decide import DECISION_SCHEMA, decide_recipients
from campaigns.dry_run import MESSAGE_SCHEMA, DryRunResult, dry_run
from campaigns.errors import (
    CampaignFileError,
    CampaignMismatchError,
    ConfigFileError,
    MissingPlaceholderError,
    RulePackFileError,
    TemplateFileError,
)
from campaigns.funnel import audience_funnel
from campaigns.holdout import hash_bucket, holdout_buckets
from campaigns.library import (
    campaign_paths,
    library_dir,
    shipped_rule_pack,
    template_path,
)
from campaigns.render import RenderedMessage, render, render_frame
from campaigns.rule_pack import Rule, RulePack, load_rule_pack
from campaigns.template import (
    SAFE_PLACEHOLDERS,
    Template,
    load_template,
    parse_template,
)
from campaigns.variants import assign_variants

__all__ = [
    "DECISION_SCHEMA", "MESSAGE_SCHEMA", "SAFE_PLACEHOLDERS",
    "Campaign", "CampaignFileError", "CampaignMismatchError", "ConfigFileError", "DryRunResult",
    "MissingPlaceholderError", "RenderedMessage", "Rule", "RulePack", "RulePackFileError", "Template",
    "TemplateFileError", "Variant",
    "assign_variants", "audience_funnel", "campaign_paths", "decide_recipients", "dry_run", "hash_bucket", "holdout_buckets",
    "latest_consents", "library_dir", "load_campaign", "load_rule_pack", "load_template", "parse_campaign",
    "parse_template", "render", "render_frame", "select_audience", "shipped_rule_pack", "template_path",
]

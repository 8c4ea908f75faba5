"""Campaigns: templates, campaign definitions, per-recipient compliance decisions, delivery and approval.

Layers, each a subpackage that only imports the ones before it:
- `definitions`: file schemas (campaign, template, rule/lint pack, roles) and the shipped library.
- `content`: rendering and the copy lint a template must pass.
- `eligibility`: pure per-recipient rules, consent state, decisions, holdout and variant groups, dry run.
- `store`: the operational database (SQLAlchemy tables, transactions) that holds campaign state.
- `governance`: roles and permissions, the hash-chained audit trail, maker-checker template approval.
- `delivery`: plan records, the outbox ledger, SendGrid, SMS/push vendor files, provider events.
- `results`: holdout lift and the campaign page frames.
`service.CampaignService` is the one entry point for the use cases. No Dagster here, and nothing reads
the environment: callers build the service from their settings.
"""

from campaigns.campaign_errors import (
    ApprovalError,
    BatchRequestError,
    CampaignError,
    CampaignFileError,
    CampaignMismatchError,
    ConfigFileError,
    DeliveryHalted,
    DeliverySetupError,
    MissingPlaceholderError,
    PermissionDenied,
    RolesFileError,
    RulePackFileError,
    ScheduleError,
    StaleScheduleError,
    StoreUnavailable,
    TemplateFileError,
)
from campaigns.content.rendering import RenderedMessage, render, render_frame
from campaigns.definitions.campaign_file import Campaign, Variant, load_campaign, parse_campaign
from campaigns.definitions.pack_file import Rule, RulePack
from campaigns.definitions.roles_file import RolesFile
from campaigns.definitions.shipped_library import campaign_paths, library_dir, template_path
from campaigns.definitions.template_file import SAFE_PLACEHOLDERS, Template, load_template, parse_template
from campaigns.delivery.provider_events import IngestResult
from campaigns.eligibility.audience import select_audience
from campaigns.eligibility.audience_funnel import audience_funnel
from campaigns.eligibility.consent_state import latest_consents
from campaigns.eligibility.decisions import DECISION_SCHEMA, decide_recipients
from campaigns.eligibility.dry_run import MESSAGE_SCHEMA, DryRunResult, dry_run
from campaigns.eligibility.dry_run_files import DryRunTables, dry_run_campaign_files
from campaigns.eligibility.holdout_assignment import hash_bucket, holdout_buckets
from campaigns.eligibility.rule_packs import load_rule_pack, shipped_rule_pack
from campaigns.eligibility.variant_assignment import assign_variants
from campaigns.governance.access import RoleDirectory
from campaigns.service import (
    ApprovalResult,
    CampaignService,
    DeliveryOptions,
    LaunchRequest,
    LaunchResult,
    PlanRequest,
    PlanResult,
    ReconcileResult,
    RejectionResult,
    SubmitResult,
)

__all__ = [
    "DECISION_SCHEMA", "MESSAGE_SCHEMA", "SAFE_PLACEHOLDERS",
    "ApprovalError", "ApprovalResult", "BatchRequestError", "Campaign", "CampaignError", "CampaignFileError", "CampaignMismatchError",
    "CampaignService", "ConfigFileError", "DeliveryHalted", "DeliveryOptions", "DeliverySetupError", "DryRunResult",
    "DryRunTables",
    "IngestResult", "LaunchRequest", "LaunchResult", "MissingPlaceholderError", "PermissionDenied", "PlanRequest",
    "PlanResult", "ReconcileResult", "RejectionResult", "RenderedMessage", "RoleDirectory", "RolesFile",
    "RolesFileError", "Rule", "RulePack", "RulePackFileError", "ScheduleError", "StaleScheduleError", "StoreUnavailable", "SubmitResult",
    "Template", "TemplateFileError", "Variant",
    "assign_variants", "audience_funnel", "campaign_paths", "decide_recipients", "dry_run", "dry_run_campaign_files", "hash_bucket",
    "holdout_buckets", "latest_consents", "library_dir", "load_campaign", "load_rule_pack", "load_template",
    "parse_campaign", "parse_template", "render", "render_frame", "select_audience", "shipped_rule_pack",
    "template_path",
]

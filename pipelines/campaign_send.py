"""The op behind `campaign_send_job`: plan and launch one campaign file through the campaign service.

It calls the same `CampaignService.launch` as `fingrowth campaign launch` (same role check through
FINGROWTH_USER/FINGROWTH_ROLES, approved templates, per-recipient decisions, outbox ledger, delivery
settings from the environment), so the UI and the command line can never disagree about who may be sent
what. Dry run unless the run config says `live: true`; a live e-mail send also needs SENDGRID_API_KEY
(or FINGROWTH_SENDGRID_API_KEY) in the environment of the code location.

This op is in no asset selection: the analytics job, its schedule and the landing sensor cannot reach it.
"""

from datetime import date
from pathlib import Path

import dagster as dg
from pydantic import Field

from assets.resources import WarehouseResource
from campaigns.campaign_errors import (
    ApprovalError,
    CampaignMismatchError,
    ConfigFileError,
    DeliverySetupError,
    PermissionDenied,
    ScheduleError,
    StaleScheduleError,
    StoreUnavailable,
)
from campaigns.service import LaunchRequest
from pipelines.campaign_reports import launch_lines, launch_problem
from pipelines.campaign_wiring import campaign_service, setting_hint
from pipelines.settings import Settings


class CampaignSendConfig(dg.Config):
    """Which campaign to launch, and whether to really send."""

    campaign_file: str = Field(description="path of the campaign YAML file (relative to the code location's folder)")
    live: bool = Field(default=False, description="really send; without it nothing leaves the machine (dry run)")
    as_of: str | None = Field(default=None, description="decision date YYYY-MM-DD (default: end of the data window)")
    now: bool = Field(default=False, description="launch before the campaign's send_at, deciding for now")


@dg.op(description="Plan and launch a campaign file (dry run unless live: true). Never run by the analytics job.",
       tags={"fingrowth/sends": "true"})
def launch_campaign_file(context: dg.OpExecutionContext, config: CampaignSendConfig,
                         warehouse: WarehouseResource) -> dg.Output[None]:
    settings = Settings.from_env(warehouse=Path(warehouse.path), timezone=warehouse.timezone)
    request = LaunchRequest(Path(config.campaign_file), live=config.live, send_now=config.now,
                            as_of=date.fromisoformat(config.as_of) if config.as_of else None)
    try:
        result = campaign_service(settings).launch(settings.user, request)
    except DeliverySetupError as missing:
        raise dg.Failure(description=f"live: true needs {setting_hint(missing.setting)} in the environment of the "
                                     f"Dagster code location; nothing was sent ({missing})") from None
    except PermissionDenied as denied:
        raise dg.Failure(description=f"permission denied: {denied}") from None
    except ScheduleError as early:
        raise dg.Failure(description=f"campaign {early.source} is scheduled for {early.send_at.isoformat()}; run at "
                                     "or after that time, or set now: true to send now") from None
    except StaleScheduleError as stale:
        raise dg.Failure(description=f"{stale}") from None
    except (ApprovalError, ConfigFileError, CampaignMismatchError, StoreUnavailable) as error:
        raise dg.Failure(description=f"campaign launch refused: {error}") from None
    # The report holds counts, digests and batch states only: no addresses, no key.
    report = launch_lines(result)
    for line in report:
        context.log.info(line)
    context.log.info(f"outcome {result.outcome}: {result.recipients_delivered} of {result.recipients_planned} "
                     f"recipient(s) delivered in {result.requests} request(s)")
    problem = launch_problem(result)
    if problem:
        context.log.warning(problem)
        raise dg.Failure(description=f"campaign launch {result.outcome}: {problem}",
                         metadata={"report": dg.MetadataValue.text("\n".join(report))})
    return dg.Output(None, metadata={
        "campaign_file": config.campaign_file, "live": config.live, "report": dg.MetadataValue.text("\n".join(report)),
        "recipients_planned": result.recipients_planned, "recipients_delivered": result.recipients_delivered,
        "unknown_batches": len(result.unknown_batches)})

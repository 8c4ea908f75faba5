"""The op behind `campaign_reconcile_job`: reconcile every campaign's open batches through the campaign service.

It calls the same `CampaignService.reconcile` as `fingrowth campaign reconcile`: batches settled from
provider events, and an `unknown` batch with no event after FINGROWTH_RECONCILE_WAIT_MINUTES resent once
(per batch, never per campaign; decided again as its launch decided it, unsubscribes since honoured). The
acting user is FINGROWTH_USER of the code location (marketer or admin). It only ever finishes batches a
person launched: it never freezes or starts a campaign. `campaign_reconcile_sensor` starts it while some
batch is open, so nobody has to remember to.
"""

import dagster as dg

from campaigns.campaign_errors import PermissionDenied, StoreUnavailable
from pipelines.campaign_reports import reconcile_lines
from pipelines.campaign_wiring import campaign_service
from pipelines.settings import Settings


@dg.op(description="Settle open campaign batches from SendGrid events; resend once those with none after the wait.",
       tags={"fingrowth/sends": "resends-only"})
def reconcile_campaigns(context: dg.OpExecutionContext) -> dg.Output[None]:
    settings = Settings.from_env()
    try:
        result = campaign_service(settings).reconcile(settings.user, None)
    except PermissionDenied as denied:
        raise dg.Failure(description=f"permission denied: {denied} (set FINGROWTH_USER of the code location to a "
                                     "marketer or admin)") from None
    except StoreUnavailable as busy:
        raise dg.Failure(description=str(busy)) from None
    report = reconcile_lines(result)
    for line in report:
        context.log.info(line)
    return dg.Output(None, metadata={
        "report": dg.MetadataValue.text("\n".join(report)), "reconciled": len(result.reconciled_batches),
        "resent": len(result.resent_batches), "still_unknown": len(result.unknown_batches)})

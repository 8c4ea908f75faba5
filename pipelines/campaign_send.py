"""The op behind `campaign_send_job`: plan and launch one campaign file, exactly as `fingrowth campaign launch`.

It runs the command line's own launch (same role check through FINGROWTH_USER/FINGROWTH_ROLES, approved
template, per-recipient decisions, outbox ledger, delivery settings from the environment), so the UI and
the CLI can never disagree about who may be sent what. Dry run unless the run config says `live: true`;
a live e-mail send also needs SENDGRID_API_KEY (or FINGROWTH_SENDGRID_API_KEY) in the environment.

This op is in no asset selection: the analytics job, its schedule and the landing sensor cannot reach it.
"""

import io
from contextlib import redirect_stderr, redirect_stdout

import dagster as dg
from pydantic import Field

from assets.resources import WarehouseResource

EXIT_MEANINGS = {1: "failed or blocked", 2: "bad arguments or missing file", 3: "batches with unknown outcome",
                 4: "permission denied"}


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
    from campaigns import load_campaign
    from pipelines.campaign_cli import sendgrid_api_key
    from pipelines.cli import main

    if config.live and load_campaign(config.campaign_file).channel == "email" and not sendgrid_api_key():
        raise dg.Failure(description="live: true needs SENDGRID_API_KEY (or FINGROWTH_SENDGRID_API_KEY) in the "
                                     "environment of the Dagster code location; nothing was sent")
    argv = ["campaign", "launch", config.campaign_file, "--warehouse", warehouse.path]
    argv += ["--live"] if config.live else []
    argv += ["--as-of", config.as_of] if config.as_of else []
    argv += ["--now"] if config.now else []
    out, err = io.StringIO(), io.StringIO()
    # The launch prints counts, digests and batch states only: no addresses, no key.
    with redirect_stdout(out), redirect_stderr(err):
        code = main(argv)
    for line in out.getvalue().splitlines():
        context.log.info(line)
    for line in err.getvalue().splitlines():
        context.log.warning(line)
    if code != 0:
        raise dg.Failure(description=f"campaign launch exited {code} ({EXIT_MEANINGS.get(code, 'error')}): "
                                     f"{err.getvalue().strip()[-2000:]}")
    return dg.Output(None, metadata={"campaign_file": config.campaign_file, "live": config.live,
                                     "report": dg.MetadataValue.text(out.getvalue())})

"""Campaigns: the list, the builder (a draft in the campaign store), the audience preview (a recorded plan:
the funnel through every rule, counts per variant, sample messages), the launch (a dry run first; live only
with a provider key and a typed confirmation) and each campaign's batches and results."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response

from campaigns.campaign_errors import CampaignError, DraftError
from campaigns.definitions.vocabulary import PURPOSES
from campaigns.service import LaunchRequest, PlanRequest
from pipelines.console.i18n import translator
from pipelines.console.web import console_of, form_of, language_of, page, redirect, refusal, render

SEGMENT_FIELDS = ("rfm_segment", "persona_id", "rule_segment")


@page("campaign.status")
def campaign_list(request: Request) -> Response:
    service = console_of(request).service
    user = request.state.actor.user
    return render(request, "campaigns.html", drafts=service.campaign_drafts(user), recorded=service.campaigns(user))


@page("campaign.draft")
def new_campaign(request: Request) -> Response:
    return _builder(request, {"campaign_id": "", "name": "", "segment": {}, "holdout_pct": 10, "purpose": "marketing"})


@page("campaign.draft")
def edit_campaign(request: Request) -> Response:
    draft = console_of(request).service.campaign_draft(request.state.actor.user, request.path_params["campaign_id"])
    return _builder(request, dict(draft.definition))


@page("campaign.draft")
def save_campaign(request: Request) -> Response:
    console = console_of(request)
    user = request.state.actor.user
    form = form_of(request)
    template_id, version = _template_choice(str(form.get("template", "")))
    channel = console.service.template_definition(user, template_id, version)["channel"]
    definition: dict = {
        "campaign_id": str(form.get("campaign_id", "")).strip(), "name": str(form.get("name", "")).strip(),
        "channel": channel, "purpose": str(form.get("purpose", "marketing")),
        "holdout_pct": float(str(form.get("holdout_pct") or 0)),
        "segment": {field: form.getlist(field) for field in SEGMENT_FIELDS if form.getlist(field)},
        "template": {"id": template_id, "version": version},
    }
    variant = str(form.get("variant_template", "")).strip()
    if variant:
        b_id, b_version = _template_choice(variant)
        definition["variants"] = [
            {"name": "A", "template": {"id": template_id, "version": version},
             "weight": float(str(form.get("weight_a") or 50))},
            {"name": "B", "template": {"id": b_id, "version": b_version}, "weight": float(str(form.get("weight_b") or 50))},
        ]
    send_at = str(form.get("send_at", "")).strip()
    if send_at:
        local = datetime.fromisoformat(send_at)
        definition["send_at"] = local.replace(tzinfo=ZoneInfo(console.timezone)).isoformat()
    cap_messages, cap_days = str(form.get("cap_messages", "")).strip(), str(form.get("cap_days", "")).strip()
    if cap_messages or cap_days:
        definition["frequency_cap"] = {"max_messages": int(cap_messages or 0), "days": int(cap_days or 0)}
    draft = console.service.save_campaign_draft(user, definition)
    return redirect(f"/campaigns/{draft.campaign_id}")


@page("campaign.status")
def show_campaign(request: Request) -> Response:
    service = console_of(request).service
    user = request.state.actor.user
    campaign_id = request.path_params["campaign_id"]
    try:
        draft = service.campaign_draft(user, campaign_id)
    except DraftError:
        draft = None
    results = service.campaign_results(user, campaign_id)
    recorded = {summary.campaign_id: summary for summary in service.campaigns(user)}.get(campaign_id)
    if draft is None and recorded is None:
        return refusal(request, 404, translator(language_of(request))("campaign_unknown"))
    return render(request, "campaign.html", campaign_id=campaign_id, draft=draft, results=results, recorded=recorded,
                  live_ready=service.live_email_ready)


@page("campaign.plan")
def preview_audience(request: Request) -> Response:
    service = console_of(request).service
    campaign_id = request.path_params["campaign_id"]
    plan = service.plan(request.state.actor.user, PlanRequest(draft_id=campaign_id))
    return render(request, "campaign_preview.html", campaign_id=campaign_id, plan=plan)


@page("campaign.launch")
def launch(request: Request) -> Response:
    service = console_of(request).service
    user = request.state.actor.user
    t = translator(language_of(request))
    form = form_of(request)
    campaign_id = request.path_params["campaign_id"]
    live = form.get("mode") == "live"
    if live:
        recorded = {summary.campaign_id: summary for summary in service.campaigns(user)}.get(campaign_id)
        if recorded is None or not recorded.launched:
            return refusal(request, 409, t("launch_dry_run_first"))
        if not service.live_email_ready:
            return refusal(request, 409, t("launch_no_provider"))
        if str(form.get("confirm", "")).strip() != campaign_id:
            return refusal(request, 409, t("launch_confirm_mismatch"))
    try:
        result = service.launch(user, LaunchRequest(draft_id=campaign_id, live=live, send_now=form.get("now") == "on"))
    except CampaignError as refused:
        return refusal(request, 409, str(refused))
    return render(request, "campaign_launch.html", campaign_id=campaign_id, result=result)


def _builder(request: Request, definition: dict) -> Response:
    service = console_of(request).service
    user = request.state.actor.user
    options = service.audience_options(user)
    templates = [t for t in service.list_templates(user) if t.status.status not in ("rejected", "blocked")]
    segment = {field: [str(v) for v in values] for field, values in (definition.get("segment") or {}).items()}
    variants = definition.get("variants") or []
    send_at = definition.get("send_at")
    local_send_at = (datetime.fromisoformat(send_at).astimezone(ZoneInfo(console_of(request).timezone))
                     .strftime("%Y-%m-%dT%H:%M") if send_at else "")
    return render(request, "campaign_edit.html", definition=definition, options=options, templates=templates,
                  segment=segment, purposes=sorted(PURPOSES), variants=variants, local_send_at=local_send_at,
                  cap=definition.get("frequency_cap") or {})


def _template_choice(value: str) -> tuple[str, int]:
    template_id, _, version = value.rpartition("@")
    if not template_id or not version.isdigit():
        raise ValueError(f"choose a template version (template_id@version), got {value!r}")
    return template_id, int(version)

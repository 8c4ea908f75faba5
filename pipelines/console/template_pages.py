"""Templates: the list, the editor (a save files a new version for review), the review page with its inert
preview, lint findings and diff, the compliance queue, approve and reject."""

from __future__ import annotations

from html import escape

import yaml
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from campaigns.campaign_errors import ApprovalError
from campaigns.definitions.shipped_library import template_path
from campaigns.definitions.vocabulary import CHANNELS, PRODUCT_TYPES, RISK_GRADES
from pipelines.console.security import PREVIEW_CSP
from pipelines.console.web import console_of, form_of, page, redirect, render

TEXT_FIELDS = ("template_id", "jurisdiction", "channel", "message_class", "product_type", "risk_grade", "issuer",
               "sender_legal_name", "sender_contact", "subject", "text_body", "html_body")
STARTER = ("wealth_welcome", 1)


@page("template.list")
def template_list(request: Request) -> Response:
    service = console_of(request).service
    return render(request, "templates.html", templates=service.list_templates(request.state.actor.user))


@page("template.submit")
def new_template(request: Request) -> Response:
    starter = yaml.safe_load(template_path(*STARTER).read_text(encoding="utf-8"))
    starter.update(template_id="", version=1)
    return _editor(request, starter, revising=False)


@page("template.submit")
def edit_template(request: Request) -> Response:
    template_id, version = _key(request)
    definition = console_of(request).service.template_definition(request.state.actor.user, template_id, version)
    return _editor(request, definition, revising=True)


@page("template.submit")
def save_template(request: Request) -> Response:
    form = form_of(request)
    definition = {name: str(form.get(name, "")).replace("\r\n", "\n") for name in TEXT_FIELDS}
    definition["risk_grade"] = definition["risk_grade"] or None
    for optional in ("subject", "html_body"):
        if not definition[optional].strip():
            definition.pop(optional)
    definition["is_personalized"] = form.get("is_personalized") == "on"
    definition["placeholders"] = [p.strip() for p in str(form.get("placeholders", "")).split(",") if p.strip()]
    revising = form.get("revising") == "1"
    definition["version"] = int(str(form.get("version") or "1"))
    result = console_of(request).service.submit_template_definition(request.state.actor.user, definition,
                                                                    as_new_version=revising)
    template_id, _, version = result.template_key.rpartition("@")
    return redirect(f"/templates/{template_id}/{version}")


@page("template.show")
def show_template(request: Request) -> Response:
    service = console_of(request).service
    user = request.state.actor.user
    template_id, version = _key(request)
    review = service.show_template(user, template_id, version)
    try:
        diff = service.diff_templates(user, template_id, version)
    except ApprovalError:
        diff = None
    return render(request, "template_review.html", review=review, template_id=template_id, version=version,
                  diff=diff, channels=sorted(CHANNELS))


@page("template.show")
def preview_frame(request: Request) -> Response:
    """The template's HTML body with sample values, as its own document under a sandboxing CSP (no script runs,
    nothing loads); the console frames it in an `<iframe sandbox>` too."""
    template_id, version = _key(request)
    shown = console_of(request).service.show_template(request.state.actor.user, template_id, version).preview
    document = shown.html_body or f"<pre>{escape(shown.text_body)}</pre>"
    return HTMLResponse(document, headers={"Content-Security-Policy": PREVIEW_CSP, "X-Frame-Options": "SAMEORIGIN",
                                           "Cache-Control": "no-store"})


@page("template.approve")
def review_queue(request: Request) -> Response:
    service = console_of(request).service
    return render(request, "review_queue.html", waiting=service.review_queue(request.state.actor.user))


@page("template.approve")
def approve(request: Request) -> Response:
    form = form_of(request)
    template_id, version = _key(request)
    console_of(request).service.approve_template(request.state.actor.user, template_id, version,
                                                 acknowledged=form.getlist("ack"))
    return redirect(f"/templates/{template_id}/{version}")


@page("template.reject")
def reject(request: Request) -> Response:
    template_id, version = _key(request)
    console_of(request).service.reject_template(request.state.actor.user, template_id, version,
                                                str(form_of(request).get("reason", "")))
    return redirect(f"/templates/{template_id}/{version}")


def _editor(request: Request, definition: dict, revising: bool) -> Response:
    return render(request, "template_edit.html", definition=definition, revising=revising,
                  channels=sorted(CHANNELS), product_types=sorted(PRODUCT_TYPES), risk_grades=RISK_GRADES)


def _key(request: Request) -> tuple[str, int]:
    try:
        return request.path_params["template_id"], int(request.path_params["version"])
    except ValueError:
        raise ApprovalError(f"template version must be a whole number, got {request.path_params['version']!r}") from None

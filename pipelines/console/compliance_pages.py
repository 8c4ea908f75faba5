"""Compliance pages: the audit trail with filters, the per-recipient lookup, and the admin's account list."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response

from pipelines.console.web import console_of, page, render


@page("audit.read")
def audit_trail(request: Request) -> Response:
    console = console_of(request)
    query = request.query_params
    zone = ZoneInfo(console.timezone)
    since = _day(query.get("since"), zone)
    until = _day(query.get("until"), zone)
    entries = console.service.audit_trail(
        request.state.actor.user, actor=query.get("actor") or None, action=query.get("action") or None,
        subject=query.get("subject") or None, since=since, until=until + timedelta(days=1) if until else None,
        limit=int(query.get("limit") or 200))
    return render(request, "audit.html", entries=entries, query=dict(query), zone=zone)


@page("recipient.explain")
def recipient_lookup(request: Request) -> Response:
    service = console_of(request).service
    user = request.state.actor.user
    user_id = (request.query_params.get("user_id") or "").strip()
    campaign_id = (request.query_params.get("campaign_id") or "").strip()
    explanation = service.explain_recipient(user, user_id, campaign_id) if user_id and campaign_id else None
    return render(request, "people.html", campaigns=service.campaigns(user), user_id=user_id, campaign_id=campaign_id,
                  explanation=explanation, zone=ZoneInfo(console_of(request).timezone))


@page("account.manage")
def account_list(request: Request) -> Response:
    return render(request, "accounts.html", accounts=console_of(request).service.list_accounts(request.state.actor.user))


def _day(text: str | None, zone: ZoneInfo) -> datetime | None:
    """The start of a local day given as YYYY-MM-DD (None when not given)."""
    if not text:
        return None
    try:
        return datetime.combine(date.fromisoformat(text), time(0), zone)
    except ValueError:
        raise ValueError(f"dates must be YYYY-MM-DD, got {text!r}") from None

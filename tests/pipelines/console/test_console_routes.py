"""Every route of the console with every role and without a session, against the table in docs/console.md; and
the security rules: CSRF, sessions after sign-out and expiry, sign-in throttling, maker-checker, headers."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from starlette.routing import Mount, Route

from campaigns.store.op_tables import audit_log
from pipelines.console.app import ROUTES
from pipelines.console.security import SESSION_COOKIE
from tests.pipelines.console.conftest import PASSWORD, ROLE_ACCOUNTS, csrf_of, form_fields, sign_in

DOC = Path(__file__).resolve().parents[3] / "docs" / "console.md"
ROLES = ("analyst", "marketer", "compliance", "admin")
PATH_SAMPLES = {"template_id": "wealth_welcome", "version": "1", "campaign_id": "matrix_campaign",
                "slug": "executive", "lang": "zh", "path": "console.css"}


def documented_matrix() -> dict[tuple[str, str], dict[str, str]]:
    rows = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 7 and cells[0] in ("GET", "POST"):
            rows[(cells[0], cells[1].strip("`"))] = dict(zip(("anonymous", *ROLES), cells[2:], strict=True))
    return rows


def app_routes() -> set[tuple[str, str]]:
    """(method, path) of every route, read from the router itself (HEAD answers as GET)."""
    found = set()
    for route in ROUTES:
        if isinstance(route, Mount):
            found.add(("GET", f"{route.path}/{{path}}"))
        elif isinstance(route, Route):
            found.update((method, route.path) for method in route.methods - {"HEAD"})
    return found


def test_every_route_is_in_the_documented_table():
    documented = set(documented_matrix())
    assert app_routes() - documented == set(), "routes missing from docs/console.md"
    assert documented - app_routes() == set(), "docs/console.md lists routes the app does not have"


def _url(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: PATH_SAMPLES[m.group(1)], path)


def _prepare(small_console) -> None:
    """A draft campaign for the campaign routes (saved by the marketer)."""
    marketer = small_console.signed_in("marketer")
    page = marketer.get("/campaigns/new")
    saved = marketer.post("/campaigns", data={
        "csrf_token": csrf_of(page.text), "campaign_id": "matrix_campaign", "name": "matrix",
        "template": "wealth_welcome@1", "purpose": "marketing", "holdout_pct": "10", "rfm_segment": ["Champions"]})
    assert saved.status_code == 303, saved.text


def test_every_route_with_every_role_answers_as_documented(small_console):
    _prepare(small_console)
    matrix = documented_matrix()
    # Sign-out ends the session, so it is asked last.
    routes = sorted(matrix, key=lambda route: route == ("POST", "/logout"))
    wrong = []
    answered = 0
    for who in ("anonymous", *ROLES):
        client = small_console.client() if who == "anonymous" else small_console.signed_in(who)
        token = csrf_of(client.get("/").text) if who != "anonymous" else ""
        for method, path in routes:
            expected = matrix[(method, path)][who]
            if method == "GET":
                answer = client.get(_url(path))
            else:
                data = {"csrf_token": token, "reason": "matrix", "user_name": "nobody", "password": "x"}
                if path == "/login":
                    data["csrf_token"] = csrf_of(client.get("/login").text)
                answer = client.post(_url(path), data=data)
            answered += 1
            to_login = answer.status_code == 303 and answer.headers["location"].startswith("/login")
            if expected == "login":
                ok = to_login
            elif expected == "403":
                ok = answer.status_code == 403
            else:
                ok = answer.status_code < 500 and answer.status_code != 403 and not (to_login and path != "/logout")
            if not ok:
                wrong.append(f"{who} {method} {path}: expected {expected}, got {answer.status_code} "
                             f"{answer.headers.get('location', '')}")
    assert wrong == []
    assert answered == len(matrix) * 5


def test_a_forbidden_page_is_refused_by_the_service_and_audited(small_console):
    client = small_console.signed_in("analyst")
    store = small_console.app.state.console.service.store
    with store.transaction() as conn:
        before = conn.execute(select(func.count()).select_from(audit_log)
                              .where(audit_log.c.action == "access.denied")).scalar_one()
    assert client.get("/review").status_code == 403
    with store.transaction() as conn:
        rows = conn.execute(select(audit_log.c.actor, audit_log.c.details_json)
                            .where(audit_log.c.action == "access.denied").order_by(audit_log.c.seq)).all()
    assert len(rows) == before + 1
    assert rows[-1].actor == "ann" and "template.approve" in rows[-1].details_json


def test_a_form_without_or_with_a_wrong_csrf_token_is_refused(small_console):
    client = small_console.signed_in("marketer")
    other = small_console.signed_in("admin")
    foreign_token = csrf_of(other.get("/").text)
    form = {"template_id": "csrf_probe", "version": "1", "jurisdiction": "CN", "channel": "sms",
            "message_class": "commercial", "product_type": "wealth_mgmt", "text_body": "x"}
    answers = {
        "missing": client.post("/templates", data=form).status_code,
        "wrong": client.post("/templates", data={**form, "csrf_token": "0" * 64}).status_code,
        "another session's": client.post("/templates", data={**form, "csrf_token": foreign_token}).status_code,
        "sign-in without": small_console.client().post("/login", data={"user_name": "mei",
                                                                       "password": PASSWORD}).status_code,
    }
    assert answers == {"missing": 403, "wrong": 403, "another session's": 403, "sign-in without": 403}
    listing = client.get("/templates").text
    assert "csrf_probe" not in listing
    with small_console.app.state.console.service.store.transaction() as conn:
        refused = conn.execute(select(func.count()).select_from(audit_log)
                               .where(audit_log.c.action == "console.csrf_refused")).scalar_one()
    assert refused == 4


def test_the_session_cookie_stops_working_after_sign_out(small_console):
    client = small_console.signed_in("marketer")
    cookie = client.cookies.get(SESSION_COOKIE)
    token = csrf_of(client.get("/").text)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303
    replay = small_console.client()
    replay.cookies.set(SESSION_COOKIE, cookie)
    answer = replay.get("/templates")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login")


def test_the_session_cookie_stops_working_after_expiry_and_idle_time(small_console):
    client = small_console.signed_in("marketer")
    assert client.get("/templates").status_code == 200
    small_console.clock.offset = timedelta(minutes=31)  # idle longer than FINGROWTH_CONSOLE_IDLE_MINUTES (30)
    idle = client.get("/templates")
    assert idle.status_code == 303 and idle.headers["location"].startswith("/login")
    small_console.clock.offset = timedelta()
    busy = small_console.signed_in("marketer")
    for minutes in range(0, 8 * 60 + 1, 25):  # active all day, never idle 30 minutes
        small_console.clock.offset = timedelta(minutes=minutes)
        assert busy.get("/").status_code == 200, f"signed out after {minutes} minutes"
    small_console.clock.offset = timedelta(hours=8, minutes=1)  # past FINGROWTH_CONSOLE_SESSION_HOURS (8)
    expired = busy.get("/")
    assert expired.status_code == 303 and expired.headers["location"].startswith("/login")


def test_a_forged_or_tampered_session_cookie_is_refused(small_console):
    client = small_console.signed_in("admin")
    cookie = client.cookies.get(SESSION_COOKIE)
    for forged in (cookie[:-2] + ("AA" if not cookie.endswith("AA") else "BB"), "not-a-session", ""):
        probe = small_console.client()
        probe.cookies.set(SESSION_COOKIE, forged)
        answer = probe.get("/accounts")
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login")


def test_sign_in_answers_alike_and_locks_an_account_after_five_failures(small_console):
    def attempt(name: str, password: str) -> int:
        client = small_console.client()
        page = client.get("/login")
        return client.post("/login", data={"csrf_token": csrf_of(page.text), "user_name": name,
                                           "password": password}).status_code

    assert attempt("nobody-here", "whatever") == 401
    assert [attempt("mei", "wrong password!") for _ in range(5)] == [401] * 5
    # Locked now: even the right password is refused, with the same answer.
    assert attempt("mei", PASSWORD) == 401
    small_console.clock.offset = timedelta(minutes=16)
    assert attempt("mei", PASSWORD) == 303


def test_many_failures_from_one_address_are_answered_429(small_console):
    client = small_console.client()
    statuses = []
    for number in range(22):
        page = client.get("/login")
        statuses.append(client.post("/login", data={"csrf_token": csrf_of(page.text), "user_name": f"guess{number}",
                                                    "password": "guess"}).status_code)
    assert statuses[:20] == [401] * 20 and statuses[20:] == [429, 429]


def test_the_author_cannot_approve_their_own_template_in_the_console(small_console):
    admin = small_console.signed_in("admin")
    page = admin.get("/templates/new")
    form = {"csrf_token": csrf_of(page.text), "revising": "0", "version": "1", "template_id": "own_work",
            "jurisdiction": "CN", "channel": "sms", "message_class": "commercial", "product_type": "wealth_mgmt",
            "risk_grade": "R2", "issuer": "示例理财有限责任公司", "sender_legal_name": "示例数字金融服务有限公司",
            "sender_contact": "客服电话 400-000-0000", "placeholders": "",
            "text_body": "【示例数字金融】一款R2理财产品现已开放。理财非存款、产品有风险、投资须谨慎。本短信由示例数字金融服务有限公司"
                         "发送，客服电话 400-000-0000。回复TD退订"}
    saved = admin.post("/templates", data=form)
    assert saved.status_code == 303 and saved.headers["location"] == "/templates/own_work/1"
    review = admin.get("/templates/own_work/1")
    assert "status-submitted" in review.text
    refused = admin.post("/templates/own_work/1/approve", data={"csrf_token": csrf_of(review.text)})
    assert refused.status_code == 403
    assert "maker-checker" in refused.text
    assert "status-submitted" in admin.get("/templates/own_work/1").text
    compliance = small_console.signed_in("compliance")
    page = compliance.get("/templates/own_work/1")
    assert compliance.post("/templates/own_work/1/approve", data={"csrf_token": csrf_of(page.text)}).status_code == 303
    assert "status-approved" in compliance.get("/templates/own_work/1").text


def test_a_disabled_account_loses_its_open_session(small_console):
    client = small_console.signed_in("marketer")
    assert client.get("/templates").status_code == 200
    small_console.app.state.console.service.disable_account(ROLE_ACCOUNTS["admin"], "mei")
    answer = client.get("/templates")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
    page = small_console.client().get("/login")
    assert small_console.client().post("/login", data={"csrf_token": csrf_of(page.text), "user_name": "mei",
                                                       "password": PASSWORD}).status_code == 403  # other client's nonce
    fresh = small_console.client()
    page = fresh.get("/login")
    assert fresh.post("/login", data={"csrf_token": csrf_of(page.text), "user_name": "mei",
                                      "password": PASSWORD}).status_code == 401


def test_healthz_needs_no_session_and_pages_carry_the_security_headers(small_console):
    client = small_console.client()
    health = client.get("/healthz")
    assert health.status_code == 200 and health.text == "ok"
    page = client.get("/login")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy
    assert page.headers["x-frame-options"] == "DENY" and page.headers["cache-control"] == "no-store"
    cookie = [value for name, value in page.headers.multi_items() if name == "set-cookie"]
    assert cookie and all("httponly" in c.lower() and "samesite=strict" in c.lower() for c in cookie)
    signed = sign_in(small_console.client(), "ann")
    preview = signed.get("/templates/wealth_welcome/1/preview")
    assert preview.headers["content-security-policy"].startswith("sandbox;")
    assert preview.headers["x-frame-options"] == "SAMEORIGIN"


def test_every_text_key_the_templates_use_exists_in_both_languages():
    from pipelines.console.i18n import TEXTS

    templates = (Path(__file__).resolve().parents[3] / "pipelines" / "console" / "templates").glob("*.html")
    used = {key for path in templates for key in re.findall(r"(?<![\w.])t\('([a-z_0-9]+)'[,)]", path.read_text("utf-8"))}
    missing = sorted(used - set(TEXTS))
    assert missing == []
    untranslated = sorted(key for key, (en, zh) in TEXTS.items() if not en or not zh or en == zh and "{" not in en)
    assert untranslated == []


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_pages_render_in_both_languages(small_console, lang):
    client = small_console.signed_in("compliance")
    client.get(f"/language/{lang}")
    page = client.get("/templates/wealth_welcome/1")
    assert page.status_code == 200
    assert ("审核" in page.text or "模板" in page.text) if lang == "zh" else "Lint findings" in page.text


def test_approval_needs_every_review_finding_acknowledged(small_console):
    marketer = small_console.signed_in("marketer")
    page = marketer.get("/templates/new")
    saved = marketer.post("/templates", data={
        "csrf_token": csrf_of(page.text), "revising": "0", "version": "1", "template_id": "deposit_probe",
        "jurisdiction": "CN", "channel": "sms", "message_class": "commercial", "product_type": "deposit",
        "risk_grade": "", "issuer": "示例银行股份有限公司", "sender_legal_name": "示例数字金融服务有限公司",
        "sender_contact": "客服电话 400-000-0000", "placeholders": "",
        "text_body": "【示例数字金融】示例银行三年期定期存款，保本，年利率以银行公布为准。本短信由示例数字金融服务有限公司发送，"
                     "客服电话 400-000-0000。回复TD退订"})
    assert saved.status_code == 303, saved.text
    compliance = small_console.signed_in("compliance")
    review = compliance.get("/templates/deposit_probe/1")
    assert "CN-AD-01-DEP.1" in review.text and 'name="ack" value="CN-AD-01-DEP.1"' in review.text
    token = csrf_of(review.text)
    refused = compliance.post("/templates/deposit_probe/1/approve", data={"csrf_token": token})
    assert refused.status_code == 400 and "CN-AD-01-DEP.1" in refused.text
    approved = compliance.post("/templates/deposit_probe/1/approve", data={"csrf_token": token,
                                                                          "ack": "CN-AD-01-DEP.1"})
    assert approved.status_code == 303
    assert "status-approved" in compliance.get("/templates/deposit_probe/1").text


def test_an_edit_files_a_new_version_and_the_diff_shows_the_change(small_console):
    marketer = small_console.signed_in("marketer")
    page = marketer.get("/templates/wealth_welcome/1/edit")
    assert 'readonly' in page.text
    data = form_fields(page.text, "template-form")
    assert data["revising"] == "1" and data["channel"] == "email" and data["is_personalized"] == "on"
    data["text_body"] = data["text_body"].replace("感谢您关注", "欢迎您关注")
    saved = marketer.post("/templates", data=data)
    assert saved.status_code == 303 and saved.headers["location"] == "/templates/wealth_welcome/2", saved.text
    shown = marketer.get("/templates/wealth_welcome/2").text
    assert "wealth_welcome@1 → wealth_welcome@2" in shown.replace("&gt;", ">")
    assert "+  欢迎您关注" in shown and "-  感谢您关注" in shown
    assert "status-approved" in marketer.get("/templates/wealth_welcome/1").text  # version 1 is untouched

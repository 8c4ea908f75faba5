"""Each role's journey in headless Chromium, through the real console server on 127.0.0.1 over a copy of the
session's sample warehouse, launching against the local SendGrid server and receiving signed provider events
through the real webhook receiver.

Screenshots go to the folder named by CONSOLE_SCREENSHOTS when it is set (for people to look at).
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import uvicorn
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.ui import Select, WebDriverWait

from pipelines.campaign_wiring import campaign_service
from pipelines.console.app import console_from_settings
from pipelines.webhook_server import make_server
from tests.campaigns.sendgrid_server import TEST_KEY, FakeSendGrid
from tests.dashboards.browser import headless_chromium, require_chromium
from tests.pipelines.campaign_warehouse import SHANGHAI, recent_send_at
from tests.pipelines.console.conftest import PASSWORD, add_accounts, console_settings, copy_sample

pytestmark = pytest.mark.browser
WAIT = 60


@dataclass
class Site:
    base_url: str
    sendgrid: FakeSendGrid
    webhook_url: str
    signing_key: ec.EllipticCurvePrivateKey
    app: object


class _Canary(BaseHTTPRequestHandler):
    """Counts every request: a template's script that ran would call it."""

    hits: list[str] = []

    def do_GET(self) -> None:
        _Canary.hits.append(self.path)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def site(sample_run, tmp_path_factory) -> Iterator[Site]:
    workdir = copy_sample(sample_run, tmp_path_factory.mktemp("console_site"))
    sendgrid = FakeSendGrid().start()
    key = ec.generate_private_key(ec.SECP256R1())
    public = base64.b64encode(key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).decode()
    settings = console_settings(workdir, sendgrid_api_key=TEST_KEY, sendgrid_host=sendgrid.base_url,
                                sendgrid_asm_group=101, sendgrid_batch_size=50, sendgrid_webhook_public_key=public)
    app = console_from_settings(settings)
    add_accounts(app)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the console server did not start"
    port = server.servers[0].sockets[0].getsockname()[1]
    webhook = make_server("127.0.0.1", 0, campaign_service(settings))
    threading.Thread(target=webhook.serve_forever, daemon=True).start()
    yield Site(f"http://127.0.0.1:{port}", sendgrid, f"{webhook.base_url}/sendgrid/events", key, app)
    webhook.shutdown()
    webhook.server_close()
    server.should_exit = True
    thread.join(timeout=10)
    sendgrid.stop()


@pytest.fixture(scope="module")
def browser(tmp_path_factory) -> Iterator[webdriver.Chrome]:
    try:
        require_chromium()
    except RuntimeError as error:
        pytest.fail(str(error), pytrace=False)
    os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
    with headless_chromium(tmp_path_factory.mktemp("console-chromium")) as driver:
        yield driver


def shot(driver: webdriver.Chrome, name: str) -> None:
    folder = os.environ.get("CONSOLE_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        height = driver.execute_script("return Math.min(document.body.scrollHeight + 40, 4000)")
        driver.set_window_size(1400, max(900, int(height)))
        driver.save_screenshot(str(Path(folder) / f"{name}.png"))
        driver.set_window_size(1400, 1000)


def open_page(driver: webdriver.Chrome, url: str) -> None:
    driver.get(url)
    WebDriverWait(driver, WAIT).until(lambda d: d.execute_script("return document.readyState") == "complete")


def sign_in_as(driver: webdriver.Chrome, site: Site, name: str, lang: str = "en") -> None:
    driver.delete_all_cookies()
    open_page(driver, f"{site.base_url}/language/{lang}?next=/login")
    driver.find_element(By.ID, "user_name").send_keys(name)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.ID, "sign-in").click()
    WebDriverWait(driver, WAIT).until(ready.presence_of_element_located((By.ID, "signed-in-as")))


def submit(driver: webdriver.Chrome, element_id: str, wait_for: str) -> None:
    driver.find_element(By.ID, element_id).click()
    WebDriverWait(driver, WAIT).until(ready.presence_of_element_located((By.ID, wait_for)))


def severe(driver: webdriver.Chrome) -> list[str]:
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def test_marketer_drafts_compliance_approves_marketer_launches_and_results_appear(site, browser):
    driver = browser
    # The marketer drafts a template: saving submits it for review.
    sign_in_as(driver, site, "mei")
    shot(driver, "marketer-home-en")
    open_page(driver, f"{site.base_url}/templates/new")
    driver.find_element(By.ID, "template_id").send_keys("console_welcome")
    shot(driver, "marketer-template-new-en")
    submit(driver, "save-template", "template-status")
    assert driver.current_url.endswith("/templates/console_welcome/1")
    assert "status-submitted" in driver.find_element(By.ID, "template-status").get_attribute("class")

    # …and a campaign from RFM segments, with a holdout, sent at a recent 10:00 in Shanghai.
    open_page(driver, f"{site.base_url}/campaigns/new")
    driver.find_element(By.ID, "campaign_id").send_keys("console_journey")
    driver.find_element(By.ID, "campaign_name").send_keys("控制台旅程")
    Select(driver.find_element(By.ID, "template")).select_by_value("console_welcome@1")
    for value in ("Champions", "Loyal", "Potential loyalist"):
        driver.find_element(By.CSS_SELECTOR, f"input[name=rfm_segment][value='{value}']").click()
    holdout = driver.find_element(By.ID, "holdout_pct")
    holdout.clear()
    holdout.send_keys("20")
    local = recent_send_at().astimezone(SHANGHAI)
    driver.execute_script("document.getElementById('send_at').value = arguments[0]", local.strftime("%Y-%m-%dT%H:%M"))
    shot(driver, "marketer-campaign-builder-en")
    submit(driver, "save-campaign", "draft-definition")

    # The audience preview names every rule and says the template is not approved yet.
    submit(driver, "preview-audience", "funnel")
    steps = [row.text for row in driver.find_elements(By.CSS_SELECTOR, "#funnel tbody tr")]
    assert any("CN-EM-01" in step for step in steps) and any("CN-PI-02" in step for step in steps)
    assert driver.find_elements(By.CSS_SELECTOR, ".unapproved")
    planned_send = int(driver.find_element(By.ID, "count-send").text)
    assert planned_send > 0
    shot(driver, "marketer-audience-preview-en")

    # The compliance officer reviews: preview, lint findings with rule names, then approves acknowledging REVIEW items.
    sign_in_as(driver, site, "chen", lang="zh")
    open_page(driver, f"{site.base_url}/review")
    assert "console_welcome@1" in driver.find_element(By.ID, "review-queue").text
    shot(driver, "compliance-review-queue-zh")
    driver.find_element(By.LINK_TEXT, "console_welcome@1").click()
    WebDriverWait(driver, WAIT).until(ready.presence_of_element_located((By.ID, "approve-form")))
    assert "理财非存款" in driver.find_element(By.ID, "preview-text").text
    shot(driver, "compliance-template-review-zh")
    for box in driver.find_elements(By.CSS_SELECTOR, "input.ack"):
        box.click()
    submit(driver, "approve", "template-status")
    assert "status-approved" in driver.find_element(By.ID, "template-status").get_attribute("class")

    # The marketer launches: a dry run first, then live with the campaign id typed.
    sign_in_as(driver, site, "mei")
    open_page(driver, f"{site.base_url}/campaigns/console_journey")
    assert not driver.find_element(By.ID, "mode-live").is_enabled()  # no dry run yet
    submit(driver, "launch", "launch-outcome")
    assert site.sendgrid.accepted_count() == 0
    to_send = int(driver.find_element(By.ID, "to-send").text)
    assert to_send == planned_send
    open_page(driver, f"{site.base_url}/campaigns/console_journey")
    driver.find_element(By.ID, "mode-live").click()
    assert not driver.find_element(By.ID, "launch").is_enabled()  # until the id is typed
    driver.find_element(By.ID, "confirm").send_keys("console_journey")
    shot(driver, "marketer-launch-live-en")
    submit(driver, "launch", "launch-outcome")
    delivered = int(driver.find_element(By.ID, "delivered").text)
    assert delivered == to_send == len(site.sendgrid.recipients())
    shot(driver, "marketer-launched-en")

    # SendGrid reports deliveries, an open and a click through the signed webhook; results appear.
    events = []
    for accepted in site.sendgrid.accepted:
        for index, person in enumerate(accepted.body["personalizations"]):
            args = {**accepted.body["custom_args"], **person["custom_args"]}
            kinds = ["delivered"] + (["open", "click"] if index == 0 else [])
            events += [{"event": kind, "email": person["to"][0]["email"], "timestamp": int(time.time()),
                        "sg_event_id": f"{accepted.message_id}-{kind}-{index}",
                        "sg_message_id": f"{accepted.message_id}.filter0.{index}", **args} for kind in kinds]
    body = json.dumps(events).encode()
    stamp = str(int(time.time()))
    signature = base64.b64encode(site.signing_key.sign(stamp.encode() + body, ec.ECDSA(hashes.SHA256()))).decode()
    request = urllib.request.Request(site.webhook_url, data=body, method="POST", headers={
        "X-Twilio-Email-Event-Webhook-Signature": signature, "X-Twilio-Email-Event-Webhook-Timestamp": stamp,
        "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        assert answer.status == 200
    open_page(driver, f"{site.base_url}/campaigns/console_journey")
    assert int(driver.find_element(By.ID, "event-delivered").text) == delivered
    assert int(driver.find_element(By.ID, "event-open").text) == len(site.sendgrid.accepted)
    assert int(driver.find_element(By.ID, "event-click").text) == len(site.sendgrid.accepted)
    assert int(driver.find_element(By.ID, "decided-send").text) == delivered
    states = {row.find_elements(By.TAG_NAME, "td")[2].text for row in
              driver.find_elements(By.CSS_SELECTOR, "#batch-table tbody tr")}
    assert states == {"accepted"}
    assert driver.find_elements(By.ID, "lift-value"), "the holdout lift is shown"
    shot(driver, "marketer-campaign-results-en")
    assert severe(driver) == []

    # Compliance asks why a person was (not) sent: rules with reasons, consent, batch, events; contact shown.
    sent_to = site.sendgrid.accepted[0].body["personalizations"][0]["custom_args"]["member_ref"]
    sign_in_as(driver, site, "chen")
    open_page(driver, f"{site.base_url}/people?user_id={sent_to}&campaign_id=console_journey")
    assert "status-sent" in driver.find_element(By.ID, "outcome").get_attribute("class")
    assert "@" in driver.find_element(By.ID, "contact").text and "***" not in driver.find_element(By.ID, "contact").text
    events_text = driver.find_element(By.ID, "events").text
    assert "delivered" in events_text and "opened" in events_text
    shot(driver, "compliance-recipient-sent-en")
    open_page(driver, f"{site.base_url}/audit?action=template.")
    assert "template.approve" in driver.find_element(By.ID, "audit-table").text
    shot(driver, "compliance-audit-en")

    # The marketer may look a person up too, but sees the contact masked.
    sign_in_as(driver, site, "mei", lang="zh")
    open_page(driver, f"{site.base_url}/people?user_id={sent_to}&campaign_id=console_journey")
    assert "***" in driver.find_element(By.ID, "contact").text
    shot(driver, "marketer-recipient-masked-zh")


def test_an_excluded_person_is_explained_rule_by_rule(site, browser):
    service = site.app.state.console.service
    with service.store.transaction() as conn:
        from sqlalchemy import text

        row = conn.execute(text("SELECT d.user_id, d.reason_codes FROM plan_decisions d JOIN plans p USING (plan_id) "
                                "WHERE p.campaign_id = 'console_journey' AND d.decision = 'excluded' "
                                "ORDER BY p.planned_at DESC, d.user_id LIMIT 1")).first()
    assert row is not None, "the journey's launch excluded somebody"
    sign_in_as(browser, site, "chen", lang="zh")
    open_page(browser, f"{site.base_url}/people?user_id={row.user_id}&campaign_id=console_journey")
    assert "status-excluded" in browser.find_element(By.ID, "outcome").get_attribute("class")
    failed = [r.text for r in browser.find_elements(By.CSS_SELECTOR, "#rule-outcomes tr.fail")]
    passed = browser.find_elements(By.CSS_SELECTOR, "#rule-outcomes tr.pass")
    first_rule = row.reason_codes.split(",")[0].split(":")[0]
    assert any(first_rule in line and "未通过" in line for line in failed)
    assert passed, "the rules the person passed are listed too"
    shot(browser, "compliance-recipient-excluded-zh")


# Frames with an opaque origin run in their own renderer, whose console Chromium's browser log leaves out; in one
# process, the frame's "Blocked script execution … sandboxed" messages reach the log the test reads.
IN_PROCESS_FRAMES = ("--disable-site-isolation-trials", "--disable-features=IsolateOrigins,site-per-process")


@pytest.fixture
def frame_logging_browser(tmp_path) -> Iterator[webdriver.Chrome]:
    with headless_chromium(tmp_path / "profile", IN_PROCESS_FRAMES) as driver:
        yield driver


def test_a_template_with_script_runs_nothing_in_the_preview(site, frame_logging_browser):
    browser = frame_logging_browser
    canary = ThreadingHTTPServer(("127.0.0.1", 0), _Canary)
    threading.Thread(target=canary.serve_forever, daemon=True).start()
    hook = f"http://127.0.0.1:{canary.server_address[1]}"
    _Canary.hits.clear()
    payload = (f"<p id='payload'>hello</p><script>fetch('{hook}/script'); parent.document.title='PWNED';"
               f"document.body.setAttribute('data-ran','1')</script>"
               f"<img src='{hook}/image' onerror=\"fetch('{hook}/onerror'); parent.document.title='PWNED'\">"
               f"<img src=x onerror=\"document.body.setAttribute('data-ran','1')\">"
               "<p>理财非存款、产品有风险、投资须谨慎。<a href='{{unsubscribe_url}}'>退订</a></p>")
    try:
        sign_in_as(browser, site, "mei")
        open_page(browser, f"{site.base_url}/templates/new")
        browser.find_element(By.ID, "template_id").send_keys("script_probe")
        subject = browser.find_element(By.ID, "subject")
        subject.clear()
        subject.send_keys("【广告】<script>alert(1)</script>")
        html = browser.find_element(By.ID, "html_body")
        html.clear()
        browser.execute_script("arguments[0].value = arguments[1]", html, payload)
        submit(browser, "save-template", "template-status")
        sign_in_as(browser, site, "chen")
        browser.get_log("browser")
        open_page(browser, f"{site.base_url}/templates/script_probe/1")
        frame = browser.find_element(By.ID, "preview-frame")
        browser.switch_to.frame(frame)
        WebDriverWait(browser, WAIT).until(ready.presence_of_element_located((By.ID, "payload")))
        ran = browser.execute_script("return document.body.getAttribute('data-ran')")
        browser.switch_to.default_content()
        time.sleep(1)  # let any blocked request or console message arrive
        messages = [entry["message"] for entry in browser.get_log("browser")]
        title = browser.title
        subject_text = browser.find_element(By.ID, "preview-subject").text
        shot(browser, "compliance-script-probe-en")
    finally:
        canary.shutdown()
        canary.server_close()
    assert ran is None, "a script in the preview changed the frame"
    assert _Canary.hits == [], f"a script in the preview reached the network: {_Canary.hits}"
    assert "PWNED" not in title
    assert "<script>alert(1)</script>" in subject_text  # shown as text, not markup
    blocked = [m for m in messages if "Blocked script execution" in m and "allow-scripts" in m]
    assert len(blocked) >= 2, f"the browser's console does not show the blocked scripts: {messages}"
    refused_loads = [m for m in messages if "Content Security Policy" in m and hook in m]
    assert refused_loads, f"the console does not show the refused remote image: {messages}"


def test_analyst_reads_dashboards_with_a_date_range_and_segment(site, browser):
    sign_in_as(browser, site, "ann")
    open_page(browser, f"{site.base_url}/dashboards")
    shot(browser, "analyst-dashboards-en")
    open_page(browser, f"{site.base_url}/dashboards/growth")
    Select(browser.find_element(By.ID, "segment")).select_by_value("Champions")
    browser.execute_script("document.getElementById('date-from').value = '2025-01-01'")
    submit(browser, "apply-filters", "dashboard-frame")
    assert "segment=Champions" in browser.current_url
    frame = browser.find_element(By.ID, "dashboard-frame")
    browser.switch_to.frame(frame)
    WebDriverWait(browser, WAIT).until(lambda d: d.execute_script(
        "return document.querySelectorAll('.js-plotly-plot').length > 0"))
    plots = browser.execute_script("return document.querySelectorAll('.js-plotly-plot').length")
    browser.switch_to.default_content()
    assert plots > 0
    shot(browser, "analyst-growth-champions-en")
    browser.get_log("browser")
    open_page(browser, f"{site.base_url}/language/zh?next=/dashboards/executive")
    browser.switch_to.frame(browser.find_element(By.ID, "dashboard-frame"))
    WebDriverWait(browser, WAIT).until(lambda d: d.execute_script(
        "return document.querySelectorAll('.js-plotly-plot').length > 0"))
    browser.switch_to.default_content()
    shot(browser, "analyst-executive-zh")
    # The analyst may not review templates: the page says so and the server refused it.
    open_page(browser, f"{site.base_url}/review")
    assert browser.find_element(By.ID, "refused-status").text == "无权操作"
    shot(browser, "analyst-review-refused-zh")

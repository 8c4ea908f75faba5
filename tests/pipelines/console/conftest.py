"""Fixtures of the console tests: a console over a small hand-built warehouse (route and security tests, through
Starlette's TestClient), and one real console server over the session's sample warehouse for the browser tests."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from pipelines.console.app import console_from_settings
from pipelines.settings import Settings
from tests.pipelines.campaign_warehouse import build_warehouse

PASSWORD = "correct horse battery staple"
ROLE_ACCOUNTS = {"analyst": "ann", "marketer": "mei", "compliance": "chen", "admin": "ada"}
SECRET = "s" * 40


@dataclass
class MovableClock:
    """The service's clock: real time plus an offset a test can move forward."""

    offset: timedelta = field(default_factory=timedelta)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


def console_settings(workdir: Path, **overrides) -> Settings:
    return Settings.from_env({}, warehouse=workdir / "w.duckdb", roles=workdir / "no-roles.yaml",
                             console_secret=SECRET, **overrides)


def add_accounts(app: Starlette) -> None:
    service = app.state.console.service
    service.add_account(None, ROLE_ACCOUNTS["admin"], "admin", PASSWORD)
    for role, name in ROLE_ACCOUNTS.items():
        if role != "admin":
            service.add_account(ROLE_ACCOUNTS["admin"], name, role, PASSWORD)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]*)"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def sign_in(client: TestClient, name: str, password: str = PASSWORD) -> TestClient:
    page = client.get("/login")
    answer = client.post("/login", data={"csrf_token": csrf_of(page.text), "user_name": name, "password": password,
                                         "next": "/"})
    assert answer.status_code == 303, answer.text
    return client


@dataclass
class SmallConsole:
    workdir: Path
    app: Starlette
    clock: MovableClock

    def client(self) -> TestClient:
        return TestClient(self.app, follow_redirects=False)

    def signed_in(self, role: str) -> TestClient:
        return sign_in(self.client(), ROLE_ACCOUNTS[role])


@pytest.fixture
def small_console(tmp_path) -> Iterator[SmallConsole]:
    """A console over the hand-built 30-person warehouse with one account per role; wealth_welcome@1 approved."""
    build_warehouse(tmp_path / "w.duckdb")
    clock = MovableClock()
    app = console_from_settings(console_settings(tmp_path), clock=clock)
    add_accounts(app)
    yield SmallConsole(tmp_path, app, clock)
    app.state.console.service.store.dispose()


@pytest.fixture(scope="module")
def small_console_module(tmp_path_factory) -> Iterator[SmallConsole]:
    """As `small_console`, shared by a module whose tests only read or add their own rows."""
    workdir = tmp_path_factory.mktemp("console_small")
    build_warehouse(workdir / "w.duckdb")
    clock = MovableClock()
    app = console_from_settings(console_settings(workdir), clock=clock)
    add_accounts(app)
    yield SmallConsole(workdir, app, clock)
    app.state.console.service.store.dispose()


def copy_sample(sample_run, target: Path) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(sample_run.warehouse, target / "w.duckdb")
    return target


def form_fields(html: str, form_id: str) -> dict[str, str]:
    """The values a browser would post for a form: inputs, checked boxes, textareas, selected options."""
    from html.parser import HTMLParser

    class Reader(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.inside = False
            self.fields: dict[str, str] = {}
            self.textarea: str | None = None
            self.select: str | None = None

        def handle_starttag(self, tag, attrs):
            attributes = dict(attrs)
            if tag == "form":
                self.inside = attributes.get("id") == form_id
            if not self.inside:
                return
            name = attributes.get("name")
            if tag == "input" and name:
                if attributes.get("type") in ("checkbox", "radio"):
                    if "checked" in attributes:
                        self.fields[name] = attributes.get("value", "on")
                else:
                    self.fields[name] = attributes.get("value", "")
            elif tag == "textarea" and name:
                self.textarea, self.fields[name] = name, ""
            elif tag == "select" and name:
                self.select = name
            elif tag == "option" and self.select and "selected" in attributes:
                self.fields[self.select] = attributes.get("value", "")

        def handle_endtag(self, tag):
            if tag == "form":
                self.inside = False
            elif tag == "textarea":
                self.textarea = None
            elif tag == "select":
                self.select = None

        def handle_data(self, data):
            if self.textarea:
                self.fields[self.textarea] += data

    reader = Reader()
    reader.feed(html)
    return reader.fields

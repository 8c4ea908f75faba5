"""`fingrowth user add|disable|list` and `fingrowth console` through the real command line."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.pipelines.campaign_warehouse import build_warehouse

PASSWORD = "correct horse battery staple"


def _env(workdir: Path, user: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FINGROWTH_", "SENDGRID_"))}
    env.update(FINGROWTH_WAREHOUSE=str(workdir / "w.duckdb"), FINGROWTH_ROLES=str(workdir / "roles.yaml"),
               NO_PROXY="127.0.0.1,localhost")
    if user:
        env["FINGROWTH_USER"] = user
    return env


def _cli(workdir: Path, *args: str, user: str | None = None, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipelines.cli", *args], cwd=workdir, env=_env(workdir, user),
                          input=stdin, capture_output=True, text=True, timeout=120, check=False)


def test_accounts_are_added_listed_and_disabled_by_an_admin(tmp_path):
    build_warehouse(tmp_path / "w.duckdb", approve=False)
    (tmp_path / "roles.yaml").write_text("users:\n  ann: analyst\n", encoding="utf-8")
    first_not_admin = _cli(tmp_path, "user", "add", "mei", "--role", "marketer", stdin=PASSWORD + "\n")
    assert first_not_admin.returncode == 4, first_not_admin.stderr
    first = _cli(tmp_path, "user", "add", "ada", "--role", "admin", stdin=PASSWORD + "\n")
    assert first.returncode == 0 and "ada (admin) added" in first.stdout, first.stderr
    by_analyst = _cli(tmp_path, "user", "add", "mei", "--role", "marketer", user="ann", stdin=PASSWORD + "\n")
    assert by_analyst.returncode == 4 and "may not account.manage" in by_analyst.stderr
    short = _cli(tmp_path, "user", "add", "mei", "--role", "marketer", user="ada", stdin="short\n")
    assert short.returncode == 1 and "at least 12" in short.stderr
    added = _cli(tmp_path, "user", "add", "mei", "--role", "marketer", user="ada", stdin=PASSWORD + "\n")
    assert added.returncode == 0, added.stderr
    disabled = _cli(tmp_path, "user", "disable", "mei", user="ada")
    assert disabled.returncode == 0, disabled.stderr
    listing = _cli(tmp_path, "user", "list", user="ada")
    assert listing.returncode == 0
    assert [line.split() for line in listing.stdout.splitlines()[1:]] == [["ada", "admin", "active"],
                                                                          ["mei", "marketer", "disabled"]]
    assert PASSWORD not in listing.stdout + added.stdout + added.stderr


def test_the_console_serves_healthz_without_a_session_and_redirects_the_rest(tmp_path):
    build_warehouse(tmp_path / "w.duckdb", approve=False)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "pipelines.cli", "console", "--port", str(port)], cwd=tmp_path,
                              env=_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:
                    assert answer.status == 200 and answer.read() == b"ok"
                    break
            except OSError:
                assert server.poll() is None, server.stderr.read()
                assert time.monotonic() < deadline, "the console did not answer within 60 s"
                time.sleep(0.2)

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None

        opener = urllib.request.build_opener(NoRedirect)
        try:
            opener.open(f"http://127.0.0.1:{port}/campaigns", timeout=5)
            raise AssertionError("/campaigns answered without a session")
        except urllib.error.HTTPError as redirect:
            assert redirect.code == 303 and redirect.headers["Location"].startswith("/login")
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=20)
    assert "FINGROWTH_CONSOLE_SECRET is not set" in stderr

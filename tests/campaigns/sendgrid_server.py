"""A local SendGrid v3 /mail/send server for tests (standard library only, 127.0.0.1, ephemeral port).

It enforces the contract in the compliance reference (B.3, B.6): auth, required fields, the 1,000
personalization and recipient limits, string-only custom_args, size limits (413), sender identity (403),
and answers 202 with an X-Message-Id. Scripted faults: 429 with rate-limit headers, any status, slow
answers, "accepted then connection dropped", and "accepted then hang" (for killing the client mid-call).
Every accepted request is recorded with its recipients.

Run standalone (`python -m tests.campaigns.sendgrid_server`) to serve until interrupted, e.g. for the
launch benchmark.
"""

from __future__ import annotations

import json
import re
import secrets
import socket
import string
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TEST_KEY = "SG.test.fake-key-for-local-server"
_REAL_KEY = re.compile(r"^SG\.[\w-]{22}\.[\w-]{43}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_TEMPLATE_ID = re.compile(r"^d-[0-9a-f]{32}$")
_RESERVED_HEADERS = {"x-sg-id", "x-sg-eid", "received", "dkim-signature", "content-type", "content-transfer-encoding",
                     "to", "from", "subject", "reply-to", "cc", "bcc"}
_PII = [re.compile(p) for p in (r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}", r"\b\d{17}[\dXx]\b", r"\b\d{16,19}\b", r"\b1\d{10}\b")]


@dataclass
class Accepted:
    message_id: str
    body: dict[str, Any]
    recipients: list[str]
    headers: dict[str, str]


@dataclass
class FakeSendGrid:
    """The server's state; start() binds it, stop() releases every thread."""

    verified_senders: tuple[str, ...] = ("marketing@example.com",)
    asm_groups: tuple[int, ...] = (101, 102)
    max_bytes: int = 30 * 1024 * 1024
    # Project policy (off in the real API): one recipient per personalization, no address twice in a
    # request, an unsubscribe group on every send, no PII in custom_args or categories.
    policy: bool = True
    accepted: list[Accepted] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)
    real_key_seen: bool = False
    faults: deque = field(default_factory=deque)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None

    # -- control --------------------------------------------------------------------------------
    def start(self) -> FakeSendGrid:
        state = self

        class Handler(_Handler):
            fake = state

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def script(self, *outcomes: tuple) -> None:
        """Queue faults for the next /mail/send requests, in order.

        Outcomes: ("pass",) (answer normally), ("status", code[, body]), ("rate_limit", reset_in_seconds), ("delay", seconds),
        ("drop_after_accept",), ("hang_after_accept",).
        """
        with self._lock:
            self.faults.extend(outcomes)

    def recipients(self) -> list[str]:
        with self._lock:
            return [r for a in self.accepted for r in a.recipients]

    def accepted_count(self) -> int:
        with self._lock:
            return len(self.accepted)

    # -- request handling ---------------------------------------------------------------------------
    def _next_fault(self) -> tuple | None:
        with self._lock:
            return self.faults.popleft() if self.faults else None

    def _record(self, body: dict[str, Any], headers: dict[str, str]) -> str:
        message_id = "".join(secrets.choice(string.ascii_letters + string.digits + "-_") for _ in range(22))
        recipients = [r["email"].lower() for p in body["personalizations"]
                      for kind in ("to", "cc", "bcc") for r in p.get(kind, [])]
        with self._lock:
            self.accepted.append(Accepted(message_id, body, recipients, headers))
        return message_id


class _Handler(BaseHTTPRequestHandler):
    fake: FakeSendGrid
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:
        self._reply(405 if self.path.startswith("/v3/mail/send") else 404, _errors(None, "not found or method not allowed"))

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if self.path.rstrip("/") != "/v3/mail/send":
            return self._reply(404, _errors(None, "not found"))
        auth = self.headers.get("Authorization", "")
        key = auth[len("Bearer "):] if auth.startswith("Bearer ") else ""
        if _REAL_KEY.match(key):
            self.fake.real_key_seen = True
        if not key.startswith("SG.test"):
            return self._reply(401, _errors(None, "The provided authorization grant is invalid, expired, or revoked"))
        fault = self.fake._next_fault()
        if fault and fault[0] == "status":
            return self._reply(fault[1], fault[2] if len(fault) > 2 else _errors(None, f"scripted {fault[1]}"))
        if fault and fault[0] == "rate_limit":
            reset = int(time.time() + fault[1])
            return self._reply(429, _errors(None, "too many requests"), {
                "X-RateLimit-Limit": "600", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)})
        if fault and fault[0] == "delay":
            time.sleep(fault[1])
        if len(raw) > self.fake.max_bytes:
            return self._reply(413, _errors(None, "The JSON payload you have included in your request is too large."))
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            return self._reply(400, _errors(None, "Bad Request"))
        status, problem = _validate(body, self.fake)
        if status != 202:
            self.fake.rejected.append((status, problem[1]))
            return self._reply(status, _errors(*problem))
        sandbox = body.get("mail_settings", {}).get("sandbox_mode", {}).get("enable") is True
        if sandbox:
            return self._reply(200, b"")
        message_id = self.fake._record(body, {k: v for k, v in self.headers.items() if k.lower() != "authorization"})
        if fault and fault[0] == "drop_after_accept":
            return self._drop()
        if fault and fault[0] == "hang_after_accept":
            self.fake._stopping.wait()
            return self._drop()
        self._reply(202, b"", {"X-Message-Id": message_id})

    def _drop(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _reply(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if body:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)


def _errors(field_name: str | None, message: str) -> bytes:
    return json.dumps({"errors": [{"field": field_name, "message": message, "help": None}]}).encode()


def _validate(body: Any, fake: FakeSendGrid) -> tuple[int, tuple[str | None, str]]:
    """(status, (field, message)) as the real API would answer; 202 when the request is acceptable."""
    if not isinstance(body, dict):
        return 400, (None, "Bad Request")
    p13ns = body.get("personalizations")
    if not isinstance(p13ns, list) or not p13ns:
        return 400, ("personalizations", "The personalizations field is required and must have at least one personalization.")
    if len(p13ns) > 1000:
        return 400, ("personalizations", "The personalizations field is limited to 1000 personalizations per request.")
    total = 0
    seen_in_request: set[str] = set()
    for index, p in enumerate(p13ns):
        where = f"personalizations.{index}"
        if not isinstance(p, dict) or not isinstance(p.get("to"), list) or not p["to"]:
            return 400, (f"{where}.to", "The to array is required for all personalization objects, and must have at least one email object with a valid email address.")
        in_p: set[str] = set()
        for kind in ("to", "cc", "bcc"):
            for r in p.get(kind, []) or []:
                email = r.get("email") if isinstance(r, dict) else None
                if not isinstance(email, str) or not _EMAIL.match(email):
                    return 400, (f"{where}.{kind}", "Does not contain a valid address.")
                if email.lower() in in_p:
                    return 400, (where, "Each email address in the personalization block should be unique between to, cc, and bcc.")
                in_p.add(email.lower())
                total += 1
        if fake.policy:
            if len(in_p) != 1:
                return 400, (where, "policy: exactly one recipient per personalization")
            if in_p & seen_in_request:
                return 400, (where, "policy: an address appears in two personalizations")
            seen_in_request |= in_p
        problem = _check_strings(p.get("custom_args"), f"{where}.custom_args", fake.policy)
        if problem:
            return 400, problem
        problem = _check_strings(p.get("substitutions"), f"{where}.substitutions", False)
        if problem:
            return 400, problem
        if body.get("template_id") and p.get("substitutions"):
            return 400, (f"{where}.substitutions", "Substitutions may not be used with dynamic templating")
        if "send_at" in p and not _valid_send_at(p["send_at"]):
            return 400, (f"{where}.send_at", "send_at must be a unix timestamp at most 72 hours ahead")
    if total > 1000:
        return 400, ("personalizations", "The total number of recipients must be less than or equal to 1000.")
    sender = body.get("from")
    if not isinstance(sender, dict) or not isinstance(sender.get("email"), str) or not _EMAIL.match(sender["email"]):
        return 400, ("from.email", "The from object must be provided for every email send. It is an object that requires the email parameter, but may also contain a name parameter.")
    if sender["email"].lower() not in {s.lower() for s in fake.verified_senders}:
        return 403, ("from", "The from address does not match a verified Sender Identity.")
    template_id = body.get("template_id")
    if template_id is not None:
        if not isinstance(template_id, str) or not _TEMPLATE_ID.match(template_id):
            return 400, ("template_id", "The template_id must be a valid GUID")
    else:
        if not (isinstance(body.get("subject"), str) and body["subject"]) and not all(
                isinstance(p.get("subject"), str) and p["subject"] for p in p13ns):
            return 400, ("subject", "The subject is required. You can get around this requirement if you use a template with a subject defined or if every personalization has a subject defined.")
        content = body.get("content")
        if not isinstance(content, list) or not content or not all(
                isinstance(c, dict) and isinstance(c.get("value"), str) and c["value"] and isinstance(c.get("type"), str)
                for c in content):
            return 400, ("content", "Unless a valid template_id is provided, the content parameter is required. There must be at least one defined content block. We typically suggest both text/plain and text/html blocks are included, but only one block is required.")
        types = [c["type"] for c in content]
        if "text/plain" in types and types.index("text/plain") != 0:
            return 400, ("content", "If present, text/plain content must be first, followed by any other content.")
    problem = _check_strings(body.get("custom_args"), "custom_args", fake.policy)
    if problem:
        return 400, problem
    categories = body.get("categories")
    if categories is not None:
        if (not isinstance(categories, list) or len(categories) > 10 or len(set(map(str, categories))) != len(categories)
                or not all(isinstance(c, str) and len(c) <= 255 for c in categories)):
            return 400, ("categories", "Categories must be unique strings of at most 255 characters, at most 10")
        if fake.policy and any(p.search(c) for c in categories for p in _PII):
            return 400, ("categories", "policy: categories carry personal data")
    if "send_at" in body and not _valid_send_at(body["send_at"]):
        return 400, ("send_at", "send_at must be a unix timestamp at most 72 hours ahead")
    asm = body.get("asm")
    if asm is not None:
        if not isinstance(asm, dict) or not isinstance(asm.get("group_id"), int) or isinstance(asm.get("group_id"), bool):
            return 400, ("asm.group_id", "The asm group_id must be an integer")
        if asm["group_id"] not in fake.asm_groups:
            return 400, ("asm.group_id", "The asm group_id does not exist")
        if len(asm.get("groups_to_display", [])) > 25:
            return 400, ("asm.groups_to_display", "groups_to_display is limited to 25 groups")
    elif fake.policy:
        return 400, ("asm", "policy: marketing sends need an unsubscribe group")
    if "reply_to" in body and "reply_to_list" in body:
        return 400, ("reply_to", "reply_to and reply_to_list are mutually exclusive")
    headers = body.get("headers") or {}
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        return 400, ("headers", "Header values must be strings")
    if any(h.lower() in _RESERVED_HEADERS for h in headers):
        return 400, ("headers", "A reserved header cannot be set")
    sandbox = body.get("mail_settings", {}).get("sandbox_mode", {})
    if "enable" in sandbox and not isinstance(sandbox["enable"], bool):
        return 400, ("mail_settings.sandbox_mode.enable", "Invalid type. Expected: boolean")
    return 202, (None, "")


def _check_strings(value: Any, where: str, policy: bool) -> tuple[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        return where, f"Invalid type. Expected: object, given: {type(value).__name__}."
    for key, item in value.items():
        if not isinstance(item, str):
            return f"{where}.{key}", "Invalid type. Expected: string"
    if len(json.dumps(value, ensure_ascii=False).encode()) > 10_000:
        return where, f"{where} may not exceed 10,000 bytes"
    if policy and where.endswith("custom_args") and any(p.search(v) for v in value.values() for p in _PII):
        return where, "policy: custom_args carry personal data"
    return None


def _valid_send_at(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value <= time.time() + 72 * 3600


if __name__ == "__main__":
    server = FakeSendGrid(policy=True).start()
    print(server.base_url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()

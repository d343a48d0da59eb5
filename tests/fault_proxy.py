"""A fault-injecting HTTP proxy for the live-audit tests, on 127.0.0.1 in front of a local AWS API.

It records every request on the wire (``service:Action``, retries included) and answers chosen
ones with a fault instead of the upstream answer:

======================  ==========================================================================
kind                    what the client gets
======================  ==========================================================================
``error``               an AWS error document (XML for the query protocols, JSON otherwise)
``status``              an HTTP status with a body that is no AWS document (text or HTML)
``garbage``             200 with a body that is neither XML nor JSON
``empty``               200 with an empty body
``html``                200 with an HTML page (a captive portal, a proxy's login page)
``truncated``           the upstream answer cut in half, its Content-Length promising all of it
``reset``               the connection closed with a TCP reset, no answer
``slow``                the upstream answer after ``delay`` seconds (longer than the read timeout)
``hang``                no answer at all until the proxy stops (a dead endpoint)
``ec2-denied-200``      200 whose body is EC2's UnauthorizedOperation document
``strip``               the upstream answer with every ``<field>`` element (or JSON key) removed
======================  ==========================================================================

Bounded: loopback only, request bodies up to 1 MiB, upstream answers up to 32 MiB, delays
interrupted when the proxy stops, at most ``MAX_CONNECTIONS`` connections at once.
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import struct
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

ACCOUNT = "123456789012"
MAX_REQUEST_BODY = 1 << 20
MAX_UPSTREAM_BODY = 32 << 20
MAX_CONNECTIONS = 64
UPSTREAM_TIMEOUT = 60.0
KINDS = (
    "error",
    "status",
    "garbage",
    "empty",
    "html",
    "truncated",
    "reset",
    "slow",
    "hang",
    "ec2-denied-200",
    "strip",
)


@dataclass
class Fault:
    """Answer matching requests with a fault: the first ``times`` of them (None: every one)."""

    kind: str = "error"
    status: int = 400
    code: str = ""
    message: str = ""
    operation: str | None = None  # "rds:DescribeDBClusters"; None: any
    times: int | None = None
    delay: float = 0.0  # slow: seconds before the answer
    field: str = ""  # strip: the element or key to remove
    region: str | None = None  # only requests signed for this region; None: any
    account: str | None = None  # only requests signed for this account (see FaultProxy.calls); None: any
    body: str | None = None  # only requests whose body holds this text (e.g. a RoleArn); None: any
    served: int = 0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}")


def error(
    status: int,
    code: str,
    message: str = "",
    operation: str | None = None,
    times: int | None = None,
    region: str | None = None,
    account: str | None = None,
) -> Fault:
    return Fault("error", status, code, message or code, operation, times, region=region, account=account)


def denied(
    operation: str,
    times: int | None = None,
    region: str | None = None,
    account: str | None = None,
    body: str | None = None,
) -> Fault:
    """AWS's answer when the caller lacks ``operation`` (EC2 and RDS spell it differently)."""
    code = "UnauthorizedOperation" if operation.startswith("ec2:") else "AccessDenied"
    if operation.startswith(("bedrock:", "secretsmanager:", "securityhub:")):
        code = "AccessDeniedException"
    message = f"User: arn:aws:iam::{account or ACCOUNT}:user/auditor is not authorized to perform: {operation}"
    return Fault("error", 403, code, message, operation, times, region=region, account=account, body=body)


@dataclass
class FaultProxy:
    """An HTTP proxy on 127.0.0.1 in front of ``upstream`` (the local AWS API)."""

    upstream: str
    faults: list[Fault] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)  # "service:Action" of every request, retries included
    injected: list[str] = field(default_factory=list)  # "service:Action 400 Throttling" or "service:Action reset"
    # (account, region, "service:Action") of every request: the account of an access key is the one
    # of the role whose sts:AssumeRole answer gave it (the proxy reads those answers), else ACCOUNT.
    calls: list[tuple[str, str, str]] = field(default_factory=list)
    bodies: list[tuple[str, str]] = field(default_factory=list)  # ("service:Action", request body)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._key_accounts: dict[str, str] = {}
        self._stopping = threading.Event()
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self._server: ThreadingHTTPServer | None = None
        self.url = ""

    def add(self, fault: Fault) -> FaultProxy:
        with self._lock:
            self.faults.append(fault)
        return self

    def clear(self) -> None:
        with self._lock:
            self.faults.clear()
            self.seen.clear()
            self.injected.clear()
            self.calls.clear()
            self.bodies.clear()

    def account_of(self, headers: dict[str, str]) -> str:
        """The account a request is signed for: its access key's, as learnt from AssumeRole answers."""
        key = access_key_of(headers)
        with self._lock:
            return self._key_accounts.get(key, ACCOUNT)

    def _learn(self, request_body: bytes, answer: bytes) -> None:
        """After an sts:AssumeRole answer: its access key belongs to the account of the role assumed."""
        role = (parse_qs(request_body.decode("utf-8", "replace")).get("RoleArn") or [""])[0].split(":")
        key = re.search(rb"<AccessKeyId>([^<]+)</AccessKeyId>", answer)
        if len(role) > 4 and key:
            with self._lock:
                self._key_accounts[key.group(1).decode()] = role[4]

    def _fault_for(self, operation: str, region: str, account: str = ACCOUNT, body: bytes = b"") -> Fault | None:
        with self._lock:
            self.seen.append(operation)
            self.calls.append((account, region, operation))
            self.bodies.append((operation, body.decode("utf-8", "replace")))
            for fault in self.faults:
                if fault.operation not in (None, operation) or fault.region not in (None, region):
                    continue
                if fault.account not in (None, account):
                    continue
                if fault.body is not None and fault.body not in body.decode("utf-8", "replace"):
                    continue
                if fault.times is not None and fault.served >= fault.times:
                    continue
                fault.served += 1
                label = f"{fault.status} {fault.code}" if fault.kind == "error" else fault.kind
                self.injected.append(f"{operation} {label}")
                return fault
        return None

    def start(self) -> str:
        proxy = self
        target = urlparse(self.upstream)
        if target.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the fault proxy only fronts a loopback upstream")

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = UPSTREAM_TIMEOUT

            def log_message(self, *args: Any) -> None:
                pass

            def _relay(self) -> None:
                if not proxy._slots.acquire(timeout=UPSTREAM_TIMEOUT):
                    self.send_error(503)
                    return
                try:
                    self._handle()
                finally:
                    proxy._slots.release()

            def _handle(self) -> None:
                length = min(int(self.headers.get("Content-Length") or 0), MAX_REQUEST_BODY)
                body = self.rfile.read(length) if length else b""
                headers = dict(self.headers.items())
                operation = operation_of(headers, body, self.command, self.path)
                fault = proxy._fault_for(operation, region_of(headers), proxy.account_of(headers), body)
                kind = fault.kind if fault else None
                if fault is not None and kind in ("reset", "hang"):
                    if kind == "hang":
                        proxy._stopping.wait(UPSTREAM_TIMEOUT * 10)
                    self._reset()
                    return
                if fault is not None and kind not in ("slow", "truncated", "strip"):
                    status, ctype, payload = synthetic(operation, fault)
                    self._send(status, {"Content-Type": ctype}, payload)
                    return
                status, upstream_headers, data = self._upstream(target, body)
                if operation == "sts:AssumeRole" and status == 200:
                    proxy._learn(body, data)
                if fault is not None and kind == "slow" and proxy._stopping.wait(fault.delay):
                    self._reset()
                    return
                if fault is not None and kind == "strip":
                    data = strip_field(data, fault.field)
                if fault is not None and kind == "truncated":
                    self._send(status, upstream_headers, data[: len(data) // 2], length=len(data))
                    self.close_connection = True
                    return
                self._send(status, upstream_headers, data)

            def _upstream(self, target: Any, body: bytes) -> tuple[int, dict[str, str], bytes]:
                conn = http.client.HTTPConnection(target.hostname, target.port, timeout=UPSTREAM_TIMEOUT)
                try:
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                    conn.request(self.command, self.path, body=body, headers=headers)
                    resp = conn.getresponse()
                    data = resp.read(MAX_UPSTREAM_BODY)
                    keep = {
                        k: v
                        for k, v in resp.getheaders()
                        if k.lower() not in ("transfer-encoding", "connection", "content-length", "server", "date")
                    }
                    return resp.status, keep, data
                finally:
                    conn.close()

            def _send(self, status: int, headers: dict[str, str], data: bytes, length: int | None = None) -> None:
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data) if length is None else length))
                self.end_headers()
                self.wfile.write(data)
                self.wfile.flush()

            def _reset(self) -> None:
                # SO_LINGER with a zero timeout: close() sends a TCP reset instead of a FIN.
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.close_connection = True

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _relay

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            block_on_close = False

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client that gave up (read timeout) closes its end: nothing to report

        self._server = Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, name="fault-proxy", daemon=True).start()
        host, port = self._server.server_address[:2]
        self.url = f"http://{host}:{port}"
        return self.url

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FaultProxy:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --------------------------------------------------------------------------- #
# What a request is, and the answers the proxy makes up

_REST_JSON_ROUTES = (
    ("POST", re.compile(r"^/knowledgebases/?$"), "ListKnowledgeBases"),
    ("GET", re.compile(r"^/knowledgebases/[^/]+/?$"), "GetKnowledgeBase"),
    ("POST", re.compile(r"^/findings/import/?$"), "BatchImportFindings"),  # securityhub
    ("POST", re.compile(r"^/findings/?$"), "GetFindings"),
)


def operation_of(headers: dict[str, str], body: bytes, method: str, path: str) -> str:
    """``service:Action`` of a request: the service from the SigV4 scope, the action from the protocol."""
    lower = {k.lower(): v for k, v in headers.items()}
    auth = lower.get("authorization", "")
    service = "?"
    if "Credential=" in auth:
        scope = auth.split("Credential=", 1)[1].split(",", 1)[0].split("/")
        if len(scope) >= 4:
            service = scope[3]
    target = lower.get("x-amz-target")
    if target:  # the JSON protocol: "secretsmanager.DescribeSecret"
        return f"{service}:{target.rsplit('.', 1)[-1]}"
    url = urlparse(path)
    for verb, pattern, action in _REST_JSON_ROUTES:
        if method == verb and pattern.match(url.path):
            return f"{service}:{action}"
    content_type = lower.get("content-type", "")
    if body and "json" in content_type:
        return f"{service}:{method} {url.path}"
    params = parse_qs(body.decode("utf-8", "replace")) if body else parse_qs(url.query)
    action = (params.get("Action") or ["?"])[0]
    return f"{service}:{action}"


def access_key_of(headers: dict[str, str]) -> str:
    """The access key id a request is signed with (SigV4 credential scope), or "?"."""
    auth = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
    if "Credential=" in auth:
        return auth.split("Credential=", 1)[1].split("/", 1)[0]
    return "?"


def region_of(headers: dict[str, str]) -> str:
    """The region a request is signed for (SigV4 credential scope), or "?"."""
    auth = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
    if "Credential=" in auth:
        scope = auth.split("Credential=", 1)[1].split(",", 1)[0].split("/")
        if len(scope) >= 3:
            return scope[2]
    return "?"


def _json_service(operation: str) -> bool:
    return operation.startswith(("bedrock:", "secretsmanager:", "securityhub:", "organizations:"))


def synthetic(operation: str, fault: Fault) -> tuple[int, str, bytes]:
    """(status, content type, body) of a made-up answer."""
    request_id = str(uuid.uuid4())
    if fault.kind == "error":
        if _json_service(operation):
            doc = {"__type": fault.code, "message": fault.message}
            return fault.status, "application/json", json.dumps(doc).encode()
        if operation.startswith("ec2:"):
            return fault.status, "text/xml", _ec2_error(fault.code, fault.message, request_id)
        return fault.status, "text/xml", (
            '<ErrorResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/">'
            f"<Error><Type>Sender</Type><Code>{fault.code}</Code><Message>{fault.message}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        ).encode()
    if fault.kind == "status":
        return fault.status, "text/plain", (fault.message or "Service Unavailable").encode()
    if fault.kind == "garbage":
        return 200, "application/octet-stream", b"\x00\x9f garbage \xff{{<<not a document"
    if fault.kind == "empty":
        return 200, "text/xml", b""
    if fault.kind == "html":
        return 200, "text/html", b"<!DOCTYPE html><html><head><title>Sign in</title></head><body>Wi-Fi</body></html>"
    if fault.kind == "ec2-denied-200":
        message = f"You are not authorized to perform this operation ({operation})"
        return 200, "text/xml", _ec2_error("UnauthorizedOperation", message, request_id)
    raise ValueError(f"fault kind {fault.kind!r} has no synthetic answer")


def _ec2_error(code: str, message: str, request_id: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error>"
        f"</Errors><RequestID>{request_id}</RequestID></Response>"
    ).encode()


def strip_field(data: bytes, name: str) -> bytes:
    """``data`` without any ``<name>...</name>`` element (XML) or ``"name"`` key (JSON)."""
    stripped = data.lstrip()
    if stripped.startswith((b"{", b"[")):
        try:
            doc = json.loads(data)
        except ValueError:
            return data
        return json.dumps(_drop_key(doc, name)).encode()
    tag = re.escape(name.encode())
    pattern = rb"<" + tag + rb"(\s[^>]*)?>.*?</" + tag + rb">|<" + tag + rb"(\s[^>]*)?/>"
    return re.sub(pattern, b"", data, flags=re.DOTALL)


def _drop_key(doc: Any, name: str) -> Any:
    if isinstance(doc, dict):
        return {k: _drop_key(v, name) for k, v in doc.items() if k != name}
    if isinstance(doc, list):
        return [_drop_key(v, name) for v in doc]
    return doc

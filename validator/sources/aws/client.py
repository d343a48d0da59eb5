"""AWS plumbing for the live source: sessions, clients, retries, error translation.

Only read-only operations are ever sent; ``OPERATIONS`` lists every one the live
source can send (the shipped IAM policy must grant exactly these). boto3 is
imported lazily so the static path never loads it.
"""

from __future__ import annotations

import json
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from validator.errors import AccessDenied, InputError, UsageError

# Every operation the live source can send, as IAM action names.
# Without this one there is nothing to audit in a region: a refused or failed call
# leaves the region out (AV503 on the region; exit 3; one line when no region answered).
FATAL_OPERATIONS: tuple[str, ...] = ("rds:DescribeDBClusters",)
# Without these the audit goes on: the values they would give stay unknown
# (rules report them unresolved) and the refusal or failure is reported (AV503, exit 3).
DEGRADABLE_OPERATIONS: tuple[str, ...] = (
    "rds:DescribeDBInstances",
    "rds:DescribeDBSubnetGroups",
    "ec2:DescribeSecurityGroups",
)
# The knowledge bases that use the clusters (bedrock-agent; the IAM actions are "bedrock:")
# and whether their credentials secret exists (never its value: no GetSecretValue).
KNOWLEDGE_BASE_OPERATIONS: tuple[str, ...] = (
    "bedrock:ListKnowledgeBases",
    "bedrock:GetKnowledgeBase",
    "secretsmanager:DescribeSecret",
)
# Calls with a fallback: AWS's own engine support answer (else the facts table) and
# subnet Availability Zones when RDS leaves them out (else unknown).
OPTIONAL_OPERATIONS: tuple[str, ...] = ("rds:DescribeDBEngineVersions", "ec2:DescribeSubnets")
# The knowledge base's service role (validator.sources.aws.iam), for AV204.
ROLE_OPERATIONS: tuple[str, ...] = (
    "iam:GetRole",
    "iam:ListRolePolicies",
    "iam:GetRolePolicy",
    "iam:ListAttachedRolePolicies",
    "iam:GetPolicy",
    "iam:GetPolicyVersion",
)
# Many accounts (validator.sources.aws.accounts): the organization's member accounts, and the
# role assumed in each. AssumeRole is the one call that is no Describe/List/Get: it changes
# nothing in an account, it only returns temporary credentials for the audit's reads.
ACCOUNT_OPERATIONS: tuple[str, ...] = ("organizations:ListAccounts", "sts:AssumeRole")
ASSUME_OPERATIONS: frozenset[str] = frozenset({"sts:AssumeRole"})
# What the role assumed in a member account must grant: every read, none of the account calls.
MEMBER_OPERATIONS: frozenset[str] = frozenset(
    FATAL_OPERATIONS + DEGRADABLE_OPERATIONS + KNOWLEDGE_BASE_OPERATIONS + OPTIONAL_OPERATIONS
    + ROLE_OPERATIONS
)
OPERATIONS: frozenset[str] = MEMBER_OPERATIONS | frozenset(ACCOUNT_OPERATIONS)
READ_ONLY_PREFIXES = ("Describe", "List", "Get")

DENIED_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "AuthorizationError",
        "UnauthorizedAccess",
    }
)
CREDENTIAL_CODES = frozenset(
    {
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "SignatureDoesNotMatch",
        "AuthFailure",
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidAccessKeyId",
        "IncompleteSignature",
    }
)
DEFAULT_MAX_ATTEMPTS = 6
DEFAULT_CONNECT_TIMEOUT = 3.0
DEFAULT_READ_TIMEOUT = 10.0
# The ceiling on one call, its retries included: no attempt starts that could end after it,
# so an endpoint that never answers is given up after one read timeout, not 181 s.
DEFAULT_CALL_BUDGET = 20.0
POLICY_HINT = "see policy/aurora-validate-readonly-policy.json"
NO_CREDENTIALS = "none found (set AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or use --profile)"
DEFAULT_LOCALSTACK_HOST = "localhost:4566"

CallHook = Callable[[str, str], None]  # (region, "service:Operation")


def operation_name(model: Any) -> str:
    """``rds:DescribeDBClusters`` from a botocore OperationModel."""
    prefix = model.service_model.signing_name or model.service_model.endpoint_prefix
    return f"{prefix}:{model.name}"


@dataclass
class Connection:
    """How to reach AWS: profile, endpoint and retry policy."""

    aws_profile: str | None = None
    endpoint_url: str | None = None
    max_attempts: int = DEFAULT_MAX_ATTEMPTS  # in all, the first attempt included (like AWS_MAX_ATTEMPTS)
    retry_mode: str = "standard"
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    read_timeout: float = DEFAULT_READ_TIMEOUT
    call_budget: float = DEFAULT_CALL_BUDGET  # seconds per call, retries included
    default_credentials: tuple[str, str] | None = None  # when none are configured (LocalStack)
    static_credentials: tuple[str, str] | None = None  # always (a local test API)
    # False: a client is made without credentials, and a call then fails as "no-credentials"
    # (for the db command, which names the cluster or secret it was looking up).
    require_credentials: bool = True
    # Where the audit assumes roles (sts:AssumeRole): a regional STS endpoint, as AWS advises;
    # None: the first audited region.
    sts_region: str | None = None
    on_call: list[CallHook] = field(default_factory=list)


def localstack_endpoint(environ: dict[str, str] | None = None) -> str:
    """The LocalStack edge URL, as LocalStack's own client resolves it.

    ``localstack-client`` reads AWS_ENDPOINT_URL, LOCALSTACK_HOST (default localhost:4566) and
    USE_SSL; it imports boto3, so it is imported here, on the live path only.
    """
    from localstack_client import config as localstack_config

    env = os.environ if environ is None else environ
    saved = {key: os.environ.get(key) for key in ("AWS_ENDPOINT_URL", "LOCALSTACK_HOST", "USE_SSL")}
    try:
        for key in saved:  # the library reads os.environ: show it the environment we were given
            if env.get(key) is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = str(env[key])
        url = localstack_config.get_service_endpoint("rds")
    except RuntimeError as exc:  # "could not parse X into <hostname>:<port>"
        raise UsageError(f"LOCALSTACK_HOST: {exc}") from None
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return (url or f"http://{DEFAULT_LOCALSTACK_HOST}").rstrip("/")


def retry_settings(environ: dict[str, str] | None = None) -> tuple[str, int]:
    """Retry mode and attempts; AWS_RETRY_MODE / AWS_MAX_ATTEMPTS override the defaults."""
    env = os.environ if environ is None else environ
    mode = env.get("AWS_RETRY_MODE") or "standard"
    if mode not in ("standard", "adaptive", "legacy"):
        raise UsageError(f"AWS_RETRY_MODE must be standard, adaptive or legacy, not {mode!r}")
    raw = env.get("AWS_MAX_ATTEMPTS") or str(DEFAULT_MAX_ATTEMPTS)
    try:
        attempts = int(raw)
    except ValueError:
        raise UsageError(f"AWS_MAX_ATTEMPTS must be a whole number, not {raw!r}") from None
    if attempts < 1:
        raise UsageError("AWS_MAX_ATTEMPTS must be at least 1")
    return mode, attempts


def endpoint_address(url: str) -> tuple[str, int]:
    """Host and port of an http(s) endpoint URL; a UsageError when it is not one."""
    try:
        parsed = urlparse(url)
        explicit_port = parsed.port
    except ValueError as exc:  # a bad IPv6 literal or port
        raise UsageError(f"endpoint URL {url!r} is not a valid URL ({exc})") from None
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise UsageError(f"endpoint URL {url!r} is not an http(s) URL")
    return parsed.hostname, explicit_port or (443 if parsed.scheme == "https" else 80)


def check_endpoint_reachable(url: str, timeout: float = 3.0) -> None:
    """Fail fast, in one line, when an explicit endpoint URL cannot be reached."""
    host, port = endpoint_address(url)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as exc:
        raise InputError(
            url, f"cannot connect to the endpoint ({exc.strerror or exc})", "connection error"
        ) from None


@dataclass(frozen=True)
class TemporaryCredentials:
    """What sts:AssumeRole returns; never printed (``repr`` names the key id only)."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str = field(repr=False)


class Clients:
    """One boto3 session and the clients per region (clients are thread-safe).

    ``assumed()`` gives the clients of another account: the same session (botocore's loaded
    service models are shared, so an account costs its clients, not a session) with the
    temporary credentials of the role assumed there. Clients are created under one lock:
    a boto3 session is not thread-safe, its clients are.
    """

    def __init__(
        self,
        connection: Connection,
        *,
        _parent: Clients | None = None,
        _credentials: TemporaryCredentials | None = None,
    ) -> None:
        self.connection = connection
        self._credentials = _credentials
        self._clients: dict[tuple[str, str], Any] = {}
        if _parent is not None:
            self.session: Any = _parent.session
            self._lock: threading.Lock = _parent._lock
            return
        import boto3
        import botocore.exceptions

        try:
            self.session = boto3.session.Session(profile_name=connection.aws_profile)
        except botocore.exceptions.ProfileNotFound:
            raise UsageError(f"AWS profile {connection.aws_profile!r} is not configured") from None
        self._lock = threading.Lock()

    def assumed(self, credentials: TemporaryCredentials) -> Clients:
        """The clients of the account whose role gave ``credentials``."""
        return Clients(self.connection, _parent=self, _credentials=credentials)

    def default_region(self) -> str | None:
        region: str | None = self.session.region_name
        return region

    def known_regions(self) -> set[str]:
        regions: set[str] = set()
        for partition in self.session.get_available_partitions():
            regions.update(self.session.get_available_regions("rds", partition))
        return regions

    def _credentials_kwargs(self) -> dict[str, str]:
        assumed = self._credentials
        if assumed is not None:
            return {
                "aws_access_key_id": assumed.access_key_id,
                "aws_secret_access_key": assumed.secret_access_key,
                "aws_session_token": assumed.session_token,
            }
        fixed = self.connection.static_credentials
        if fixed:
            return {"aws_access_key_id": fixed[0], "aws_secret_access_key": fixed[1]}
        if self.session.get_credentials() is not None:
            return {}
        if self.connection.default_credentials:
            key, secret = self.connection.default_credentials
            return {"aws_access_key_id": key, "aws_secret_access_key": secret}
        if not self.connection.require_credentials:
            return {}
        raise InputError("AWS credentials", NO_CREDENTIALS, "no credentials")

    def client(self, service: str, region: str) -> Any:
        """A client for ``service`` in ``region`` (created once, under the session's lock)."""
        key = (service, region)
        client = self._clients.get(key)
        if client is not None:
            return client
        with self._lock:
            return self._create(service, region)

    def _create(self, service: str, region: str) -> Any:
        key = (service, region)
        if key not in self._clients:
            from botocore.config import Config

            conn = self.connection
            config = Config(
                region_name=region,
                retries={"mode": conn.retry_mode, "total_max_attempts": conn.max_attempts},
                connect_timeout=conn.connect_timeout,
                read_timeout=conn.read_timeout,
                user_agent_extra="aurora-validate",
            )
            try:
                client = self.session.client(
                    service,
                    region_name=region,
                    endpoint_url=conn.endpoint_url,
                    config=config,
                    **self._credentials_kwargs(),
                )
            except ValueError as exc:  # a malformed AWS_ENDPOINT_URL[_<SERVICE>]
                raise UsageError(f"AWS endpoint URL for {service} is not a valid URL ({exc})") from None
            client.meta.events.register("before-call", self._guard(region))
            client.meta.events.register("before-parse", check_answer)
            if conn.retry_mode in ("standard", "adaptive"):  # adaptive is standard plus a rate limiter
                _bound_retries(client, conn)
            self._clients[key] = client
        return self._clients[key]

    def _guard(self, region: str) -> Callable[..., None]:
        hooks = self.connection.on_call

        def before_call(model: Any, context: dict[str, Any] | None = None, **_: Any) -> None:
            name = operation_name(model)
            if not model.name.startswith(READ_ONLY_PREFIXES) and name not in ASSUME_OPERATIONS:
                raise NotReadOnly(f"refusing to send a non-read-only call: {name}")
            if context is not None:
                context[_STARTED] = time.monotonic()
            for hook in hooks:
                hook(region, name)

        return before_call


class NotReadOnly(RuntimeError):
    """A call that is not Describe/List/Get: a defect of this program, never sent."""


class InvalidAnswer(Exception):
    """An HTTP answer that is no AWS response to the operation (raised before botocore parses it)."""


_STARTED = "aurora_validate_started"
_GAVE_UP = "aurora_validate_gave_up"
_XML_ROOT = re.compile(rb"^\s*(?:<\?xml[^>]*\?>\s*)?(?:<!--.*?-->\s*)*<([A-Za-z_][\w.:-]*)", re.DOTALL)
_XML_CODE = re.compile(rb"<Code>\s*([^<\s]+)\s*</Code>")
_XML_MESSAGE = re.compile(rb"<Message>([^<]*)</Message>")
_XML_ERROR_ROOTS = ("ErrorResponse", "Response")


def _what(body: bytes) -> str:
    if not body.strip():
        return "an empty body"
    head = body.lstrip()[:15].lower()
    if head.startswith((b"<!doctype html", b"<html")):
        return "an HTML page"
    return f"a body that is not an AWS document ({len(body)} bytes)"


def check_answer(operation_model: Any, response_dict: dict[str, Any], **_: Any) -> None:
    """Before botocore parses an answer: make sure it is an AWS document.

    * A 2xx whose body is not the operation's response (garbage, empty, HTML) raises InvalidAnswer.
    * A 2xx whose body is an AWS error document (EC2 has been seen sending AccessDenied with 200)
      raises the ClientError it says it is (botocore would parse it as an empty success).
    * A 5xx whose body is no AWS error document (a load balancer's text page) is left to botocore
      as a generic error named by its status, which the standard retry mode retries.
    """
    status = int(response_dict.get("status_code") or 0)
    body = response_dict.get("body") or b""
    if not isinstance(body, bytes):
        return  # a streaming body: none of the audit's operations has one
    protocol = operation_model.service_model.metadata.get("protocol", "")
    name = operation_model.name
    if protocol in ("query", "ec2"):
        match = _XML_ROOT.match(body)
        root = match.group(1).decode("ascii", "replace").split(":")[-1] if match else ""
        if status < 300:
            if root == f"{name}Response":
                return
            code = _XML_CODE.search(body) if root in _XML_ERROR_ROOTS else None
            if code:  # botocore would take it for an empty success: raise the error it reports
                from botocore.exceptions import ClientError

                message = _XML_MESSAGE.search(body)
                error = {
                    "Code": code.group(1).decode("utf-8", "replace"),
                    "Message": message.group(1).decode("utf-8", "replace") if message else "",
                }
                raise ClientError({"Error": error, "ResponseMetadata": {"HTTPStatusCode": status}}, name)
            raise InvalidAnswer(f"HTTP {status} with {_what(body)} instead of a {name}Response")
        if root not in _XML_ERROR_ROOTS:
            if status >= 500:
                response_dict["body"] = b""
                return
            raise InvalidAnswer(f"HTTP {status} with {_what(body)} instead of an AWS error")
        return
    # JSON protocols (bedrock-agent, Secrets Manager)
    try:
        doc = json.loads(body) if body.strip() else None
    except ValueError:
        doc = None
    if status < 300:
        if not isinstance(doc, dict):
            raise InvalidAnswer(f"HTTP {status} with {_what(body)} instead of a JSON {name} answer")
    elif status >= 500 and not isinstance(doc, dict):
        response_dict["body"] = b""


def _bound_retries(client: Any, conn: Connection) -> None:
    """botocore's standard retries, with a ceiling: no retry starts that could end after ``call_budget``."""
    from botocore.retries import standard

    event = client.meta.service_model.service_id.hyphenize()
    unique_id = f"retry-config-{event}"
    client.meta.events.unregister(f"needs-retry.{event}", unique_id=unique_id)
    handler = standard.register_retry_handler(client, max_attempts=conn.max_attempts)
    client.meta.events.unregister(f"needs-retry.{event}", unique_id=unique_id)

    def needs_retry(**kwargs: Any) -> float | None:
        delay: float | None = handler.needs_retry(**kwargs)
        if delay is None:
            return None
        context = (kwargs.get("request_dict") or {}).get("context") or {}
        started = context.get(_STARTED)
        if started is not None and time.monotonic() - started + delay + conn.read_timeout > conn.call_budget:
            context[_GAVE_UP] = True
            return None
        return float(delay)

    client.meta.events.register(f"needs-retry.{event}", needs_retry, unique_id=unique_id)


class Refused(Exception):
    """A call the audit can do without was refused or failed; the caller falls back and reports it."""

    def __init__(self, operation: str, code: str, message: str, denied: bool) -> None:
        super().__init__(f"{operation}: {code}")
        self.operation = operation
        self.code = code
        self.message = message
        self.denied = denied  # AWS refused the permission (as opposed to another failure)


@dataclass(frozen=True)
class AwsFailure:
    """Why one AWS call failed, whatever botocore raised: the one mapping of AWS errors.

    ``kind`` is ``"denied"`` (AWS refused the permission), ``"credentials"`` (AWS rejected
    the credentials), ``"no-credentials"`` (none were found), ``"aws"`` (another AWS error
    answer), or ``"transport"`` (a timeout, a lost connection, an answer that is no AWS
    response). ``code`` is AWS's error code or a name for the failure; ``message`` is one line.
    """

    kind: str
    code: str
    message: str


def classify(exc: BaseException) -> AwsFailure | None:
    """The failure ``exc`` stands for, or None when it is no failure of an AWS call."""
    import botocore.exceptions as bex
    from botocore.parsers import ResponseParserError

    if isinstance(exc, NotReadOnly):
        return None
    if isinstance(exc, bex.ClientError):
        err = exc.response.get("Error", {}) or {}
        code = str(err.get("Code") or "Unknown")
        message = _clean(str(err.get("Message") or ""))
        status = (exc.response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
        if code in CREDENTIAL_CODES:
            return AwsFailure("credentials", code, message)
        if code in DENIED_CODES or status == 403:
            return AwsFailure("denied", code, message)
        if code.isdigit():  # a generic error: botocore names it by its HTTP status
            return AwsFailure("aws", "HTTPError", f"HTTP {code} {message}".strip())
        return AwsFailure("aws", code, message)
    if isinstance(exc, bex.NoCredentialsError):
        return AwsFailure("no-credentials", "NoCredentials", NO_CREDENTIALS)
    if isinstance(exc, bex.ConnectTimeoutError | bex.ReadTimeoutError):
        return AwsFailure("transport", "Timeout", f"no answer in time ({_clean(str(exc))})")
    if isinstance(exc, bex.EndpointConnectionError | bex.ConnectionClosedError | bex.HTTPClientError):
        return AwsFailure("transport", "ConnectionError", _clean(str(exc)))
    if isinstance(exc, InvalidAnswer):
        return AwsFailure("transport", "InvalidResponse", str(exc))
    if isinstance(exc, ResponseParserError):
        first = str(exc).split("\n", 1)[0]
        return AwsFailure("transport", "InvalidResponse", _clean(f"the answer does not parse ({first})"))
    if isinstance(exc, bex.BotoCoreError):
        return AwsFailure("transport", type(exc).__name__, _clean(str(exc)))
    if isinstance(exc, KeyError | TypeError | ValueError | AttributeError | OSError):
        # botocore's parsers assume an AWS document; an answer that merely looks like one can
        # still break them (an HTML 200 raises KeyError inside the query parser).
        reason = f"the answer could not be read ({type(exc).__name__}: {exc})"
        return AwsFailure("transport", "InvalidResponse", _clean(reason))
    return None


def call(
    operation: str,
    region: str,
    # Called with no argument; ``...`` because callers bind loop variables as lambda defaults
    # (``lambda chunk=chunk: ...``), which a type checker cannot match to Callable[[], Any].
    func: Callable[..., Any],
    *,
    degrade_denied: bool = False,
    degrade_errors: bool = False,
) -> Any:
    """Run one AWS request (or paginated loop), translating every failure into one line.

    A refused permission raises ``AccessDenied``, or ``Refused`` with ``degrade_denied``;
    any other failure (an AWS error, throttling beyond the retries, an answer that is no AWS
    response, a reset connection, a timeout) raises ``AwsCallFailed``, or ``Refused`` with
    ``degrade_errors``; credential problems always raise ``InputError``.
    """
    try:
        return func()
    except Exception as exc:
        failure = classify(exc)
        if failure is None:
            raise
    if failure.kind == "credentials":
        raise InputError("AWS credentials", f"rejected by AWS in {region} ({failure.code})", "credential error")
    if failure.kind == "no-credentials":
        raise InputError("AWS credentials", NO_CREDENTIALS, "no credentials")
    if failure.kind == "denied":
        if degrade_denied:
            raise Refused(operation, failure.code, failure.message, denied=True)
        raise AccessDenied(operation, f"refused in {region} ({failure.code}); grant {operation} ({POLICY_HINT})")
    if degrade_errors:
        raise Refused(operation, failure.code, failure.message, denied=False)
    raise AwsCallFailed(operation, f"failed in {region}: {failure.code}: {failure.message}")


class AwsCallFailed(AccessDenied):
    """A call the audit needs failed for another reason than a refusal (exit 3, like a refusal)."""

    label = "AWS call failed"


def _clean(text: str) -> str:
    """One line, bounded length."""
    line = " ".join(text.split())
    return line if len(line) <= 240 else line[:237] + "..."


def paginate(client: Any, method: str, key: str, **params: Any) -> list[dict[str, Any]]:
    """Every item under ``key`` across all pages of ``method``."""
    out: list[dict[str, Any]] = []
    for page in client.get_paginator(method).paginate(**params):
        out.extend(page.get(key, []))
    return out


def describe_filtered(
    client: Any,
    operation: str,
    method: str,
    key: str,
    region: str,
    batches: Iterable[list[dict[str, Any]]],
    **params: Any,
) -> Iterator[tuple[list[dict[str, Any]], list[dict[str, Any]] | Refused]]:
    """A filtered Describe call, one batch of filters at a time, every page read.

    Gives ``(filters, items)`` per batch, or ``(filters, Refused)`` for a batch AWS refused or
    failed: the caller says what the refusal leaves unknown and whether to go on.
    ``operation`` is the IAM action ("rds:DescribeDBClusters"), ``method`` its paginator.
    """
    for filters in batches:
        try:
            items = call(
                operation,
                region,
                lambda filters=filters: paginate(client, method, key, Filters=filters, **params),
                degrade_denied=True,
                degrade_errors=True,
            )
        except Refused as exc:
            yield filters, exc
            continue
        yield filters, items


def chunks(items: Iterable[str], size: int) -> list[list[str]]:
    seq = list(items)
    return [seq[i : i + size] for i in range(0, len(seq), size)]

"""AWS plumbing for the live source: sessions, clients, retries, error translation.

Only read-only operations are ever sent; ``OPERATIONS`` lists every one the live
source can send (the shipped IAM policy must grant exactly these). boto3 is
imported lazily so the static path never loads it.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from validator.errors import AccessDenied, InputError, UsageError

# Every operation the live source can send, as IAM action names.
# Without this one there is nothing to audit: a refusal stops the audit.
FATAL_OPERATIONS: tuple[str, ...] = ("rds:DescribeDBClusters",)
# Without these the audit goes on: the values they would give stay unknown
# (rules report them unresolved) and the refusal is reported (AV503, exit 3).
DEGRADABLE_OPERATIONS: tuple[str, ...] = (
    "rds:DescribeDBInstances",
    "rds:DescribeDBSubnetGroups",
    "ec2:DescribeSecurityGroups",
)
# Calls with a fallback: AWS's own engine support answer (else the facts table) and
# subnet Availability Zones when RDS leaves them out (else unknown).
OPTIONAL_OPERATIONS: tuple[str, ...] = ("rds:DescribeDBEngineVersions", "ec2:DescribeSubnets")
# The knowledge base's service role (validator.sources.live_iam), for AV204.
ROLE_OPERATIONS: tuple[str, ...] = (
    "iam:GetRole",
    "iam:ListRolePolicies",
    "iam:GetRolePolicy",
    "iam:ListAttachedRolePolicies",
    "iam:GetPolicy",
    "iam:GetPolicyVersion",
)
OPERATIONS: frozenset[str] = frozenset(
    FATAL_OPERATIONS + DEGRADABLE_OPERATIONS + OPTIONAL_OPERATIONS + ROLE_OPERATIONS
)
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
POLICY_HINT = "see policy/aurora-validate-readonly-policy.json"
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
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    default_credentials: tuple[str, str] | None = None  # when none are configured (LocalStack)
    static_credentials: tuple[str, str] | None = None  # always (a local test API)
    on_call: list[CallHook] = field(default_factory=list)


def localstack_endpoint(environ: dict[str, str] | None = None) -> str:
    """The LocalStack edge URL from LOCALSTACK_HOST (default localhost:4566)."""
    env = os.environ if environ is None else environ
    host = (env.get("LOCALSTACK_HOST") or DEFAULT_LOCALSTACK_HOST).strip()
    if "://" in host:
        return host.rstrip("/")
    if ":" not in host:
        host = f"{host}:4566"
    scheme = "https" if env.get("USE_SSL", "").lower() in ("1", "true", "yes") else "http"
    return f"{scheme}://{host}"


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


class Clients:
    """One boto3 session and the clients per region (clients are thread-safe)."""

    def __init__(self, connection: Connection) -> None:
        import boto3
        import botocore.exceptions

        self.connection = connection
        try:
            self.session = boto3.session.Session(profile_name=connection.aws_profile)
        except botocore.exceptions.ProfileNotFound:
            raise UsageError(f"AWS profile {connection.aws_profile!r} is not configured") from None
        self._credentials_checked = False
        self._clients: dict[tuple[str, str], Any] = {}

    def default_region(self) -> str | None:
        return self.session.region_name

    def known_regions(self) -> set[str]:
        regions: set[str] = set()
        for partition in self.session.get_available_partitions():
            regions.update(self.session.get_available_regions("rds", partition))
        return regions

    def _credentials_kwargs(self) -> dict[str, str]:
        fixed = self.connection.static_credentials
        if fixed:
            return {"aws_access_key_id": fixed[0], "aws_secret_access_key": fixed[1]}
        if self.session.get_credentials() is not None:
            return {}
        if self.connection.default_credentials:
            key, secret = self.connection.default_credentials
            return {"aws_access_key_id": key, "aws_secret_access_key": secret}
        raise InputError(
            "AWS credentials",
            "none found (set AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or use --profile)",
            "no credentials",
        )

    def client(self, service: str, region: str) -> Any:
        """A client for ``service`` in ``region``; create clients before starting threads."""
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
            self._clients[key] = client
        return self._clients[key]

    def _guard(self, region: str) -> Callable[..., None]:
        hooks = self.connection.on_call

        def before_call(model: Any, **_: Any) -> None:
            name = operation_name(model)
            if not model.name.startswith(READ_ONLY_PREFIXES):
                raise RuntimeError(f"refusing to send a non-read-only call: {name}")
            for hook in hooks:
                hook(region, name)

        return before_call


class Refused(Exception):
    """A call the audit can do without failed; the caller falls back and reports it."""

    def __init__(self, operation: str, code: str, message: str, denied: bool) -> None:
        super().__init__(f"{operation}: {code}")
        self.operation = operation
        self.code = code
        self.message = message
        self.denied = denied  # AWS refused the permission (as opposed to another failure)


def call(
    operation: str,
    region: str,
    func: Callable[[], Any],
    *,
    degrade_denied: bool = False,
    degrade_errors: bool = False,
) -> Any:
    """Run one AWS request (or paginated loop), translating errors into one-liners.

    A refused permission raises ``AccessDenied``, or ``Refused`` with ``degrade_denied``;
    another AWS failure raises ``InputError``, or ``Refused`` with ``degrade_errors``;
    credential and connection problems always raise ``InputError``.
    """
    import botocore.exceptions as bex

    def other(code: str, message: str) -> Exception:
        if degrade_errors:
            return Refused(operation, code, message, denied=False)
        return InputError(region, f"{operation} failed: {code}: {message}", "AWS error")

    try:
        return func()
    except bex.ClientError as exc:
        err = exc.response.get("Error", {})
        code = str(err.get("Code", "Unknown"))
        message = _clean(str(err.get("Message", "")))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in CREDENTIAL_CODES:
            raise InputError(
                "AWS credentials", f"rejected by AWS in {region} ({code})", "credential error"
            ) from None
        if code in DENIED_CODES or status == 403:
            if degrade_denied:
                raise Refused(operation, code, message, denied=True) from None
            raise AccessDenied(
                operation,
                f"refused in {region} ({code}); grant {operation} ({POLICY_HINT})",
            ) from None
        raise other(code, message) from None
    except bex.NoCredentialsError:
        raise InputError(
            "AWS credentials",
            "none found (set AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or use --profile)",
            "no credentials",
        ) from None
    except (bex.EndpointConnectionError, bex.ConnectTimeoutError, bex.ReadTimeoutError) as exc:
        raise InputError(
            region, f"cannot reach the AWS endpoint for {operation} ({_clean(str(exc))})", "connection error"
        ) from None
    except bex.ResponseParserError:
        raise other("InvalidResponse", "the endpoint's answer is not an AWS response") from None
    except bex.BotoCoreError as exc:
        raise other(type(exc).__name__, _clean(str(exc))) from None


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


def chunks(items: Iterable[str], size: int) -> list[list[str]]:
    seq = list(items)
    return [seq[i : i + size] for i in range(0, len(seq), size)]

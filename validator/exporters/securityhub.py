"""Import an ASFF report into AWS Security Hub: ``securityhub:BatchImportFindings``.

This is the one write aurora-validate can make, and only through its own command
(``aurora-validate export securityhub FILE``), never during an audit: the audit's
clients refuse every operation but Describe, List and Get, and this module's
client refuses every operation but the two it needs (``IMPORT_OPERATIONS``).

Before anything is sent, every finding is checked with botocore's parameter
validator against the operation's input shape, and its account against the
caller's (``sts:GetCallerIdentity``): with the account's default product ARN,
Security Hub takes a finding only from the account it names ("the identifier of
the account that you are calling BatchImportFindings from needs to be the same
as the AwsAccountId attribute for the finding", BatchImportFindings, Security Hub
API Reference). Findings go in calls of at most 100 (the API's limit), to the
region of their ``ProductArn``. ``policy/aurora-validate-securityhub-import-policy.json``
grants exactly what this sends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from validator import limits
from validator.errors import AccessDenied, InputError, UsageError
from validator.sources.aws.client import Connection, call, operation_name

IMPORT_OPERATIONS = frozenset({"securityhub:BatchImportFindings", "sts:GetCallerIdentity"})
BATCH_SIZE = 100  # BatchImportFindings: "Findings: Array Members: Minimum 1 item. Maximum 100 items."
IMPORT_POLICY = "policy/aurora-validate-securityhub-import-policy.json"


class NotAnImport(RuntimeError):
    """A call other than the import's own was about to be sent (a bug, never an AWS answer)."""


@dataclass
class Rejected:
    finding_id: str
    code: str
    message: str


@dataclass
class Imported:
    """What one account and region's import did."""

    account: str
    region: str
    sent: int = 0
    imported: int = 0
    calls: int = 0
    rejected: list[Rejected] = field(default_factory=list)


def load(path: Path) -> list[dict[str, Any]]:
    """The findings of an ASFF file: a JSON array, or an object with ``Findings`` (the API's request)."""
    where = str(path)
    data = limits.read_bytes(path, where, max_bytes=limits.MAX_JSON_BYTES, kind="ASFF error")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(where, "not UTF-8 text", "ASFF error") from None
    try:
        doc = limits.loads_json(text, where, kind="ASFF error")
    except ValueError as exc:
        raise InputError(where, f"not JSON ({exc})", "ASFF error") from None
    if isinstance(doc, dict) and isinstance(doc.get("Findings"), list):
        doc = doc["Findings"]
    if not isinstance(doc, list):
        raise InputError(where, 'expected a JSON array of ASFF findings (or {"Findings": [...]})', "ASFF error")
    for n, item in enumerate(doc):
        if not isinstance(item, dict):
            raise InputError(where, f"finding {n} is not an object", "ASFF error")
    return doc


def _import_shape() -> Any:
    import botocore.session

    model = botocore.session.get_session().get_service_model("securityhub")
    return model.operation_model("BatchImportFindings").input_shape


def problems(findings: list[dict[str, Any]]) -> list[str]:
    """What botocore's validator rejects, one line per finding: "finding 3 (ID): ..."."""
    from botocore.validate import ParamValidator

    shape = _import_shape()
    validator = ParamValidator()
    out: list[str] = []
    for n, finding in enumerate(findings):
        report = validator.validate({"Findings": [finding]}, shape)
        if report.has_errors():
            lines = [line.strip() for line in report.generate_report().splitlines() if line.strip()]
            detail = "; ".join(line.replace(" in Findings[0]", "").replace("Findings[0].", "") for line in lines)
            out.append(f"finding {n} ({finding.get('Id', 'no Id')!s:.120}): {detail}")
        elif not finding.get("Resources"):
            out.append(f"finding {n} ({finding.get('Id')!s:.120}): Resources must hold at least one resource")
        elif _region(finding) is None:
            out.append(f"finding {n} ({finding.get('Id')!s:.120}): ProductArn is not a Security Hub product ARN")
    return out


def _region(finding: dict[str, Any]) -> str | None:
    """The region of ``arn:<partition>:securityhub:<region>:...`` (where Security Hub takes the finding)."""
    parts = str(finding.get("ProductArn", "")).split(":")
    if len(parts) >= 6 and parts[0] == "arn" and parts[2] == "securityhub" and parts[3]:
        return parts[3]
    return None


def groups(findings: list[dict[str, Any]]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Findings by (account, region of the product ARN), in file order."""
    out: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for finding in findings:
        key = (str(finding["AwsAccountId"]), _region(finding) or "")
        out.setdefault(key, []).append(finding)
    return out


def _importing(client: Any, batch: list[dict[str, Any]]) -> Callable[[], Any]:
    def send() -> Any:
        return client.batch_import_findings(Findings=batch)

    return send


def batches(items: list[dict[str, Any]], size: int = BATCH_SIZE) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class Importer:
    """boto3 clients that can send the import's two operations and nothing else."""

    def __init__(self, connection: Connection) -> None:
        import boto3
        import botocore.exceptions

        self.connection = connection
        try:
            self.session = boto3.session.Session(profile_name=connection.aws_profile)
        except botocore.exceptions.ProfileNotFound:
            raise UsageError(f"AWS profile {connection.aws_profile!r} is not configured") from None
        self.sent: list[str] = []  # "service:Operation" of every call, in order
        self._clients: dict[tuple[str, str], Any] = {}

    def client(self, service: str, region: str) -> Any:
        """The client for ``service`` in ``region`` (one per pair)."""
        key = (service, region)
        if key not in self._clients:
            self._clients[key] = self._make(service, region)
        return self._clients[key]

    def _make(self, service: str, region: str) -> Any:
        from botocore.config import Config

        conn = self.connection
        config = Config(
            region_name=region,
            retries={"mode": conn.retry_mode, "total_max_attempts": conn.max_attempts},
            connect_timeout=conn.connect_timeout,
            read_timeout=conn.read_timeout,
            user_agent_extra="aurora-validate",
        )
        credentials: dict[str, str] = {}
        if conn.static_credentials:
            credentials = {
                "aws_access_key_id": conn.static_credentials[0],
                "aws_secret_access_key": conn.static_credentials[1],
            }
        try:
            client = self.session.client(
                service, region_name=region, endpoint_url=conn.endpoint_url, config=config, **credentials
            )
        except ValueError as exc:
            raise UsageError(f"AWS endpoint URL for {service} is not a valid URL ({exc})") from None
        client.meta.events.register("before-call", self._guard(region))
        return client

    def _guard(self, region: str) -> Callable[..., None]:
        def before_call(model: Any, **_: Any) -> None:
            name = operation_name(model)
            if name not in IMPORT_OPERATIONS:
                raise NotAnImport(f"refusing to send {name}: the import sends only {sorted(IMPORT_OPERATIONS)}")
            self.sent.append(name)
            for hook in self.connection.on_call:
                hook(region, name)

        return before_call

    def caller_account(self, region: str) -> str:
        sts = self.client("sts", region)
        answer = call("sts:GetCallerIdentity", region, sts.get_caller_identity)
        account = answer.get("Account") if isinstance(answer, dict) else None
        if not isinstance(account, str) or not account:
            raise InputError(
                "AWS credentials", f"sts:GetCallerIdentity named no account in {region}", "credential error"
            )
        return account

    def send(self, account: str, region: str, findings: list[dict[str, Any]]) -> Imported:
        client = self.client("securityhub", region)
        done = Imported(account, region)
        for batch in batches(findings):
            done.calls += 1
            done.sent += len(batch)
            try:
                answer = call("securityhub:BatchImportFindings", region, _importing(client, batch))
            except AccessDenied as exc:
                if type(exc) is AccessDenied:  # a refusal: name the import's own policy, not the audit's
                    raise AccessDenied(
                        exc.operation, f"refused in {region}; grant securityhub:BatchImportFindings ({IMPORT_POLICY})"
                    ) from None
                raise
            done.imported += int(answer.get("SuccessCount", 0) or 0)
            for failed in answer.get("FailedFindings") or []:
                done.rejected.append(
                    Rejected(
                        str(failed.get("Id", "")), str(failed.get("ErrorCode", "")), str(failed.get("ErrorMessage", ""))
                    )
                )
        return done

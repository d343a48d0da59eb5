"""A real AWS API endpoint for the live-audit tests, and a proxy that injects faults.

``shared_local_aws()`` starts one local AWS API (a moto server, patched by
``validator.demo.patch_moto`` to paginate and answer DescribeDBEngineVersions
like AWS) in a child process on 127.0.0.1, once per test process; tests call
``reset()`` between cases. ``FaultProxy`` sits in front of it on 127.0.0.1 and
records every HTTP request (service and Action), answers the first K requests
with a throttling error or a 503, or refuses chosen operations with AccessDenied.
"""

from __future__ import annotations

import atexit
import http.client
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from validator.demo import LocalAws
from validator.sources.live_aws import Connection

CREDENTIALS = ("testing", "testing")
ACCOUNT = "123456789012"

_shared: LocalAws | None = None
_lock = threading.Lock()


def shared_local_aws() -> LocalAws:
    """The process-wide local AWS API (started on first use, stopped at exit)."""
    global _shared
    with _lock:
        if _shared is None:
            server = LocalAws()
            server.start()
            atexit.register(server.stop)
            _shared = server
        return _shared


def clients(url: str, region: str) -> tuple[Any, Any]:
    """(rds, ec2) boto3 clients for setting a test up (tests may write; the audit never does)."""
    import boto3

    kw = {
        "endpoint_url": url,
        "region_name": region,
        "aws_access_key_id": CREDENTIALS[0],
        "aws_secret_access_key": CREDENTIALS[1],
    }
    return boto3.client("rds", **kw), boto3.client("ec2", **kw)


def connection(url: str, hooks: list[Callable[[str, str], None]] | None = None, **kw: Any) -> Connection:
    """A Connection to a local endpoint with fake credentials."""
    return Connection(endpoint_url=url, static_credentials=CREDENTIALS, on_call=list(hooks or []), **kw)


@dataclass
class Network:
    vpc: str
    subnets: list[str]
    security_group: str
    subnet_group: str


def make_network(
    rds: Any, ec2: Any, region: str, name: str = "db", open_cidr: str | None = "0.0.0.0/0"
) -> Network:
    """A VPC with subnets in two AZs, a DB subnet group and a security group (5432 from ``open_cidr``)."""
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i + 1}.0/24", AvailabilityZone=f"{region}{az}")[
            "Subnet"
        ]["SubnetId"]
        for i, az in enumerate("ac")
    ]
    sg = ec2.create_security_group(GroupName=f"{name}-sg", Description="database", VpcId=vpc)["GroupId"]
    if open_cidr:
        ec2.authorize_security_group_ingress(
            GroupId=sg,
            IpPermissions=[
                {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "IpRanges": [{"CidrIp": open_cidr}]}
            ],
        )
    rds.create_db_subnet_group(
        DBSubnetGroupName=f"{name}-subnets", DBSubnetGroupDescription="db", SubnetIds=subnets
    )
    return Network(vpc, subnets, sg, f"{name}-subnets")


def make_cluster(
    rds: Any,
    ident: str,
    network: Network | None = None,
    instances: tuple[str, ...] = ("db.serverless",),
    **overrides: Any,
) -> dict[str, Any]:
    """An Aurora PostgreSQL Serverless v2 cluster (hardened unless overridden) and its instances."""
    params: dict[str, Any] = {
        "DBClusterIdentifier": ident,
        "Engine": "aurora-postgresql",
        "EngineVersion": "16.6",
        "MasterUsername": "dbadmin",
        "ManageMasterUserPassword": True,
        "ServerlessV2ScalingConfiguration": {
            "MinCapacity": 0,
            "MaxCapacity": 4,
            "SecondsUntilAutoPause": 600,
        },
        "EnableIAMDatabaseAuthentication": True,
        "EnableHttpEndpoint": True,
        "StorageEncrypted": True,
        "DeletionProtection": True,
    }
    if network is not None:
        params["DBSubnetGroupName"] = network.subnet_group
        params["VpcSecurityGroupIds"] = [network.security_group]
    params.update(overrides)
    cluster = rds.create_db_cluster(**params)["DBCluster"]
    for i, klass in enumerate(instances):
        rds.create_db_instance(
            DBInstanceIdentifier=f"{ident}-{i + 1}",
            DBClusterIdentifier=ident,
            Engine="aurora-postgresql",
            DBInstanceClass=klass,
            PubliclyAccessible=False,
        )
    return cluster


# --------------------------------------------------------------------------- #
# Fault-injecting proxy


@dataclass
class Fault:
    """Answer matching requests with an error: the first ``times`` of them (None: always)."""

    status: int
    code: str
    message: str
    operation: str | None = None  # "rds:DescribeDBClusters"; None: any
    times: int | None = None
    served: int = 0


@dataclass
class FaultProxy:
    """An HTTP proxy on 127.0.0.1 in front of ``upstream`` (the local AWS API)."""

    upstream: str
    faults: list[Fault] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)  # "service:Action" of every request, retries included
    injected: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self.url = ""

    def add(self, fault: Fault) -> FaultProxy:
        self.faults.append(fault)
        return self

    def _fault_for(self, operation: str) -> Fault | None:
        with self._lock:
            self.seen.append(operation)
            for fault in self.faults:
                if fault.operation not in (None, operation):
                    continue
                if fault.times is not None and fault.served >= fault.times:
                    continue
                fault.served += 1
                self.injected.append(f"{operation} {fault.status} {fault.code}")
                return fault
        return None

    def start(self) -> str:
        proxy = self
        target = urlparse(self.upstream)

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _relay(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                operation = _operation(dict(self.headers), body, self.path)
                fault = proxy._fault_for(operation)
                if fault is not None:
                    payload = _error_body(operation, fault).encode()
                    self.send_response(fault.status)
                    self.send_header("Content-Type", "text/xml")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                conn = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                self.send_response(resp.status)
                for key, value in resp.getheaders():
                    if key.lower() not in (
                        "transfer-encoding",
                        "connection",
                        "content-length",
                        "server",
                        "date",
                    ):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                conn.close()

            do_GET = do_POST = do_PUT = do_DELETE = _relay

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        host, port = self._server.server_address[:2]
        self.url = f"http://{host}:{port}"
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FaultProxy:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _operation(headers: dict[str, str], body: bytes, path: str) -> str:
    """``service:Action`` of a query-protocol request (service from the SigV4 credential scope)."""
    auth = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
    service = "?"
    if "Credential=" in auth:
        scope = auth.split("Credential=", 1)[1].split(",", 1)[0].split("/")
        if len(scope) >= 4:
            service = scope[3]
    params = parse_qs(body.decode("utf-8", "replace")) if body else parse_qs(urlparse(path).query)
    action = (params.get("Action") or ["?"])[0]
    return f"{service}:{action}"


def _error_body(operation: str, fault: Fault) -> str:
    request_id = str(uuid.uuid4())
    if operation.startswith("ec2:"):
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Response><Errors><Error><Code>{fault.code}</Code><Message>{fault.message}</Message></Error>"
            f"</Errors><RequestID>{request_id}</RequestID></Response>"
        )
    return (
        '<ErrorResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/">'
        f"<Error><Type>Sender</Type><Code>{fault.code}</Code><Message>{fault.message}</Message></Error>"
        f"<RequestId>{request_id}</RequestId></ErrorResponse>"
    )


def denied(operation: str) -> Fault:
    """AWS's answer when the caller lacks ``operation`` (EC2 and RDS spell it differently)."""
    code = "UnauthorizedOperation" if operation.startswith("ec2:") else "AccessDenied"
    return Fault(
        403,
        code,
        f"User: arn:aws:iam::{ACCOUNT}:user/auditor is not authorized to perform: {operation}",
        operation=operation,
    )

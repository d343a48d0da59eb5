"""A real AWS API endpoint for the live-audit tests, and a proxy that injects faults.

``shared_local_aws()`` starts one local AWS API (a moto server, patched by
``validator.demo.patch_moto`` to paginate and answer DescribeDBEngineVersions
like AWS) in a child process on 127.0.0.1, once per test process; tests call
``reset()`` between cases. ``shared_plain_moto()`` is a moto server with no patch at
all, as teams run it locally. The fault-injecting proxy is ``fault_proxy.FaultProxy``.
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from validator.demo import LocalAws
from validator.sources.aws.client import Connection

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
# Knowledge bases and secrets (bedrock-agent and Secrets Manager, as moto serves them)


def make_secret(url: str, region: str, name: str = "kb-credentials") -> str:
    """A Secrets Manager secret (the test writes it; the audit only ever describes it); its ARN."""
    sm = _client("secretsmanager", url, region)
    return str(sm.create_secret(Name=name, SecretString='{"username":"bedrock","password":"x"}')["ARN"])


def make_knowledge_base(
    url: str,
    region: str,
    name: str,
    cluster_arn: str | None,
    secret_arn: str | None,
    table: str | None = "bedrock_integration.bedrock_kb",
    mapping: dict[str, str] | None = None,
    storage_type: str = "RDS",
    role_arn: str | None = None,
) -> dict[str, Any]:
    """A Bedrock knowledge base with RDS (Aurora) storage; ``None`` leaves a field out."""
    rds: dict[str, Any] = {
        "databaseName": "postgres",
        "fieldMapping": mapping
        if mapping is not None
        else {"primaryKeyField": "id", "vectorField": "embedding", "textField": "chunks", "metadataField": "metadata"},
    }
    if cluster_arn is not None:
        rds["resourceArn"] = cluster_arn
    if secret_arn is not None:
        rds["credentialsSecretArn"] = secret_arn
    if table is not None:
        rds["tableName"] = table
    storage: dict[str, Any] = {"type": storage_type}
    if storage_type == "RDS":
        storage["rdsConfiguration"] = rds
    agent = _client("bedrock-agent", url, region)
    return dict(
        agent.create_knowledge_base(
            name=name,
            roleArn=role_arn or f"arn:aws:iam::{ACCOUNT}:role/bedrock-kb",
            knowledgeBaseConfiguration={
                "type": "VECTOR",
                "vectorKnowledgeBaseConfiguration": {
                    "embeddingModelArn": f"arn:aws:bedrock:{region}::foundation-model/amazon.titan-embed-text-v2:0"
                },
            },
            storageConfiguration=storage,
        )["knowledgeBase"]
    )


def _client(service: str, url: str, region: str) -> Any:
    import boto3

    return boto3.client(
        service,
        endpoint_url=url,
        region_name=region,
        aws_access_key_id=CREDENTIALS[0],
        aws_secret_access_key=CREDENTIALS[1],
    )


# --------------------------------------------------------------------------- #
# A moto server as a team runs it locally: no patches at all


class PlainMoto:
    """``moto.server.ThreadedMotoServer``, unpatched, on a free loopback port (in this process)."""

    def __init__(self) -> None:
        self.url = ""
        self._server: Any = None

    def start(self) -> str:
        import logging

        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.CRITICAL)  # its 500s for unimplemented actions
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.url = f"http://{host}:{port}"
        return self.url

    def reset(self) -> None:
        import urllib.request

        urllib.request.urlopen(urllib.request.Request(f"{self.url}/moto-api/reset", method="POST"), timeout=10)

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None


_plain: PlainMoto | None = None


def shared_plain_moto() -> PlainMoto:
    """The process-wide unpatched moto server (started on first use, stopped at exit)."""
    global _plain
    with _lock:
        if _plain is None:
            server = PlainMoto()
            server.start()
            atexit.register(server.stop)
            _plain = server
        return _plain

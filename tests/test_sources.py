"""The source registry, the reference walk through a module tree, and the one AWS client and error mapping."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from validator import docs, limits
from validator.engine import evaluate
from validator.errors import AccessDenied, InputError
from validator.rules import Rule, all_rules
from validator.sources import (
    INFRASTRUCTURE_KINDS,
    KINDS,
    SOURCES,
    TERRAFORM_KINDS,
    Loaded,
    kinds,
    ordered,
    source,
)
from validator.sources import database as db_source
from validator.sources.terraform import references
from validator.sources.terraform.hcl import load_root
from validator.sources.terraform.plan import load_plan
from validator.sources.terraform.source import HclRequest, PlanRequest

REFERENCE = Path(__file__).resolve().parent.parent / "reference" / "terraform"


# --------------------------------------------------------------------------- #
# The registry


def test_the_four_sources_are_registered_in_the_order_reports_show_them() -> None:
    assert [k for k in KINDS if k in ("hcl", "plan", "live", "database")] == ["hcl", "plan", "live", "database"]
    assert len(set(KINDS)) == len(KINDS)
    assert {"hcl", "plan"} <= TERRAFORM_KINDS == kinds(lambda s: s.terraform)
    assert {"hcl", "plan", "live"} <= INFRASTRUCTURE_KINDS == kinds(lambda s: s.infrastructure)
    assert "live" not in TERRAFORM_KINDS and "database" not in INFRASTRUCTURE_KINDS
    assert ordered({"database", "hcl", "live"}) == ["hcl", "live", "database"]
    assert ordered({"x", "hcl"}) == ["hcl", "x"]


def test_every_kind_a_rule_reads_is_registered_and_the_default_is_derived() -> None:
    assert Rule.sources == INFRASTRUCTURE_KINDS
    for rule in all_rules():
        assert rule.sources <= set(KINDS), rule.id
        assert docs._sources(rule) == ", ".join(k for k in KINDS if k in rule.sources)


def test_every_loader_resolves_to_a_function_and_an_unknown_kind_names_the_known() -> None:
    for registered in SOURCES:
        module_name, _, name = registered.loader.partition(":")
        assert callable(getattr(importlib.import_module(module_name), name)), registered.loader
        assert source(registered.kind) is registered
    with pytest.raises(KeyError, match=f"known: {', '.join(KINDS)}"):
        source("cloudformation")


def test_the_registry_imports_no_loader() -> None:
    heavy = ("boto3", "botocore", "psycopg", "hcl2", "validator.sources.terraform.hcl", "validator.sources.aws.client")
    code = (
        "import sys, validator.sources, validator.rules.base; "
        f"print([m for m in {heavy!r} if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_hcl_through_the_registry_is_load_root() -> None:
    loaded = source("hcl").load(HclRequest(REFERENCE, env={}))
    direct = load_root(REFERENCE, env={})
    assert isinstance(loaded, Loaded)
    [deployment] = loaded.deployments
    assert deployment.kind == "hcl" and deployment.root == str(REFERENCE)
    assert loaded.errors == direct.errors
    assert evaluate(deployment, "bedrock-kb") == evaluate(direct.deployment, "bedrock-kb")


def test_plan_through_the_registry_is_load_plan(tmp_path: Path) -> None:
    plan = tmp_path / "plan.json"
    change = {
        "address": "aws_rds_cluster.kb", "mode": "managed", "type": "aws_rds_cluster", "name": "kb",
        "change": {"actions": ["create"], "after": {"engine": "aurora-postgresql", "engine_mode": "serverless"}},
    }  # fmt: skip
    written = {"engine_mode": {"constant_value": "serverless"}}
    config = {"root_module": {"resources": [{**change, "expressions": written}]}}
    config["root_module"]["resources"][0].pop("change")
    doc = {"format_version": "1.2", "resource_changes": [change], "configuration": config}
    plan.write_text(json.dumps(doc), encoding="utf-8")
    loaded = source("plan").load(PlanRequest(plan))
    [deployment] = loaded.deployments
    assert deployment.kind == "plan" and loaded.errors == []
    assert evaluate(deployment) == evaluate(load_plan(plan).deployment)
    assert [c.engine_mode.value for c in deployment.clusters] == ["serverless"]


def test_a_plan_that_cannot_be_read_raises_the_one_line_error(tmp_path: Path) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text("{", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        source("plan").load(PlanRequest(plan))
    assert caught.value.where == str(plan)


# --------------------------------------------------------------------------- #
# The reference walk


@dataclass
class Scope:
    """A module instance written by hand: arguments and outputs as lists of references."""

    prefix: str = ""
    parent: Scope | None = None
    arguments: dict[str, list[str]] = field(default_factory=dict)
    outputs: dict[str, list[str]] = field(default_factory=dict)
    calls: dict[str, list[Scope]] = field(default_factory=dict)

    def argument_references(self, name: str) -> Sequence[str] | None:
        return self.arguments.get(name)

    def instances(self, name: str, index: str) -> list[Scope]:
        found = self.calls.get(name, [])
        return [s for s in found if s.prefix.endswith(f"{index}.")] if index else found

    def output_references(self, name: str) -> Sequence[str]:
        return self.outputs.get(name, [])

    def call(self, name: str, index: str = "", **kw: Any) -> Scope:
        child = Scope(references.module_prefix(self.prefix, name, index), self, **kw)
        self.calls.setdefault(name, []).append(child)
        return child


def test_a_reference_leads_up_through_arguments_and_down_through_outputs() -> None:
    root = Scope()
    network = root.call("network", outputs={"sg_id": ["aws_security_group.db.id", "aws_security_group.db"]})
    db = root.call("db", arguments={"security_groups": ["module.network.sg_id", "module.network"]})
    assert references.resources(db, ["var.security_groups", "local.x", "aws_rds_cluster.kb.arn"]) == (
        "module.network.aws_security_group.db",
        "module.db.aws_rds_cluster.kb",
    )
    assert network.prefix == "module.network."


def test_an_indexed_module_reference_reads_that_instance_only() -> None:
    root = Scope()
    for key in ("a", "b"):
        root.call("subnet", f'["{key}"]', outputs={"id": ["aws_subnet.this.id"]})
    assert references.resources(root, ['module.subnet["b"].id']) == ('module.subnet["b"].aws_subnet.this',)
    assert references.resources(root, ["module.subnet.id"]) == (
        'module.subnet["a"].aws_subnet.this',
        'module.subnet["b"].aws_subnet.this',
    )


def _chain(levels: int) -> Scope:
    """``levels`` modules deep, each passing var.x up from the root's resource."""
    scope = Scope()
    scope.arguments = {}
    deepest = scope
    for n in range(levels):
        deepest = deepest.call(f"m{n}", arguments={"x": ["var.x"] if n else ["aws_subnet.a.id"]})
    return deepest


def test_the_walk_reaches_the_root_from_the_deepest_module_and_stops_past_the_limit() -> None:
    assert references.resources(_chain(limits.MAX_MODULE_DEPTH), ["var.x"]) == ("aws_subnet.a",)
    assert references.resources(_chain(limits.MAX_REFERENCE_DEPTH + 2), ["var.x"]) == ()


def test_a_reference_that_leads_to_itself_ends() -> None:
    root = Scope()
    loop = root.call("loop", arguments={"x": ["module.loop.out"]})
    loop.outputs = {"out": ["var.x"]}
    assert references.resources(loop, ["var.x"]) == ()


_names = st.text("abcdefghijklmnopqrstuvwxyz0123456789_-", min_size=1, max_size=10).filter(lambda n: n[0].isalpha())
# Any for_each key but one holding "]" (the address grammar ends an index at the first "]").
_keys = st.one_of(st.none(), st.integers(0, 10**6), st.text(st.characters(exclude_characters="]"), max_size=10))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(_names, _keys), min_size=1, max_size=6))
def test_a_module_address_built_by_the_loader_reads_back(steps: list[tuple[str, Any]]) -> None:
    prefix = ""
    for name, key in steps:
        prefix = references.module_prefix(prefix, name, references.instance_key(key))
    assert references.module_path(prefix.rstrip(".")) == [(n, references.instance_key(k)) for n, k in steps]


# --------------------------------------------------------------------------- #
# One AWS client and one error mapping


def _client_error(code: str, status: int = 400, message: str = "said no") -> Exception:
    from botocore.exceptions import ClientError

    return ClientError({"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}},
                       "DescribeDBClusters")


def test_every_failure_is_classified_once() -> None:
    import botocore.exceptions as bex
    from botocore.parsers import ResponseParserError

    from validator.sources.aws.client import InvalidAnswer, NotReadOnly, classify

    cases: list[tuple[BaseException, str | None, str]] = [
        (_client_error("AccessDeniedException"), "denied", "AccessDeniedException"),
        (_client_error("Forbidden", 403), "denied", "Forbidden"),
        (_client_error("ExpiredToken"), "credentials", "ExpiredToken"),
        (_client_error("500", 500, "boom"), "aws", "HTTPError"),
        (_client_error("Throttling"), "aws", "Throttling"),
        (bex.NoCredentialsError(), "no-credentials", "NoCredentials"),
        (bex.ReadTimeoutError(endpoint_url="http://x"), "transport", "Timeout"),
        (bex.EndpointConnectionError(endpoint_url="http://x"), "transport", "ConnectionError"),
        (InvalidAnswer("HTTP 200 with an HTML page"), "transport", "InvalidResponse"),
        (ResponseParserError("bad\nxml"), "transport", "InvalidResponse"),
        (KeyError("DBClusters"), "transport", "InvalidResponse"),
    ]
    for exc, kind, code in cases:
        failure = classify(exc)
        assert failure is not None and (failure.kind, failure.code) == (kind, code), exc
        assert "\n" not in failure.message
    assert classify(NotReadOnly("x")) is None
    assert classify(RuntimeError("a defect")) is None


def test_the_db_lookups_phrase_the_shared_mapping_as_before() -> None:
    denied = db_source._aws_error("rds:DescribeDBClusters", "kb", _client_error("Forbidden", 403, "nope"))
    assert isinstance(denied, AccessDenied) and denied.message == "nope"
    empty = db_source._aws_error("rds:DescribeDBClusters", "kb", _client_error("Throttling", message=""))
    assert isinstance(empty, InputError) and empty.message == "rds:DescribeDBClusters failed: Throttling: Throttling"


@pytest.fixture
def no_aws_configuration(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def test_the_db_lookups_use_the_guarded_client(no_aws_configuration: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from validator.sources.aws.client import NotReadOnly

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    aws = db_source.AwsContext(region="eu-west-1", endpoint_url="http://127.0.0.1:9")  # nothing listens there
    client = db_source._client("rds", aws)
    with pytest.raises(NotReadOnly, match="rds:DeleteDBCluster"):
        client.delete_db_cluster(DBClusterIdentifier="kb")


def test_a_db_lookup_without_credentials_names_its_target(no_aws_configuration: None) -> None:
    aws = db_source.AwsContext(region="eu-west-1", endpoint_url="http://127.0.0.1:9")
    with pytest.raises(InputError) as caught:
        db_source.describe_cluster("kb", aws)
    assert str(caught.value) == "kb: aws error: no AWS credentials found (set a profile or AWS_ACCESS_KEY_ID)"


class _HtmlPage(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = b"<html><body>Sign in to the corporate proxy</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def html_endpoint() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HtmlPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_db_lookup_answered_by_a_web_page_is_one_line(
    no_aws_configuration: None, monkeypatch: pytest.MonkeyPatch, html_endpoint: str
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    aws = db_source.AwsContext(region="eu-west-1", endpoint_url=html_endpoint)
    with pytest.raises(InputError) as caught:
        db_source.describe_cluster("kb", aws)
    assert caught.value.message == (
        "rds:DescribeDBClusters failed: InvalidResponse: HTTP 200 with an HTML page instead of a "
        "DescribeDBClustersResponse"
    )

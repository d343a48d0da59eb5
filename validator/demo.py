"""``aurora-validate demo``: deploy the reference Terraform into a local AWS API and audit it live.

The local AWS API is a moto server in a child process on 127.0.0.1 (a free
port), so its state is its own. Where moto 5 differs from AWS in what the audit
reads, the server is brought closer to AWS:

* RDS describe calls honour ``MaxRecords``/``Marker`` (moto returns everything at once);
* ``DescribeDBEngineVersions`` (not implemented by moto) answers for Aurora
  PostgreSQL from this project's facts table, including ``ServerlessV2FeaturesSupport``;
* the Data API can be enabled on provisioned (Serverless v2) Aurora PostgreSQL clusters;
* a stopped cluster reports ``AutomaticRestartTime`` (seven days after the stop);
* ``ModifyDBCluster`` with ``EnableIAMDatabaseAuthentication`` changes what DescribeDBClusters reports.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from validator import facts

DEFAULT_REFERENCE = Path(__file__).resolve().parent.parent / "reference" / "terraform"
DEFAULT_REGION = "ap-northeast-1"
READY_PREFIX = "local AWS API listening on "


# --------------------------------------------------------------------------- #
# The local AWS API (runs in the child process)


def _fake_engine_version(engine: str, version: str, overrides: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    support = facts.engine_support(version)
    if support.serverless_v2 is None and version not in overrides:
        return None  # a version the table does not know: AWS would not list it either
    major = version.split(".")[0]
    item: dict[str, Any] = {
        "Engine": engine,
        "EngineVersion": version,
        "MajorEngineVersion": major,
        "DBParameterGroupFamily": f"{engine}{major}",
        "DBEngineDescription": "Aurora (PostgreSQL)",
        "DBEngineVersionDescription": f"Aurora PostgreSQL (Compatible with PostgreSQL {version})",
        "SupportedEngineModes": [facts.ENGINE_MODE],
        "Status": "available",
    }
    if support.serverless_v2 and support.max_acu is not None and support.min_acu_floor is not None:
        item["ServerlessV2FeaturesSupport"] = {
            "MinCapacity": support.min_acu_floor,
            "MaxCapacity": support.max_acu,
        }
    item.update(overrides.get(version, {}))
    return item


def _known_versions() -> list[str]:
    rows = [*facts.SERVERLESS_V2_MIN.values(), *facts.AUTO_PAUSE_MIN.values(), *facts.ACU_256_MIN.values()]
    return sorted({r.version for r in rows}, key=lambda v: facts.parse_version(v) or ())


def patch_moto(engine_overrides: dict[str, dict[str, Any]] | None = None) -> None:
    """Bring moto's RDS closer to AWS where the audit reads it (see the module docstring)."""
    from moto.core.responses import ActionResult
    from moto.rds import models, responses

    # The patches replace moto's methods at run time, which a type checker rejects on the
    # classes themselves: they are reached through untyped names.
    DBCluster: Any = models.DBCluster
    RDSBackend: Any = models.RDSBackend
    RDSResponse: Any = responses.RDSResponse

    overrides = dict(engine_overrides or {})

    def paged(method: Any, key: str) -> Any:
        def wrapper(self: Any) -> Any:
            result = method(self)
            items = list(result.result[key])
            size = int(self.params.get("MaxRecords") or 100)
            start = int(self.params.get("Marker") or 0)
            page: dict[str, Any] = {key: items[start : start + size]}
            if start + size < len(items):
                page["Marker"] = str(start + size)
            return ActionResult(page)

        return wrapper

    for name, key in (
        ("describe_db_clusters", "DBClusters"),
        ("describe_db_instances", "DBInstances"),
        ("describe_db_subnet_groups", "DBSubnetGroups"),
    ):
        setattr(RDSResponse, name, paged(getattr(RDSResponse, name), key))

    def describe_db_engine_versions(self: Any) -> Any:
        engine = self.params.get("Engine") or facts.ENGINE
        filters = {f["Name"]: f["Values"] for f in self.params.get("Filters", []) or []}
        if self.params.get("EngineVersion"):
            versions = [self.params["EngineVersion"]]
        else:
            versions = filters.get("engine-version") or _known_versions()
        items = []
        if engine == facts.ENGINE:
            items = [i for v in versions if (i := _fake_engine_version(engine, v, overrides))]
        return ActionResult({"DBEngineVersions": items})

    RDSResponse.describe_db_engine_versions = paged(describe_db_engine_versions, "DBEngineVersions")

    http = DBCluster.enable_http_endpoint

    def set_http(self: Any, val: Any) -> None:
        http.fset(self, val)
        if val and self.engine == facts.ENGINE and self.engine_mode == facts.ENGINE_MODE:
            self._enable_http_endpoint = True

    DBCluster.enable_http_endpoint = property(http.fget, set_http)

    stop, start = RDSBackend.stop_db_cluster, RDSBackend.start_db_cluster

    def stop_db_cluster(self: Any, cluster_identifier: str) -> Any:
        previous = stop(self, cluster_identifier)
        restart = dt.datetime.now(dt.UTC) + dt.timedelta(days=facts.STOPPED_CLUSTER_RESTART_DAYS)
        self.clusters[cluster_identifier].automatic_restart_time = restart.replace(microsecond=0)
        return previous

    def start_db_cluster(self: Any, cluster_identifier: str) -> Any:
        result = start(self, cluster_identifier)
        self.clusters[cluster_identifier].automatic_restart_time = None
        return result

    RDSBackend.stop_db_cluster = stop_db_cluster
    RDSBackend.start_db_cluster = start_db_cluster

    modify = RDSBackend.modify_db_cluster

    def modify_db_cluster(self: Any, kwargs: dict[str, Any]) -> Any:
        iam = kwargs.get("enable_iam_database_authentication")
        ident = kwargs.get("new_db_cluster_identifier") or kwargs["db_cluster_identifier"]
        result = modify(self, kwargs)
        if iam is not None and ident in self.clusters:
            self.clusters[ident].iam_auth = bool(iam)
        return result

    RDSBackend.modify_db_cluster = modify_db_cluster


def serve(
    port: int = 0, engine_overrides: dict[str, dict[str, Any]] | None = None, until_stdin_closes: bool = False
) -> None:
    """Run the local AWS API on 127.0.0.1 until SIGINT or SIGTERM.

    A parent process (``LocalAws``) asks for ``until_stdin_closes``: the server then also
    stops when the parent closes the pipe or dies. Without it, standard input is never read,
    so ``nohup``, ``</dev/null`` and CI background steps keep the server running.
    """
    import logging
    import signal

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    patch_moto(engine_overrides)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    host, bound = server.get_host_and_port()
    print(f"{READY_PREFIX}http://{host}:{bound}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    if until_stdin_closes:

        def watch() -> None:
            sys.stdin.read()  # returns when the parent closes the pipe or exits
            stop.set()

        threading.Thread(target=watch, daemon=True).start()
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    server.stop()


def _drain(stream: Any) -> None:
    for _ in stream:
        pass


class LocalAws:
    """A local AWS API (patched moto server) in a child process; use as a context manager."""

    def __init__(self, engine_overrides: dict[str, dict[str, Any]] | None = None, start_timeout: float = 60) -> None:
        self.engine_overrides = engine_overrides or {}
        self.start_timeout = start_timeout
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""

    def start(self) -> str:
        cmd = [sys.executable, "-m", "validator.demo", "--serve", "--port", "0", "--until-stdin-closes"]
        if self.engine_overrides:
            cmd += ["--engine-versions", json.dumps(self.engine_overrides)]
        env = dict(os.environ)
        env.pop("MOTO_ACCOUNT_ID", None)
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
        )
        assert self.proc.stdout is not None
        deadline = time.monotonic() + self.start_timeout
        line = ""
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if line.startswith(READY_PREFIX) or not line:
                break
        if not line.startswith(READY_PREFIX):
            self.stop()
            raise RuntimeError("the local AWS API did not start (is moto[server] installed?)")
        self.url = line[len(READY_PREFIX) :].strip()
        stdout = self.proc.stdout
        threading.Thread(target=_drain, args=(stdout,), daemon=True).start()  # keep the pipe from filling up
        return self.url

    def reset(self) -> None:
        """Forget every resource (moto's reset API)."""
        import urllib.request

        urllib.request.urlopen(urllib.request.Request(f"{self.url}/moto-api/reset", method="POST"), timeout=10)

    def stop(self) -> None:
        if self.proc is None:
            return
        try:
            if self.proc.stdin:
                self.proc.stdin.close()
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.proc = None

    def __enter__(self) -> LocalAws:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --------------------------------------------------------------------------- #
# The demo


def _say(text: str) -> None:
    print(f"demo: {text}", file=sys.stderr, flush=True)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aurora-validate demo",
        description="Deploy the reference Terraform into a local AWS API (moto) with real terraform, "
        "audit it with --live (drift against the same Terraform included), print the report and stop.",
    )
    parser.add_argument(
        "--terraform-dir",
        type=Path,
        default=None,
        help="configuration to deploy (default: reference/terraform)",
    )
    parser.add_argument("--format", choices=("text", "json"), default="text", help="report format")
    parser.add_argument("--ruleset", choices=("default", "bedrock-kb"), default="default", help="rule profile")
    parser.add_argument("--profile", default=None, help=argparse.SUPPRESS)  # the former spelling of --ruleset
    parser.add_argument("--show-passed", action="store_true", help="also list passed checks")
    parser.add_argument(
        "--serve", action="store_true", help="only run the local AWS API, until Ctrl-C (SIGINT) or SIGTERM"
    )
    parser.add_argument("--until-stdin-closes", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help="port for --serve (default: a free one)")
    parser.add_argument("--engine-versions", default=None, help=argparse.SUPPRESS)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(list(argv or []))
    if args.profile is not None:
        hint = f"the rule profile is --ruleset {args.profile}" if args.profile in ("default", "bedrock-kb") else (
            "the demo uses its own local AWS API, not an AWS profile"
        )
        print(f"aurora-validate demo: error: --profile: {hint}", file=sys.stderr)
        return 2
    if find_spec("moto") is None or find_spec("flask") is None:
        print(
            "aurora-validate demo: moto[server] is not installed (pip install 'moto[server]')",
            file=sys.stderr,
        )
        return 2
    if args.serve:
        try:
            overrides = json.loads(args.engine_versions) if args.engine_versions else None
        except json.JSONDecodeError:
            overrides = []
        if overrides is not None and not (
            isinstance(overrides, dict) and all(isinstance(v, dict) for v in overrides.values())
        ):
            print("aurora-validate demo: --engine-versions is not a JSON object of objects", file=sys.stderr)
            return 2
        serve(args.port, overrides, until_stdin_closes=args.until_stdin_closes)
        return 0

    from validator.sources.terraform import runner as terraform_runner

    reason = terraform_runner.missing_reason()
    if reason:
        print(f"aurora-validate demo: {reason}", file=sys.stderr)
        return 2
    source = args.terraform_dir or DEFAULT_REFERENCE
    if not source.is_dir():
        print(f"aurora-validate demo: {source}: no such directory (use --terraform-dir)", file=sys.stderr)
        return 2
    try:
        return _run_demo(args, source)
    except terraform_runner.TerraformFailed as exc:
        print(f"aurora-validate demo: {exc}", file=sys.stderr)
        return 2


def _run_demo(args: argparse.Namespace, source: Path) -> int:
    with LocalAws() as local:
        _say(f"local AWS API on {local.url}")
        code = deploy_and_report(args, source, local)
    _say("local AWS API stopped")
    return code


def deploy_and_report(args: argparse.Namespace, source: Path, local: LocalAws) -> int:
    """Apply ``source`` into ``local`` with terraform, audit the clusters live (with drift), print the report."""
    from validator.engine import evaluate
    from validator.errors import AccessDenied, InputError, UsageError
    from validator.findings import Report
    from validator.reporters import render
    from validator.sources.aws.audit import LiveRequest, audit
    from validator.sources.aws.client import Connection
    from validator.sources.terraform import runner as terraform_runner
    from validator.sources.terraform.hcl import load_root

    static = load_root(source).deployment
    region = str(static.provider.region.get(DEFAULT_REGION) if static.provider else DEFAULT_REGION)
    with tempfile.TemporaryDirectory(prefix="aurora-validate-demo-") as tmp:
        work = terraform_runner.copy_configuration(source, Path(tmp) / "terraform")
        _say(f"terraform apply of {source} (region {region}; the provider's waiters take a minute or two) ...")
        started = time.monotonic()
        state = terraform_runner.apply(work, local.url, region)
    arns = [r["values"]["arn"] for r in terraform_runner.state_resources(state, "aws_rds_cluster")]
    _say(f"deployed {len(arns)} cluster(s) in {time.monotonic() - started:.0f} s; auditing them live ...")
    request = LiveRequest(
        clusters=arns,
        all=not arns,
        regions=[region],
        connection=Connection(endpoint_url=local.url, static_credentials=("testing", "testing")),
        progress=False,
    )
    try:
        result = audit(request)
    except (InputError, UsageError, AccessDenied) as exc:
        print(f"aurora-validate demo: {exc}", file=sys.stderr)
        return 2
    report = Report(
        profile=args.ruleset,
        denied=sorted({r.operation for r in result.refused if r.denied}),
        failed_calls=sorted({r.operation for r in result.refused if not r.denied}),
    )
    for dep in result.deployments:
        dep.declared = static
        report.deployments.append(dep)
        report.roots.append(dep.root)
        report.findings.extend(evaluate(dep, args.ruleset))
    sys.stdout.write(render(report, args.format, show_passed=args.show_passed, color=sys.stdout.isatty()))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

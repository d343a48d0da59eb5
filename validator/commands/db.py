"""``aurora-validate db``: check a knowledge base's PostgreSQL database (AV6xx).

Connects with a DSN, with credentials from Secrets Manager, or with an IAM
token; optionally compares the table with a Terraform knowledge base's
field_mapping (a path argument) or with the live knowledge bases of a cluster
(``--cluster``).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
from pathlib import Path

from validator import facts
from validator.engine import evaluate
from validator.errors import AccessDenied, InputError, UsageError
from validator.findings import Finding, Report
from validator.model import KnowledgeBase, Secret
from validator.sources import database as source
from validator.sources.database import (
    DEFAULT_COLUMNS,
    DEFAULT_TABLE,
    DEFAULT_TIMEOUT_S,
    DISTANCES,
    SSL_MODES,
    TLS_SSL_MODES,
    CheckRequest,
    ConnectionSpec,
)

# libpq's environment variables that say where and as whom to connect, as psql reads them.
# PGPASSWORD and PGPASSFILE (~/.pgpass) are left to libpq itself.
PG_ENVIRONMENT = {
    "host": "PGHOST",
    "port": "PGPORT",
    "dbname": "PGDATABASE",
    "user": "PGUSER",
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
}
_PG_TARGET = ("PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER")

# PostgreSQL's statement_timeout is a 32-bit count of milliseconds.
MAX_TIMEOUT_MS = 2**31 - 1

_COLUMN_OPTIONS = {
    "primary_key_field": "--pk-column",
    "vector_field": "--vector-column",
    "text_field": "--text-column",
    "metadata_field": "--metadata-column",
    "custom_metadata_field": "--custom-metadata-column",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The db command's own options.

    The CLI adds the output options and the positional ``paths`` (TERRAFORM_DIR: compare the
    table with the aws_bedrockagent_knowledge_base found there).
    """
    parser.description = (
        "Check the PostgreSQL database behind a Bedrock knowledge base: pgvector, the table, its "
        "indexes and the role's privileges. Reads the catalog only, in one read-only transaction."
    )
    conn = parser.add_argument_group("connection")
    conn.add_argument(
        "--dsn",
        help="libpq URI or key=value string; prefer PGPASSWORD or ~/.pgpass to a password in it",
    )
    conn.add_argument("--cluster", help="Aurora cluster identifier: endpoint and master username from AWS")
    conn.add_argument("--secret-arn", help="Secrets Manager secret with username and password (GetSecretValue)")
    conn.add_argument("--iam", action="store_true", help="authenticate with an IAM token (TLS verify-full)")
    conn.add_argument("--region", help="AWS region (default: the AWS configuration)")
    conn.add_argument("--endpoint-url", help="AWS API endpoint (moto, LocalStack); AWS_ENDPOINT_URL also works")
    conn.add_argument("--host", help="server host (overrides the DSN, secret and cluster endpoint)")
    conn.add_argument("--port", type=int, help="server port (default 5432)")
    conn.add_argument("--dbname", help="database (default: the knowledge base's database_name or postgres)")
    conn.add_argument("--user", help="database user")
    conn.add_argument("--sslmode", choices=SSL_MODES, help="libpq sslmode (default verify-full with --iam)")
    conn.add_argument("--sslrootcert", help="CA bundle for verify-ca/verify-full (for RDS: global-bundle.pem)")
    conn.add_argument("--timeout", type=int, default=DEFAULT_TIMEOUT_S, help="connect and statement timeout in seconds")
    what = parser.add_argument_group("what to check")
    what.add_argument("--table", help=f"schema.table (default: the knowledge base's table_name or {DEFAULT_TABLE})")
    what.add_argument("--dimensions", type=int, help="the embedding width the vector column must have")
    what.add_argument(
        "--embedding-model",
        help=f"Bedrock embedding model id or ARN ({', '.join(facts.EMBEDDING_MODELS)})",
    )
    what.add_argument("--distance", choices=DISTANCES, default="cosine", help="distance queries use (default cosine)")
    for role, option in _COLUMN_OPTIONS.items():
        what.add_argument(option, dest=role, metavar="COLUMN", help=f"{role} column (default {DEFAULT_COLUMNS[role]})")
    what.add_argument("--kb-user", help="role whose privileges to check (default: the connecting user)")
    what.add_argument(
        "--knowledge-base", help="address or name of the knowledge base to compare, when there are several"
    )
    what.add_argument("--var-file", action="append", default=[], help="tfvars file for TERRAFORM_DIR")
    what.add_argument("--var", action="append", default=[], metavar="NAME=VALUE", help="variable for TERRAFORM_DIR")


def collect(args: argparse.Namespace) -> Report:
    """Connect, read the database and run the AV6xx rules."""
    _check_options(args)
    aws = source.AwsContext(
        region=args.region, profile=getattr(args, "aws_profile", None), endpoint_url=args.endpoint_url
    )
    report_errors: list[InputError] = []
    denied: list[str] = []
    roots: list[str] = []
    terraform_path = _terraform_path(args)

    knowledge_bases: list[KnowledgeBase] = []
    master_username: str | None = None
    if terraform_path:
        knowledge_bases, master_username, load_errors = _terraform_knowledge_bases(args, terraform_path)
        report_errors.extend(load_errors)
        roots.append(terraform_path)

    cluster = source.describe_cluster(args.cluster, aws) if args.cluster else None
    if cluster is not None:
        master_username = master_username or cluster.master_username
        if not terraform_path:
            try:
                knowledge_bases = source.knowledge_bases_for_cluster(cluster.arn, aws)
            except AccessDenied as exc:  # the database checks still run; AV607 needs this permission
                denied.append(exc.operation)

    kb = _choose_knowledge_base(knowledge_bases, args.knowledge_base)
    request = _request(args, kb, master_username)
    spec = _connection(args, aws, cluster, kb)
    [deployment] = source.load_database(source.DatabaseRequest(spec, request)).deployments
    deployment.knowledge_bases = [kb] if kb is not None else []
    if denied and deployment.database is not None:
        deployment.database.knowledge_bases_unreadable = f"AWS refused {', '.join(denied)}"
    roots.insert(0, spec.masked())
    profile = getattr(args, "rules_profile", None) or "default"
    findings = evaluate(deployment, profile)
    if terraform_path:
        findings = [_from_current_directory(f, terraform_path) for f in findings]
    report = Report(findings=findings, errors=report_errors, roots=roots, profile=profile, noun="database")
    report.denied = denied
    return report


def _from_current_directory(finding: Finding, terraform_path: str) -> Finding:
    """A finding located in the Terraform (AV607) belongs to TERRAFORM_DIR, which its file is relative to.

    Every report then names the file from the current directory (TERRAFORM_DIR/file), as the
    other modes do, and the JSON keeps ``location.file`` relative to the finding's ``root``.
    """
    loc = finding.result.location
    if not loc.file or Path(loc.file).is_absolute():
        return finding
    return dataclasses.replace(finding, root=terraform_path)


def _check_options(args: argparse.Namespace) -> None:
    if not (args.dsn or args.cluster or args.secret_arn or args.host or _pg_environment()):
        raise UsageError("db: give --dsn, --cluster, --secret-arn or --host, or set PGHOST/PGDATABASE as for psql")
    if args.iam and args.secret_arn:
        raise UsageError("db: --iam and --secret-arn are two ways to authenticate; give one")
    if args.iam and args.sslmode and args.sslmode not in TLS_SSL_MODES:
        raise UsageError(f"db: --iam needs TLS; --sslmode must be one of {', '.join(TLS_SSL_MODES)}")
    if args.dimensions is not None and not 0 < args.dimensions <= 16000:
        raise UsageError(f"db: --dimensions {args.dimensions} is not a vector width")
    if args.port is not None and not 0 < args.port < 65536:
        raise UsageError(f"db: --port {args.port} is not a port number")
    if args.timeout <= 0:
        raise UsageError("db: --timeout must be a positive number of seconds")
    if args.timeout * 1000 > MAX_TIMEOUT_MS:
        raise UsageError(f"db: --timeout must be at most {MAX_TIMEOUT_MS // 1000} seconds")
    if args.embedding_model:
        model = facts.embedding_model(args.embedding_model)
        if model is None:
            raise UsageError(
                f"db: unknown embedding model {args.embedding_model!r}; known: "
                f"{', '.join(facts.EMBEDDING_MODELS)} (or give --dimensions)"
            )
        if args.dimensions is not None and args.dimensions not in model.supported:
            widths = ", ".join(str(w) for w in model.supported)
            raise UsageError(f"db: {model.model_id} produces {widths}, not --dimensions {args.dimensions}")
    if args.table:
        source.split_table_name(args.table)


def _pg_environment() -> list[str]:
    """The libpq variables set in the environment that say which server to use."""
    return [name for name in _PG_TARGET if os.environ.get(name)]


def _terraform_path(args: argparse.Namespace) -> str | None:
    paths = list(getattr(args, "paths", None) or [])
    if len(paths) > 1:
        raise UsageError("db: give one Terraform directory (the root with the knowledge base)")
    return paths[0] if paths else None


def _terraform_knowledge_bases(
    args: argparse.Namespace, terraform_path: str
) -> tuple[list[KnowledgeBase], str | None, list[InputError]]:
    from validator.rootscan import under_root
    from validator.sources.terraform.hcl import load_root

    cli_vars: dict[str, str] = {}
    for item in args.var:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise UsageError(f"db: --var {item!r} is not NAME=VALUE")
        cli_vars[name] = value
    var_files = [Path(p) for p in args.var_file]
    loaded = load_root(Path(terraform_path), var_files=var_files, cli_vars=cli_vars)
    deployment = loaded.deployment
    kbs = [
        kb
        for kb in deployment.knowledge_bases
        if not kb.storage_type.known or kb.storage_type.value == facts.KB_STORAGE_TYPE_RDS
    ]
    if not kbs:
        raise InputError(terraform_path, "no aws_bedrockagent_knowledge_base with RDS storage here", "input error")
    master: str | None = None
    clusters = {c.address: c for c in deployment.clusters}
    for kb in kbs:
        cluster = clusters.get(kb.cluster_address or "")
        if cluster is not None and cluster.master_username.known and cluster.master_username.value:
            master = str(cluster.master_username.value)
            break
    return kbs, master, [under_root(Path(terraform_path), e) for e in loaded.errors]


def _choose_knowledge_base(kbs: list[KnowledgeBase], wanted: str | None) -> KnowledgeBase | None:
    if wanted:
        for kb in kbs:
            if wanted in (kb.address, kb.address.rsplit(".", 1)[-1]):
                return kb
        names = ", ".join(kb.address for kb in kbs) or "none"
        raise UsageError(f"db: no knowledge base {wanted!r}; found: {names}")
    if len(kbs) > 1:
        names = ", ".join(kb.address for kb in kbs)
        raise UsageError(f"db: several knowledge bases use this database ({names}); pick one with --knowledge-base")
    return kbs[0] if kbs else None


def _known_str(kb: KnowledgeBase | None, attribute: str) -> str | None:
    if kb is None:
        return None
    value = getattr(kb, attribute)
    return str(value.value) if value.known and value.value else None


def _request(args: argparse.Namespace, kb: KnowledgeBase | None, master_username: str | None) -> CheckRequest:
    columns = dict(DEFAULT_COLUMNS)
    configured: set[str] = set()
    if kb is not None:
        for role, value in kb.field_mapping.items():
            if role in columns and value.known and value.value:
                columns[role] = str(value.value)
                configured.add(role)
    for role in _COLUMN_OPTIONS:
        explicit = getattr(args, role)
        if explicit:
            columns[role] = explicit
            configured.add(role)
    table = args.table or _known_str(kb, "table_name") or DEFAULT_TABLE
    if args.dimensions is not None:
        origin = f"--dimensions {args.dimensions}"
        if args.embedding_model:
            origin += f" ({args.embedding_model})"
    else:
        origin = ""
    return CheckRequest(
        table=table,
        columns=columns,
        configured_roles=frozenset(configured),
        expected_dimensions=args.dimensions,
        expected_dimensions_origin=origin,
        embedding_model=args.embedding_model,
        distance=args.distance,
        privilege_role=args.kb_user,
        master_username=master_username,
        timeout_ms=args.timeout * 1000,
    )


def _connection(
    args: argparse.Namespace,
    aws: source.AwsContext,
    cluster: source.ClusterEndpoint | None,
    kb: KnowledgeBase | None,
) -> ConnectionSpec:
    """Merge the sources of connection parameters: flags > DSN > secret > knowledge base > cluster."""
    spec = source.parse_dsn(args.dsn) if args.dsn else ConnectionSpec()
    secret = source.secret_credentials(args.secret_arn, aws) if args.secret_arn else {}
    for key in ("host", "port", "dbname", "user"):
        if getattr(spec, key) is None and key in secret:
            setattr(spec, key, secret[key])
    if args.secret_arn:
        spec.password = secret["password"]  # the secret is asked for explicitly: it wins over the DSN
    spec.dbname = spec.dbname or _known_str(kb, "database_name")
    if cluster is not None:
        spec.host = spec.host or cluster.host
        spec.port = spec.port or cluster.port
        spec.dbname = spec.dbname or cluster.database_name
    for key in ("host", "port", "dbname", "user", "sslmode", "sslrootcert"):
        explicit = getattr(args, key)
        if explicit is not None:
            setattr(spec, key, explicit)
    for key, variable in PG_ENVIRONMENT.items():  # as libpq: below everything given explicitly
        value = os.environ.get(variable)
        if getattr(spec, key) is None and value:
            setattr(spec, key, source.parse_port(value, variable) if key == "port" else value)
    spec.dbname = spec.dbname or "postgres"
    spec.port = spec.port or source.DEFAULT_PORT
    spec.connect_timeout = args.timeout
    if args.iam:
        if not spec.host or not spec.user:
            raise UsageError("db: --iam needs a host (--host, --dsn or --cluster) and --user")
        if not spec.sslmode or spec.sslmode not in TLS_SSL_MODES:
            spec.sslmode = "verify-full"
        # The token is signed for the cluster endpoint even when --host points at a tunnel.
        sign_host = cluster.host if cluster is not None else spec.host
        sign_port = cluster.port if cluster is not None else spec.port
        spec.password = Secret(source.iam_token(sign_host, sign_port, spec.user, aws))
    return spec

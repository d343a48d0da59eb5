"""Read a PostgreSQL database's pgvector set-up for a Bedrock knowledge base.

Everything is read in ONE read-only transaction with a statement timeout,
from the system catalogs only: the table's rows are never touched. psycopg is
imported here, lazily, so the static (Terraform) path never loads it.

Credentials come from a DSN, from Secrets Manager (GetSecretValue) or from an
IAM authentication token (signed locally by boto3); the password never appears
in any message: DSNs are shown masked.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from validator import facts
from validator.errors import AccessDenied, InputError, UsageError
from validator.model import (
    Database,
    DatabaseColumn,
    DatabaseIndex,
    DatabaseTable,
    Deployment,
    KnowledgeBase,
    Location,
    Secret,
    Value,
)
from validator.sources import Loaded

if TYPE_CHECKING:  # pragma: no cover
    import psycopg

DEFAULT_TABLE = "bedrock_integration.bedrock_kb"
DEFAULT_PORT = facts.DEFAULT_PORT
DEFAULT_TIMEOUT_S = 10
# The only schemas whose functions, operators and types the checks may resolve to (pg_temp last: it is
# searched first for relations otherwise).
PINNED_SEARCH_PATH = "pg_catalog, pg_temp"

# Column roles, named as in the knowledge base's field_mapping, with the column
# names the AWS set-up guide uses.
DEFAULT_COLUMNS: dict[str, str] = {
    "primary_key_field": "id",
    "vector_field": "embedding",
    "text_field": "chunks",
    "metadata_field": "metadata",
    "custom_metadata_field": "custom_metadata",
}
REQUIRED_ROLES = ("primary_key_field", "vector_field", "text_field", "metadata_field")
DISTANCES = ("cosine", "l2", "inner")
SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
TLS_SSL_MODES = ("require", "verify-ca", "verify-full")
PRIVILEGES = ("usage", "select", "insert", "update", "delete")


# --------------------------------------------------------------------------- #
# Connection parameters


@dataclass
class ConnectionSpec:
    """Where and as whom to connect. ``password`` never shows in str/repr."""

    host: str | None = None
    port: int | None = None
    dbname: str | None = None
    user: str | None = None
    password: Secret | None = field(default=None, repr=False)
    sslmode: str | None = None
    sslrootcert: str | None = None
    connect_timeout: int = DEFAULT_TIMEOUT_S
    extra: dict[str, str] = field(default_factory=dict)  # other libpq parameters from the DSN

    def masked(self) -> str:
        """The connection as a URI with the password replaced by ``****``."""
        user = quote(self.user or "", safe="")
        auth = f"{user}:****@" if self.password else (f"{user}@" if user else "")
        host = self.host or "localhost"
        if ":" in host and not host.startswith("/"):
            host = f"[{host}]"
        elif host.startswith("/"):
            host = quote(host, safe="")
        port = f":{self.port}" if self.port else ""
        return f"postgresql://{auth}{host}{port}/{quote(self.dbname or '', safe='')}"

    def location(self, what: str = "") -> Location:
        """A finding location naming the server, database and object (no user, no password)."""
        host = self.host or "localhost"
        arn = f"postgresql://{host}:{self.port or DEFAULT_PORT}/{self.dbname or ''}"
        return Location(api_call="postgresql", arn=f"{arn}/{what}" if what else arn)

    def connect_kwargs(self, timeout_ms: int | None = None) -> dict[str, Any]:
        out: dict[str, Any] = dict(self.extra)
        # Settings sent at connection start win over the role's and the database's own (ALTER ROLE ... SET):
        # the catalog functions are pg_catalog's, and the role cannot lift the statement timeout.
        pinned = [f"-c search_path={PINNED_SEARCH_PATH.replace(' ', '')}"]
        if timeout_ms is not None:
            pinned += [f"-c statement_timeout={int(timeout_ms)}", f"-c lock_timeout={int(timeout_ms)}"]
        out["options"] = " ".join(filter(None, [out.get("options", ""), *pinned]))
        for key in ("host", "port", "dbname", "user", "sslmode", "sslrootcert"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.password is not None:
            out["password"] = str(self.password)
        out["connect_timeout"] = self.connect_timeout
        out["application_name"] = out.get("application_name", "aurora-validate")
        return out


def parse_dsn(dsn: str) -> ConnectionSpec:
    """A ConnectionSpec from a libpq URI or key=value string."""
    from psycopg import conninfo

    try:
        parts = conninfo.conninfo_to_dict(dsn)
    except Exception as exc:  # libpq's own messages may echo the password
        match = re.search(r'invalid connection option "(\w+)"', str(exc))
        detail = f': unknown option "{match.group(1)}"' if match else ""
        raise InputError("--dsn", f"not a valid PostgreSQL connection string{detail}", "usage error") from None
    spec = ConnectionSpec()
    port = parts.pop("port", None)
    if port is not None:
        spec.port = parse_port(str(port), "--dsn")
    password = parts.pop("password", None)
    if password:
        spec.password = Secret(password)
    for key in ("host", "dbname", "user", "sslmode", "sslrootcert"):
        value = parts.pop(key, None)
        if value is not None:
            setattr(spec, key, str(value))
    timeout = parts.pop("connect_timeout", None)
    if timeout is not None and str(timeout).isdigit():
        spec.connect_timeout = int(timeout)
    spec.extra = {k: str(v) for k, v in parts.items() if v is not None}
    return spec


def parse_port(text: str, where: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise InputError(where, f"port {text!r} is not a number between 1 and 65535", "usage error")
    return int(text)


# --------------------------------------------------------------------------- #
# Credentials from AWS (boto3 only here, called by the db command)


@dataclass(frozen=True)
class AwsContext:
    """Region and named profile for the few AWS calls the db command makes."""

    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None  # a local AWS API (moto, LocalStack); AWS_ENDPOINT_URL also works


def _client(service: str, aws: AwsContext, region: str | None = None) -> Any:
    """The live audit's guarded client (read-only calls only, answers checked, bounded retries)."""
    from botocore.exceptions import BotoCoreError

    from validator.sources.aws.client import Clients, Connection, endpoint_address, retry_settings

    if aws.endpoint_url:
        endpoint_address(aws.endpoint_url)
    mode, attempts = retry_settings()
    connection = Connection(
        aws_profile=aws.profile,
        endpoint_url=aws.endpoint_url,
        max_attempts=attempts,
        retry_mode=mode,
        require_credentials=False,  # a lookup without credentials names its cluster or secret
    )
    try:
        clients = Clients(connection)
        where = aws.region or region or clients.default_region()
        if not where:
            raise UsageError("no AWS region: give --region or set AWS_REGION")
        return clients.client(service, where)
    except BotoCoreError as exc:
        raise UsageError(f"AWS configuration: {exc}") from None


def _aws_error(operation: str, target: str, exc: Exception) -> Exception:
    """AccessDenied or a one-line InputError, from the AWS error mapping the live audit uses."""
    from validator.sources.aws.client import classify

    failure = classify(exc)
    if failure is None:
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return InputError(target, f"{operation} failed: {first_line}", "aws error")
    if failure.kind == "no-credentials":
        return InputError(target, "no AWS credentials found (set a profile or AWS_ACCESS_KEY_ID)", "aws error")
    if failure.kind == "denied":
        return AccessDenied(operation, failure.message or failure.code)
    detail = f"{failure.code}: {failure.message or failure.code}".rstrip(": ")
    return InputError(target, f"{operation} failed: {detail}", "aws error")


def _not_found(exc: Exception, code: str) -> bool:
    """Whether ``exc`` is AWS's answer that the resource does not exist (error ``code``)."""
    from validator.sources.aws.client import classify

    failure = classify(exc)
    return failure is not None and failure.kind == "aws" and failure.code == code


def region_of_arn(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[3] if len(parts) > 5 and parts[0] == "arn" and parts[3] else None


@dataclass(frozen=True)
class ClusterEndpoint:
    """What DescribeDBClusters says about a cluster, for connecting and for AV606/AV607."""

    identifier: str
    arn: str
    host: str
    port: int
    master_username: str | None
    database_name: str | None
    iam_auth: bool | None


def describe_cluster(identifier: str, aws: AwsContext) -> ClusterEndpoint:
    """The writer endpoint and master username of an Aurora cluster (rds:DescribeDBClusters)."""
    client = _client("rds", aws, region_of_arn(identifier))
    try:
        clusters = client.describe_db_clusters(DBClusterIdentifier=identifier)["DBClusters"]
    except Exception as exc:
        if _not_found(exc, "DBClusterNotFoundFault"):
            raise InputError(identifier, "no such DB cluster in this account and region", "aws error") from None
        raise _aws_error("rds:DescribeDBClusters", identifier, exc) from None
    if not clusters:
        raise InputError(identifier, "no such DB cluster in this account and region", "aws error")
    c = clusters[0]
    return ClusterEndpoint(
        identifier=c.get("DBClusterIdentifier", identifier),
        arn=c.get("DBClusterArn", ""),
        host=c.get("Endpoint", ""),
        port=int(c.get("Port") or DEFAULT_PORT),
        master_username=c.get("MasterUsername"),
        database_name=c.get("DatabaseName"),
        iam_auth=c.get("IAMDatabaseAuthenticationEnabled"),
    )


def secret_credentials(secret_arn: str, aws: AwsContext) -> dict[str, Any]:
    """username/password (and host, port, dbname when present) from Secrets Manager.

    The password is returned as a :class:`Secret`; the secret's text is never
    echoed in an error.
    """
    client = _client("secretsmanager", aws, region_of_arn(secret_arn))
    try:
        response = client.get_secret_value(SecretId=secret_arn)
    except Exception as exc:
        if _not_found(exc, "ResourceNotFoundException"):
            raise InputError(secret_arn, "no such secret", "aws error") from None
        raise _aws_error("secretsmanager:GetSecretValue", secret_arn, exc) from None
    try:
        data = json.loads(response.get("SecretString") or "")
    except ValueError:
        data = None
    if not isinstance(data, dict) or "password" not in data:
        raise InputError(secret_arn, 'the secret is not a JSON object with "username" and "password"', "input error")
    out: dict[str, Any] = {"password": Secret(str(data["password"]))}
    if data.get("username"):
        out["user"] = str(data["username"])
    if data.get("host"):
        out["host"] = str(data["host"])
    if data.get("port"):
        out["port"] = parse_port(str(data["port"]), secret_arn)
    if data.get("dbname"):
        out["dbname"] = str(data["dbname"])
    return out


def iam_token(host: str, port: int, user: str, aws: AwsContext) -> Secret:
    """An IAM database authentication token (SigV4, signed locally: no network call)."""
    client = _client("rds", aws)
    try:
        token = client.generate_db_auth_token(DBHostname=host, Port=port, DBUsername=user)
    except Exception as exc:
        raise _aws_error("rds:GenerateDBAuthToken", host, exc) from None
    return Secret(token)


def knowledge_bases_for_cluster(cluster_arn: str, aws: AwsContext) -> list[KnowledgeBase]:
    """The Bedrock knowledge bases whose RDS storage is this cluster (bedrock-agent API)."""
    client = _client("bedrock-agent", aws, region_of_arn(cluster_arn))
    summaries: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {}
    operation = "bedrock-agent:ListKnowledgeBases"
    try:
        while True:
            page = client.list_knowledge_bases(**kwargs)
            summaries.extend(page.get("knowledgeBaseSummaries", []))
            if not page.get("nextToken"):
                break
            kwargs["nextToken"] = page["nextToken"]
        operation = "bedrock-agent:GetKnowledgeBase"
        found: list[KnowledgeBase] = []
        for summary in summaries:
            kb = client.get_knowledge_base(knowledgeBaseId=summary["knowledgeBaseId"])["knowledgeBase"]
            storage = kb.get("storageConfiguration", {})
            rds = storage.get("rdsConfiguration") or {}
            if storage.get("type") == facts.KB_STORAGE_TYPE_RDS and rds.get("resourceArn") == cluster_arn:
                found.append(_live_knowledge_base(kb, rds))
    except Exception as exc:
        raise _aws_error(operation, cluster_arn, exc) from None
    return found


_LIVE_FIELDS = {
    "primaryKeyField": "primary_key_field",
    "vectorField": "vector_field",
    "textField": "text_field",
    "metadataField": "metadata_field",
    "customMetadataField": "custom_metadata_field",
}


def _live_knowledge_base(kb: dict[str, Any], rds: dict[str, Any]) -> KnowledgeBase:
    origin = Location(api_call="bedrock-agent:GetKnowledgeBase", arn=kb.get("knowledgeBaseArn"))

    def val(raw: Any) -> Value[Any]:
        return Value(raw, origin)

    mapping = rds.get("fieldMapping") or {}
    return KnowledgeBase(
        address=kb.get("name") or kb.get("knowledgeBaseId", ""),
        origin=origin,
        storage_type=val(facts.KB_STORAGE_TYPE_RDS),
        resource_arn=val(rds.get("resourceArn")),
        credentials_secret_arn=val(rds.get("credentialsSecretArn")),
        database_name=val(rds.get("databaseName")),
        table_name=val(rds.get("tableName")),
        field_mapping={snake: val(mapping[camel]) for camel, snake in _LIVE_FIELDS.items() if mapping.get(camel)},
    )


# --------------------------------------------------------------------------- #
# Connecting


def connection_error(exc: BaseException, spec: ConnectionSpec) -> InputError:
    """One line saying why a connection failed; the password is never included."""
    text = str(exc)
    low = text.lower()
    where = spec.masked()
    host = f"{spec.host or 'localhost'}:{spec.port or DEFAULT_PORT}"
    user = spec.user or "the default user"
    if "password authentication failed" in low or "pam authentication failed" in low:
        message = f"authentication failed for user {user} (wrong password or token)"
    elif "no password supplied" in low:
        message = f"the server asks for a password and none was given for user {user}"
    elif match := re.search(r'database "([^"]*)" does not exist', text):
        message = f'database "{match.group(1)}" does not exist on {host}'
    elif match := re.search(r'role "([^"]*)" does not exist', text):
        message = f'role "{match.group(1)}" does not exist on {host}'
    elif "server does not support ssl" in low:
        message = f"TLS failure: the server at {host} does not support TLS, but sslmode={spec.sslmode} requires it"
    elif "root certificate file" in low:
        message = (
            f"TLS failure: sslmode={spec.sslmode} needs the CA bundle; give --sslrootcert "
            "(for RDS: the global-bundle.pem from AWS)"
        )
    elif "ssl" in low or "certificate" in low or "tls" in low:
        message = "TLS failure: " + _detail(text, spec)
    elif "connection refused" in low:
        message = f"connection refused by {host} (is the server running and reachable?)"
    elif "could not translate host name" in low or "name or service not known" in low:
        message = f"unknown host {spec.host}"
    elif "timeout expired" in low or "timed out" in low:
        message = f"no answer from {host} within {spec.connect_timeout} s"
    elif "no pg_hba.conf entry" in low:
        message = f"the server at {host} does not accept this client, user or database (pg_hba.conf)"
    else:
        message = _detail(text, spec)
    return InputError(where, message, "connection error")


def _detail(text: str, spec: ConnectionSpec | None = None) -> str:
    """The useful first line of a server or libpq message, password removed."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    line = lines[0] if lines else "connection failed"
    line = re.sub(r"^connection failed:\s*", "", line)
    line = re.sub(r"^connection to server (at|on) .*? failed:\s*", "", line)
    line = re.sub(r"^FATAL:\s*", "", line).strip() or "connection failed"
    if spec is not None and spec.password:
        line = line.replace(str(spec.password), "****")
    return line


def connect(spec: ConnectionSpec, timeout_ms: int | None = None) -> psycopg.Connection[Any]:
    """An autocommit connection with search_path (and the timeouts) pinned; failures are one-line InputErrors."""
    import psycopg

    try:
        return psycopg.connect(**spec.connect_kwargs(timeout_ms), autocommit=True)
    except psycopg.Error as exc:
        raise connection_error(exc, spec) from None
    except (OSError, ValueError) as exc:  # e.g. an unreadable sslrootcert
        raise connection_error(exc, spec) from None


@contextmanager
def read_only_transaction(conn: psycopg.Connection[Any], timeout_ms: int) -> Iterator[psycopg.Connection[Any]]:
    """One READ ONLY transaction with a statement and lock timeout, always rolled back."""
    conn.execute("SET default_transaction_read_only = on")
    conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
    try:
        # search_path first (SET is a command no schema can shadow), then the timeouts through the
        # schema-qualified function, so a set_config() of the role's own schemas is never called.
        conn.execute(f"SET LOCAL search_path = {PINNED_SEARCH_PATH}")
        conn.execute("SELECT pg_catalog.set_config('statement_timeout', %s, true)", (str(int(timeout_ms)),))
        conn.execute("SELECT pg_catalog.set_config('lock_timeout', %s, true)", (str(int(timeout_ms)),))
        yield conn
    finally:
        if not conn.closed:
            conn.execute("ROLLBACK")


# --------------------------------------------------------------------------- #
# Reading the catalog


def split_table_name(name: str) -> tuple[str, str]:
    """``schema.table`` (unqualified means ``public``); quotes allowed around either part."""
    match = re.fullmatch(r'\s*(?:("(?:[^"]|"")+"|[^."]+)\.)?("(?:[^"]|"")+"|[^."]+)\s*', name)
    if not match:
        raise UsageError(f"--table: {name!r} is not a table name (schema.table)")

    def unquote(part: str | None) -> str | None:
        if part is None:
            return None
        if part.startswith('"'):
            return part[1:-1].replace('""', '"')
        return part.lower()

    return unquote(match.group(1)) or "public", unquote(match.group(2)) or ""


@dataclass
class CheckRequest:
    """What to check in the database, besides where to connect."""

    table: str = DEFAULT_TABLE
    columns: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_COLUMNS))
    configured_roles: frozenset[str] = frozenset()
    expected_dimensions: int | None = None
    expected_dimensions_origin: str = ""
    embedding_model: str | None = None
    distance: str = "cosine"
    privilege_role: str | None = None  # defaults to the connecting user
    master_username: str | None = None  # the cluster's master username, when known
    timeout_ms: int = DEFAULT_TIMEOUT_S * 1000


_SQL_SERVER = "SELECT pg_catalog.current_setting('server_version'), current_user, pg_catalog.current_database()"
_SQL_VECTOR_INSTALLED = "SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'vector'"
_SQL_VECTOR_AVAILABLE = "SELECT default_version FROM pg_catalog.pg_available_extensions WHERE name = 'vector'"
_SQL_SCHEMA = "SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = %s"
_SQL_TABLE = """
SELECT c.oid FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %s AND c.relname = %s AND c.relkind IN ('r', 'p')
"""
_SQL_COLUMNS = """
SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull
FROM pg_catalog.pg_attribute a
WHERE a.attrelid = %s AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum
"""
_SQL_PRIMARY_KEY = """
SELECT a.attname
FROM pg_catalog.pg_index i
JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey::int2[])
WHERE i.indrelid = %s AND i.indisprimary
ORDER BY pg_catalog.array_position(i.indkey::int2[], a.attnum)
"""
_SQL_INDEXES = """
SELECT ic.relname,
       am.amname,
       pg_catalog.pg_get_indexdef(i.indexrelid),
       ARRAY(SELECT pg_catalog.pg_get_indexdef(i.indexrelid, k, true)
             FROM pg_catalog.generate_series(1, i.indnkeyatts) AS k ORDER BY k),
       ARRAY(SELECT opc.opcname
             FROM pg_catalog.unnest(i.indclass::oid[]) WITH ORDINALITY AS u(opc_oid, n)
             JOIN pg_catalog.pg_opclass opc ON opc.oid = u.opc_oid ORDER BY u.n),
       i.indisvalid,
       i.indpred IS NOT NULL
FROM pg_catalog.pg_index i
JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
JOIN pg_catalog.pg_am am ON am.oid = ic.relam
WHERE i.indrelid = %s
ORDER BY ic.relname
"""
_SQL_ROLE = "SELECT oid, rolsuper FROM pg_catalog.pg_roles WHERE rolname = %s"
_SQL_RDS_SUPERUSER_EXISTS = "SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'rds_superuser'"
_SQL_RDS_SUPERUSER_MEMBER = "SELECT pg_catalog.pg_has_role(%s::oid, 'rds_superuser', 'MEMBER')"
_SQL_SCHEMA_USAGE = "SELECT pg_catalog.has_schema_privilege(%s::oid, %s::oid, 'USAGE')"
_SQL_TABLE_PRIVILEGES = """
SELECT pg_catalog.has_table_privilege(%(role)s::oid, %(table)s::oid, 'SELECT'),
       pg_catalog.has_table_privilege(%(role)s::oid, %(table)s::oid, 'INSERT'),
       pg_catalog.has_table_privilege(%(role)s::oid, %(table)s::oid, 'UPDATE'),
       pg_catalog.has_table_privilege(%(role)s::oid, %(table)s::oid, 'DELETE')
"""


def read_database(spec: ConnectionSpec, request: CheckRequest) -> Deployment:
    """Connect, read the catalog in one read-only transaction, and return a ``database`` Deployment."""
    import psycopg

    conn = connect(spec, request.timeout_ms)
    try:
        with read_only_transaction(conn, request.timeout_ms):
            database = read_catalog(conn, spec, request)
    except psycopg.errors.QueryCanceled:
        raise InputError(
            spec.masked(), f"a catalog query ran longer than {request.timeout_ms} ms", "database error"
        ) from None
    except psycopg.OperationalError as exc:  # the server went away mid-check
        raise connection_error(exc, spec) from None
    except psycopg.Error as exc:
        raise InputError(spec.masked(), _detail(str(exc), spec), "database error") from None
    finally:
        conn.close()
    if database.vector_installed is None and database.vector_available is None:
        raise InputError(
            spec.masked(),
            "pgvector is not available on this server (no 'vector' in pg_available_extensions); "
            "on Aurora PostgreSQL it needs engine 15.4, 14.9, 13.12 or later",
            "database error",
        )
    return Deployment(kind="database", root=spec.masked(), database=database)


@dataclass(frozen=True)
class DatabaseRequest:
    """Where to connect and what to check: the database source's request (``validator.sources``)."""

    connection: ConnectionSpec
    check: CheckRequest


def load_database(request: DatabaseRequest) -> Loaded:
    """The registered loader: one ``database`` deployment (a server that cannot be read raises InputError)."""
    return Loaded([read_database(request.connection, request.check)])


def read_catalog(conn: psycopg.Connection[Any], spec: ConnectionSpec, request: CheckRequest) -> Database:
    """Everything the database rules need, from catalog queries on ``conn``."""
    server_version, current_user, dbname = _one(conn, _SQL_SERVER)
    spec = replace(spec, dbname=dbname)
    installed = _scalar(conn, _SQL_VECTOR_INSTALLED)
    available = _scalar(conn, _SQL_VECTOR_AVAILABLE)
    schema, name = split_table_name(request.table)
    qualified = f"{schema}.{name}"
    schema_oid = _scalar(conn, _SQL_SCHEMA, (schema,))
    table_oid = _scalar(conn, _SQL_TABLE, (schema, name)) if schema_oid is not None else None

    table: DatabaseTable | None = None
    if table_oid is not None:
        columns = {
            # With search_path pinned to pg_catalog, format_type() qualifies types of public too.
            col: DatabaseColumn(col, data_type.removeprefix("public."), bool(not_null))
            for col, data_type, not_null in conn.execute(_SQL_COLUMNS, (table_oid,)).fetchall()
        }
        primary_key = [row[0] for row in conn.execute(_SQL_PRIMARY_KEY, (table_oid,)).fetchall()]
        indexes = [
            DatabaseIndex(
                name=idx_name,
                table=qualified,
                method=method,
                definition=definition,
                columns=list(keys),
                opclasses=list(opclasses),
                valid=bool(valid),
                partial=bool(partial),
            )
            for idx_name, method, definition, keys, opclasses, valid, partial in conn.execute(
                _SQL_INDEXES, (table_oid,)
            ).fetchall()
        ]
        table = DatabaseTable(schema, name, columns, primary_key, indexes)

    role = request.privilege_role or current_user
    role_row = _one_or_none(conn, _SQL_ROLE, (role,))
    if role_row is None:
        raise InputError(spec.masked(), f'role "{role}" (--kb-user) does not exist', "usage error")
    role_oid, role_super = role_row
    privileges: dict[str, bool] = {}
    if schema_oid is not None:
        privileges["usage"] = bool(_scalar(conn, _SQL_SCHEMA_USAGE, (role_oid, schema_oid)))
    if table_oid is not None:
        row = _one(conn, _SQL_TABLE_PRIVILEGES, {"role": role_oid, "table": table_oid})
        privileges.update(zip(("select", "insert", "update", "delete"), (bool(v) for v in row), strict=True))

    reasons: list[str] = []
    if role_super:
        reasons.append("is a superuser")
    if _scalar(conn, _SQL_RDS_SUPERUSER_EXISTS) and _scalar(conn, _SQL_RDS_SUPERUSER_MEMBER, (role_oid,)):
        reasons.append("is a member of rds_superuser")
    if request.master_username and role == request.master_username:
        reasons.append("is the cluster's master username")

    return Database(
        origin=spec.location(qualified),
        server_version=str(server_version),
        current_user=str(current_user),
        vector_installed=installed,
        vector_available=available,
        table=table,
        table_name=qualified,
        privileges=privileges,
        is_master_user=bool(reasons),
        expected_dimensions=request.expected_dimensions,
        expected_dimensions_origin=request.expected_dimensions_origin,
        column_names=dict(request.columns),
        database_name=str(dbname),
        schema_exists=schema_oid is not None,
        privilege_role=role,
        master_reason=" and ".join(reasons),
        embedding_model=request.embedding_model,
        distance=request.distance,
        configured_roles=request.configured_roles,
        server_origin=spec.location(),
    )


def _one(conn: psycopg.Connection[Any], sql: str, params: Any = None) -> tuple[Any, ...]:
    row = conn.execute(sql, params).fetchone()
    if row is None:  # pragma: no cover - every query used here returns a row
        raise InputError("postgresql", "a catalog query returned no row", "database error")
    return tuple(row)


def _one_or_none(conn: psycopg.Connection[Any], sql: str, params: Any = None) -> tuple[Any, ...] | None:
    row = conn.execute(sql, params).fetchone()
    return tuple(row) if row is not None else None


def _scalar(conn: psycopg.Connection[Any], sql: str, params: Any = None) -> Any:
    row = conn.execute(sql, params).fetchone()
    return row[0] if row is not None else None

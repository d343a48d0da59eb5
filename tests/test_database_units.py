"""The database checks without a server: connection strings, messages, rules on hand-built models."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from validator import facts
from validator.cli import main
from validator.engine import evaluate
from validator.errors import AccessDenied, InputError
from validator.model import Database, DatabaseColumn, DatabaseIndex, DatabaseTable, Location, Secret
from validator.rules import Status
from validator.sources import database as source

ROOT = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- #
# Connection strings


def test_dsn_is_masked_and_the_password_kept_secret() -> None:
    spec = source.parse_dsn("postgresql://kb%20user:s3cr%40t-Pw@db.example.internal:6543/vectors?sslmode=require")
    assert spec.user == "kb user"
    assert str(spec.password) == "s3cr@t-Pw"
    assert isinstance(spec.password, Secret)
    assert spec.masked() == "postgresql://kb%20user:****@db.example.internal:6543/vectors"
    assert "s3cr" not in repr(spec)
    assert spec.location("s.t").arn == "postgresql://db.example.internal:6543/vectors/s.t"
    assert spec.connect_kwargs()["sslmode"] == "require"


def test_key_value_dsn_without_password() -> None:
    spec = source.parse_dsn("host=10.0.0.5 dbname=kb user=reader application_name=ci")
    assert spec.masked() == "postgresql://reader@10.0.0.5/kb"
    assert spec.extra == {"application_name": "ci"}


def test_invalid_dsn_does_not_echo_the_password() -> None:
    with pytest.raises(InputError) as caught:
        source.parse_dsn("postgresql://u:p%zzTopSecret@h/db")
    assert "TopSecret" not in str(caught.value)
    assert "not a valid PostgreSQL connection string" in str(caught.value)
    with pytest.raises(InputError, match='unknown option "colour"'):
        source.parse_dsn("host=h colour=blue")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("bedrock_integration.bedrock_kb", ("bedrock_integration", "bedrock_kb")),
        ("KB_Table", ("public", "kb_table")),
        ('"My Schema"."Table.One"', ("My Schema", "Table.One")),
    ],
)
def test_table_names(name: str, expected: tuple[str, str]) -> None:
    assert source.split_table_name(name) == expected


@pytest.mark.parametrize(
    ("libpq", "expected"),
    [
        ('connection to server at "h" (10.0.0.5), port 5432 failed: timeout expired', "no answer from h:5432"),
        ('could not translate host name "nowhere.invalid" to address', "unknown host nowhere.invalid"),
        ('root certificate file "/root/.postgresql/root.crt" does not exist', "give --sslrootcert"),
        ("SSL error: certificate verify failed", "TLS failure: SSL error: certificate verify failed"),
        ('FATAL:  no pg_hba.conf entry for host "1.2.3.4"', "does not accept this client"),
        ('FATAL:  PAM authentication failed for user "iam_user"', "authentication failed for user iam_user"),
    ],
)
def test_connection_errors_are_one_line(libpq: str, expected: str) -> None:
    spec = source.ConnectionSpec(host="h", port=5432, user="iam_user", password=Secret("hunter2-token"))
    if "nowhere" in libpq:
        spec.host = "nowhere.invalid"
    error = source.connection_error(Exception(libpq + "\n\tIs the server running?"), spec)
    assert expected in error.message
    assert "\n" not in str(error)
    assert "hunter2" not in str(error)


def test_a_server_message_that_quotes_the_password_is_scrubbed() -> None:
    spec = source.ConnectionSpec(host="h", password=Secret("hunter2-token"))
    error = source.connection_error(Exception("FATAL:  weird failure near hunter2-token"), spec)
    assert error.message == "weird failure near ****"


def test_aws_errors_map_to_access_denied_or_one_line() -> None:
    from botocore.exceptions import ClientError

    denied = ClientError({"Error": {"Code": "AccessDeniedException", "Message": "not allowed"}}, "GetSecretValue")
    assert isinstance(source._aws_error("secretsmanager:GetSecretValue", "arn", denied), AccessDenied)
    throttled = ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "GetSecretValue")
    mapped = source._aws_error("secretsmanager:GetSecretValue", "arn", throttled)
    assert isinstance(mapped, InputError)
    assert mapped.message == "secretsmanager:GetSecretValue failed: ThrottlingException: slow down"


def test_access_denied_exits_3(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def refuse(identifier: str, aws: source.AwsContext) -> source.ClusterEndpoint:
        raise AccessDenied("rds:DescribeDBClusters", "User is not authorized")

    monkeypatch.setattr(source, "describe_cluster", refuse)
    assert main(["db", "--cluster", "kb"]) == 3
    assert "rds:DescribeDBClusters" in capsys.readouterr().err


# --------------------------------------------------------------------------- #
# Command-line use


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([], "give --dsn, --cluster, --secret-arn or --host"),
        (["--host", "h", "--embedding-model", "openai.ada"], "unknown embedding model 'openai.ada'"),
        (
            ["--host", "h", "--embedding-model", "amazon.titan-embed-text-v2:0", "--dimensions", "1536"],
            "produces 1024, 512, 256, not --dimensions 1536",
        ),
        (["--host", "h", "--dimensions", "0"], "--dimensions 0 is not a vector width"),
        (["--host", "h", "--table", "a.b.c"], "is not a table name"),
        (["--host", "h", "--iam", "--secret-arn", "arn:aws:secretsmanager:r:1:secret:x"], "give one"),
        (["--host", "h", "dir1", "dir2"], "give one Terraform directory"),
        (["--host", "127.0.0.1", "--port", "1", "--timeout", "3000000"], "--timeout must be at most 2147483"),
    ],
)
def test_usage_errors(argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert expected in captured.err
    assert captured.err.strip().count("\n") == 0


def test_terraform_root_without_a_knowledge_base(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "--host", "127.0.0.1", str(ROOT / "reference" / "terraform")]) == 2
    assert "no aws_bedrockagent_knowledge_base with RDS storage here" in capsys.readouterr().err


def test_the_static_path_never_imports_psycopg() -> None:
    probe = (
        "import sys; from validator.rules import all_rules; "
        "ids = [r.id for r in all_rules()]; assert 'AV601' in ids and 'AV607' in ids, ids; "
        "print('psycopg' in sys.modules, 'boto3' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False False"


# --------------------------------------------------------------------------- #
# Rules on hand-built models


def database(**overrides: object) -> Database:
    columns = {
        "id": DatabaseColumn("id", "uuid", True),
        "embedding": DatabaseColumn("embedding", "vector(1024)"),
        "chunks": DatabaseColumn("chunks", "text"),
        "metadata": DatabaseColumn("metadata", "jsonb"),
    }
    hnsw = DatabaseIndex("kb_hnsw", "s.t", "hnsw", "", ["embedding"], ["vector_cosine_ops"])
    values: dict[str, object] = {
        "origin": Location(api_call="postgresql", arn="postgresql://h:5432/db/s.t"),
        "server_version": "16.4",
        "current_user": "kb",
        "vector_installed": "0.8.0",
        "vector_available": "0.8.0",
        "table": DatabaseTable("s", "t", columns, ["id"], [hnsw]),
        "table_name": "s.t",
        "privileges": dict.fromkeys(source.PRIVILEGES, True),
        "is_master_user": False,
        "database_name": "db",
        "schema_exists": True,
        "privilege_role": "kb",
        "column_names": dict(source.DEFAULT_COLUMNS),
    }
    values.update(overrides)
    return Database(**values)  # type: ignore[arg-type]


def results(db: Database, rule_id: str) -> list[tuple[Status, str]]:
    from validator.model import Deployment

    deployment = Deployment(kind="database", root="postgresql://h:5432/db", database=db)
    return [(f.status, f.result.message) for f in evaluate(deployment) if f.rule_id == rule_id]


@pytest.mark.parametrize(
    ("installed", "available", "status", "expected"),
    [
        ("0.8.0", "0.8.0", Status.PASS, "vector 0.8.0 is installed"),
        ("0.4.4", "0.7.0", Status.FAIL, "older than 0.5.0 (no HNSW); ALTER EXTENSION vector UPDATE; moves it to 0.7.0"),
        ("0.4.4", "0.4.4", Status.FAIL, "the server offers 0.4.4: upgrade the engine"),
        (None, "0.5.1", Status.FAIL, "not installed; the server offers 0.5.1"),
        (None, "0.4.1", Status.FAIL, "offers only 0.4.1, older than 0.5.0"),
        (None, None, Status.FAIL, "does not offer it"),
    ],
)
def test_av601_versions(installed: str | None, available: str | None, status: Status, expected: str) -> None:
    found = results(database(vector_installed=installed, vector_available=available), "AV601")
    assert len(found) == 1
    assert found[0][0] is status
    assert expected in found[0][1]


def test_av603_rejects_an_unknown_model_only_at_the_command_line() -> None:
    assert facts.embedding_model("cohere.embed-multilingual-v3").dimensions == 1024  # type: ignore[union-attr]
    assert facts.embedding_model("amazon.titan-embed-text-v2").model_id == "amazon.titan-embed-text-v2:0"  # type: ignore[union-attr]
    assert facts.embedding_model("openai.ada") is None


def test_av604_ignores_invalid_and_partial_indexes() -> None:
    broken = DatabaseIndex("kb_hnsw", "s.t", "hnsw", "", ["embedding"], ["vector_cosine_ops"], valid=False)
    partial = DatabaseIndex("kb_part", "s.t", "hnsw", "", ["embedding"], ["vector_cosine_ops"], partial=True)
    db = database()
    assert db.table is not None
    db.table.indexes = [broken, partial]
    found = results(db, "AV604")
    assert found[0][0] is Status.FAIL
    assert "kb_hnsw (hnsw, invalid), kb_part (hnsw, partial)" in found[0][1]


def test_av606_without_the_table_is_unresolved_but_still_reports_usage() -> None:
    found = results(database(table=None, privileges={"usage": False}), "AV606")
    assert (Status.UNRESOLVED, "the table privileges cannot be checked: table s.t does not exist (see AV602)") in found
    assert any(status is Status.FAIL and "kb lacks USAGE" in message for status, message in found)


def test_database_rules_apply_to_database_models_only() -> None:
    from validator.model import Deployment

    static = Deployment(kind="hcl", root="x", database=database())
    assert [f for f in evaluate(static) if f.rule_id.startswith("AV6")] == []

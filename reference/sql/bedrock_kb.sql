-- Database set-up for an Amazon Bedrock knowledge base on Aurora PostgreSQL.
-- Run once as the master user, in the database the knowledge base names
-- (database_name), before creating the knowledge base. It passes every
-- database rule of `aurora-validate db` (AV601-AV606).
--
-- Replace the placeholder password and store the same username/password in the
-- Secrets Manager secret the knowledge base uses (credentials_secret_arn).
-- vector(1024) is the width of amazon.titan-embed-text-v2:0 and Cohere Embed v3;
-- use 1536 for amazon.titan-embed-text-v1.

-- AV601: pgvector 0.5.0 or later (HNSW).
CREATE EXTENSION IF NOT EXISTS vector;

CREATE SCHEMA IF NOT EXISTS bedrock_integration;

-- AV606: a dedicated login role, not the master user.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'bedrock_user') THEN
        CREATE ROLE bedrock_user WITH LOGIN PASSWORD 'REPLACE-WITH-THE-SECRET-PASSWORD';
    END IF;
END
$$;

-- AV602/AV603: the columns Bedrock writes.
CREATE TABLE IF NOT EXISTS bedrock_integration.bedrock_kb (
    id uuid PRIMARY KEY,
    embedding vector(1024),
    chunks text,
    metadata json,
    custom_metadata jsonb
);

-- AV606: exactly what the knowledge base needs.
GRANT USAGE ON SCHEMA bedrock_integration TO bedrock_user;
GRANT SELECT, INSERT, UPDATE, DELETE ON bedrock_integration.bedrock_kb TO bedrock_user;

-- AV604: HNSW with the operator class of the distance Bedrock queries with (cosine, <=>).
CREATE INDEX IF NOT EXISTS bedrock_kb_embedding_hnsw
    ON bedrock_integration.bedrock_kb USING hnsw (embedding vector_cosine_ops)
    WITH (ef_construction = 256);

-- AV605: hybrid search (Bedrock queries to_tsvector('simple', chunks)) and metadata filters.
CREATE INDEX IF NOT EXISTS bedrock_kb_chunks_fts
    ON bedrock_integration.bedrock_kb USING gin (to_tsvector('simple', chunks));
CREATE INDEX IF NOT EXISTS bedrock_kb_custom_metadata_gin
    ON bedrock_integration.bedrock_kb USING gin (custom_metadata);

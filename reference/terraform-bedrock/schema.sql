-- Run once, as the master user, before the knowledge base is created (for
-- example with `aws rds-data execute-statement`, one statement per call).
-- vector(1024) must match embedding_dimensions in variables.tf.
CREATE EXTENSION IF NOT EXISTS vector;
CREATE SCHEMA IF NOT EXISTS bedrock_integration;
CREATE TABLE IF NOT EXISTS bedrock_integration.bedrock_kb (
    id uuid PRIMARY KEY,
    embedding vector(1024),
    chunks text,
    metadata jsonb,
    custom_metadata jsonb
);
CREATE INDEX IF NOT EXISTS bedrock_kb_embedding_idx
    ON bedrock_integration.bedrock_kb USING hnsw (embedding vector_cosine_ops);
CREATE INDEX IF NOT EXISTS bedrock_kb_chunks_idx
    ON bedrock_integration.bedrock_kb USING gin (to_tsvector('simple', chunks));
CREATE INDEX IF NOT EXISTS bedrock_kb_custom_metadata_idx
    ON bedrock_integration.bedrock_kb USING gin (custom_metadata);

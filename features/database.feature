Feature: The database behind the knowledge base
  Bedrock needs pgvector 0.5.0 or later, a table with the columns and types it
  writes, an HNSW index, GIN indexes for hybrid search, and a dedicated role.
  A real PostgreSQL with pgvector stands in for Aurora; every check is read-only.

  Background:
    Given a fresh database on a local PostgreSQL with pgvector

  Scenario: The reference schema passes every database check
    Given the database runs "reference/sql/bedrock_kb.sql"
    When I run aurora-validate db with "--kb-user bedrock_user --embedding-model amazon.titan-embed-text-v2:0"
    Then no rule fails
    And rule AV601 passes
    And rule AV602 passes
    And rule AV603 passes
    And rule AV604 passes
    And rule AV605 passes
    And rule AV606 passes
    And the output never shows the database password

  Scenario: Without the vector extension nothing else can work
    When I run aurora-validate db
    Then rule AV601 fails with severity error
    And the message says "CREATE EXTENSION IF NOT EXISTS vector"

  Scenario: A table made for another tool lacks what Bedrock writes
    Given the database runs:
      """
      CREATE EXTENSION vector;
      CREATE SCHEMA bedrock_integration;
      CREATE TABLE bedrock_integration.bedrock_kb (id bigint, embedding vector(1024), chunks text);
      """
    When I run aurora-validate db
    Then rule AV602 fails with severity error
    And the message says "metadata"

  Scenario: The vector width must match the embedding model
    Given the database runs "reference/sql/bedrock_kb.sql"
    When I run aurora-validate db with "--dimensions 1536"
    Then rule AV603 fails with severity error
    And the message says "1536"

  Scenario: An IVFFlat index alone is not the HNSW index queries need
    Given the database runs "reference/sql/bedrock_kb.sql"
    And the database runs:
      """
      DROP INDEX bedrock_integration.bedrock_kb_embedding_hnsw;
      CREATE INDEX kb_ivfflat ON bedrock_integration.bedrock_kb USING ivfflat (embedding vector_cosine_ops);
      """
    When I run aurora-validate db
    Then rule AV604 fails with severity warning
    And the message says "IVFFlat"

  Scenario: Hybrid search needs a full-text GIN index on the chunks
    Given the database runs "reference/sql/bedrock_kb.sql"
    And the database runs:
      """
      DROP INDEX bedrock_integration.bedrock_kb_chunks_fts;
      """
    When I run aurora-validate db with "--ruleset bedrock-kb"
    Then rule AV605 fails with severity error
    And the message says "to_tsvector"

  Scenario: The knowledge base should not connect as the master user
    Given the database runs "reference/sql/bedrock_kb.sql"
    When I run aurora-validate db
    Then rule AV606 fails with severity warning
    And the message says "superuser"

  Scenario: A role without write privileges cannot ingest documents
    Given the database runs "reference/sql/bedrock_kb.sql"
    And the database runs:
      """
      REVOKE INSERT, UPDATE, DELETE ON bedrock_integration.bedrock_kb FROM bedrock_user;
      """
    When I run aurora-validate db with "--kb-user bedrock_user"
    Then rule AV606 fails for "role bedrock_user"
    And the message says "INSERT"

  Scenario: The knowledge base's field mapping matches the table
    Given the reference deployment "reference/terraform-bedrock"
    And the variable "database_name" defaults to the name of that database
    And the database runs "reference/sql/bedrock_kb.sql"
    When I run aurora-validate db with "--kb-user bedrock_user"
    Then rule AV607 passes

  Scenario: A field mapping naming a column the table lacks is caught before Bedrock rejects it
    Given the reference deployment "reference/terraform-bedrock"
    And the variable "database_name" defaults to the name of that database
    And the knowledge base's storage_configuration.rds_configuration.field_mapping.text_field is "body"
    And the database runs "reference/sql/bedrock_kb.sql"
    When I run aurora-validate db with "--kb-user bedrock_user"
    Then rule AV607 fails with severity error at "modules/aurora/knowledge_base.tf" on the text_field line
    And the message says "body"

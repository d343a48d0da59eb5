"""aurora-validate: policy checks for Aurora PostgreSQL Serverless v2 as a Bedrock pgvector store."""

__version__ = "0.1.0"

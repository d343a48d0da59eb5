# The Bedrock knowledge base that uses the cluster as its vector store, and
# the service role it assumes. It lives in the cluster's module so that it
# references the cluster directly (AV203).

variable "region" {
  type = string
}

variable "embedding_model_id" {
  type = string
}

variable "embedding_dimensions" {
  type = number
}

locals {
  # Account id and partition from the cluster ARN: no data source, so an
  # offline plan needs no AWS API call.
  account_id          = split(":", aws_rds_cluster.aurora.arn)[4]
  partition           = split(":", aws_rds_cluster.aurora.arn)[1]
  embedding_model_arn = "arn:aws:bedrock:${var.region}::foundation-model/${var.embedding_model_id}"
}

resource "aws_iam_role" "knowledge_base" {
  name        = "${var.project_prefix}-${var.env}-bedrock-kb-role"
  description = "Service role of the ${var.project_prefix}-${var.env} knowledge base"

  # Only Bedrock, acting for a knowledge base of this account, may assume it.
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "bedrock.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = {
        StringEquals = { "aws:SourceAccount" = local.account_id }
        ArnLike = {
          "aws:SourceArn" = "arn:${local.partition}:bedrock:${var.region}:${local.account_id}:knowledge-base/*"
        }
      }
    }]
  })
}

# Least privilege: each permission the knowledge base needs, on the one
# resource it needs it for.
resource "aws_iam_role_policy" "knowledge_base" {
  name = "knowledge-base-access"
  role = aws_iam_role.knowledge_base.id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "DescribeCluster"
        Effect   = "Allow"
        Action   = ["rds:DescribeDBClusters"]
        Resource = [aws_rds_cluster.aurora.arn]
      },
      {
        Sid      = "DataApi"
        Effect   = "Allow"
        Action   = ["rds-data:ExecuteStatement", "rds-data:BatchExecuteStatement"]
        Resource = [aws_rds_cluster.aurora.arn]
      },
      {
        Sid      = "DatabaseCredentials"
        Effect   = "Allow"
        Action   = ["secretsmanager:GetSecretValue"]
        Resource = [aws_rds_cluster.aurora.master_user_secret[0].secret_arn]
      },
      {
        Sid      = "Embeddings"
        Effect   = "Allow"
        Action   = ["bedrock:InvokeModel"]
        Resource = [local.embedding_model_arn]
      },
    ]
  })
}

resource "aws_bedrockagent_knowledge_base" "main" {
  name        = "${var.project_prefix}-${var.env}-kb"
  description = "Knowledge base on Aurora PostgreSQL Serverless v2 (pgvector)"
  role_arn    = aws_iam_role.knowledge_base.arn

  knowledge_base_configuration {
    type = "VECTOR"
    vector_knowledge_base_configuration {
      embedding_model_arn = local.embedding_model_arn # Amazon Titan Text Embeddings v2
      embedding_model_configuration {
        bedrock_embedding_model_configuration {
          dimensions          = var.embedding_dimensions # must match vector(N) in schema.sql
          embedding_data_type = "FLOAT32"
        }
      }
    }
  }

  # AV203: the vector store is this cluster, reached through the Data API
  # (AV201) with the credentials Secrets Manager holds (AV202).
  storage_configuration {
    type = "RDS"
    rds_configuration {
      resource_arn           = aws_rds_cluster.aurora.arn
      credentials_secret_arn = aws_rds_cluster.aurora.master_user_secret[0].secret_arn
      database_name          = aws_rds_cluster.aurora.database_name
      table_name             = "bedrock_integration.bedrock_kb"
      # The table's custom_metadata column (metadata filtering) cannot be
      # mapped here: provider 5.x has no custom_metadata_field argument
      # (hashicorp/terraform-provider-aws#42447).
      field_mapping {
        primary_key_field = "id"
        vector_field      = "embedding"
        text_field        = "chunks"
        metadata_field    = "metadata"
      }
    }
  }

  # Bedrock checks the role's permissions and the table when it creates the
  # knowledge base: the policy and the writer instance must exist first.
  depends_on = [aws_iam_role_policy.knowledge_base, aws_rds_cluster_instance.writer]
}

output "knowledge_base_id" {
  value = aws_bedrockagent_knowledge_base.main.id
}

output "knowledge_base_role_arn" {
  value = aws_iam_role.knowledge_base.arn
}

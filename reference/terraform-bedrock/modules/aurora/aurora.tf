# Aurora PostgreSQL Serverless v2 cluster used as the knowledge base's vector store.

variable "project_prefix" {
  type = string
}

variable "env" {
  type = string
}

variable "subnet_ids" {
  type = list(string)
}

variable "db_security_group_id" {
  type = string
}

variable "database_name" {
  type = string
}

variable "master_username" {
  type = string
}

resource "aws_db_subnet_group" "aurora" {
  name        = "${var.project_prefix}-${var.env}-aurora-subnet-group"
  description = "Private subnets in two Availability Zones"
  subnet_ids  = var.subnet_ids # AV105: two AZs, no internet route

  tags = {
    Name = "${var.project_prefix}-${var.env}-aurora-subnet-group"
  }
}

resource "aws_rds_cluster" "aurora" {
  # AV108: lowercase letters, digits and single hyphens, starting with a letter.
  cluster_identifier = "${var.project_prefix}-${var.env}-kb-aurora"
  engine             = "aurora-postgresql" # AV101
  engine_mode        = "provisioned"       # AV102: Serverless v2 runs on a provisioned cluster (v1 "serverless" is end-of-life)
  # AV107: 16.6 supports Serverless v2 with auto-pause (16.3+) and ships pgvector >= 0.7 (0.5 is the minimum for HNSW).
  engine_version = "16.6"
  database_name  = var.database_name

  # AV202/AV302: RDS creates the master password and keeps it in Secrets
  # Manager; no password appears in code, state or plan.
  master_username             = var.master_username
  manage_master_user_password = true

  iam_database_authentication_enabled = true # AV106
  enable_http_endpoint                = true # AV201: the RDS Data API that Bedrock uses

  storage_encrypted   = true # AV304
  deletion_protection = true

  # AV403: a final snapshot is taken, so destroy needs no guesswork.
  skip_final_snapshot       = false
  final_snapshot_identifier = "${var.project_prefix}-${var.env}-kb-aurora-final"
  backup_retention_period   = 7
  copy_tags_to_snapshot     = true

  enabled_cloudwatch_logs_exports = ["postgresql"]

  # AV104/AV402: scale to zero ACU when idle. After 600 s without connections
  # the instance pauses and costs storage only; the first request after that
  # waits about 15 s (Data API calls fail with DatabaseResumingException and
  # should be retried).
  serverlessv2_scaling_configuration {
    min_capacity             = 0
    max_capacity             = 4
    seconds_until_auto_pause = 600
  }

  db_subnet_group_name   = aws_db_subnet_group.aurora.name
  vpc_security_group_ids = [var.db_security_group_id]

  tags = {
    Name = "${var.project_prefix}-${var.env}-kb-aurora"
  }
}

# One Serverless v2 writer. Add a second instance for a reader in the other AZ
# if failover time matters more than cost.
resource "aws_rds_cluster_instance" "writer" {
  identifier           = "${var.project_prefix}-${var.env}-kb-aurora-1"
  cluster_identifier   = aws_rds_cluster.aurora.id
  instance_class       = "db.serverless" # AV103
  engine               = aws_rds_cluster.aurora.engine
  engine_version       = aws_rds_cluster.aurora.engine_version
  publicly_accessible  = false # AV303
  db_subnet_group_name = aws_db_subnet_group.aurora.name

  tags = {
    Name = "${var.project_prefix}-${var.env}-kb-aurora-1"
  }
}

output "cluster_arn" {
  value = aws_rds_cluster.aurora.arn
}

output "cluster_endpoint" {
  value = aws_rds_cluster.aurora.endpoint
}

output "database_name" {
  value = aws_rds_cluster.aurora.database_name
}

output "master_user_secret_arn" {
  value = aws_rds_cluster.aurora.master_user_secret[0].secret_arn
}

output "writer_instance_id" {
  value = aws_rds_cluster_instance.writer.id
}

# ############################
# 定義済み変数の利用 / Inputs passed from the root module
# ############################
variable "project_prefix" {}
variable "env" {}
variable "aurora_root_username" {}
variable "aurora_root_password" {}

# ############################
# 前段処理で生成したリソースの値を利用 / Values produced by the network module
# ############################
variable "vpc_id" {}
variable "subnet_ids" { type = list(string) }
variable "security_group_id" {}

# ############################
# リソース作成 / Resources
# ############################

# Auroraクラスター / Aurora cluster
resource "aws_rds_cluster" "aurora_cluster" {
  cluster_identifier = "${var.project_prefix}-${var.env}-aurora-postgres-serverless-v2" # needs a valid project_prefix (AV108)
  engine            = "aurora-postgresql"
  engine_mode       = "provisioned" # Serverless v2 runs on a provisioned cluster (AV102)
  engine_version    = "16.4" # 16.4 has Serverless v2 and pgvector >= 0.5 (AV107)
  storage_encrypted = true

  ## 認証周り / Authentication
  # rootユーザー情報。扱い注意。 / master user: handle with care
  master_username   = var.aurora_root_username
  master_password   = var.aurora_root_password # plaintext default in variables.tf (AV302)
  # パスワード認証だけでなく、IAMデータベース認証も許可しておく。 / also allow IAM database authentication (AV106)
  iam_database_authentication_enabled = true
  serverlessv2_scaling_configuration  {
    min_capacity = 0.5 # 0.5 ACU never pauses: about 730 ACU-hours a month (AV402)
    max_capacity = 5
  }
  vpc_security_group_ids = [var.security_group_id]
  db_subnet_group_name   = aws_db_subnet_group.aurora_subnet_group.name

  tags = {
    Name = "${var.project_prefix}-${var.env}-aurora-cluster"
  }
} # no skip_final_snapshot/final_snapshot_identifier: destroy fails (AV403)

# Auroraインスタンス / Aurora instance
resource "aws_rds_cluster_instance" "aurora_instance" {
  cluster_identifier  = aws_rds_cluster.aurora_cluster.id
  identifier          = "${aws_rds_cluster.aurora_cluster.id}-instance01"
  instance_class      = "db.serverless" # Serverless v2 (AV103)
  engine              = "aurora-postgresql"

  # パブリックインターネットからのアクセスを許可(本番時はNG) / allow access from the public internet (not for production)
  publicly_accessible = true # flagged by AV303

  tags = {
    Name = "${var.project_prefix}-${var.env}-aurora-instance"
  }
}

# サブネット所属 / DB subnet group
resource "aws_db_subnet_group" "aurora_subnet_group" {
  name       = "${var.project_prefix}-${var.env}-aurora-subnet-group"
  subnet_ids = var.subnet_ids

  tags = {
    Name = "${var.project_prefix}-${var.env}-aurora-subnet-group"
  }
}

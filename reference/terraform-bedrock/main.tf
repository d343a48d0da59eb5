# Hardened, Bedrock-ready variant of reference/terraform: Aurora PostgreSQL
# Serverless v2 in private subnets as the pgvector store of an Amazon Bedrock
# knowledge base. Each hardening choice names the validator rule it satisfies.

terraform {
  required_providers {
    aws = {
      source = "hashicorp/aws"
      # AV404: seconds_until_auto_pause needs 5.81.0 (min_capacity = 0 needs 5.80.0,
      # enable_http_endpoint on provisioned clusters 5.64.0); 6.x is a new major.
      version = ">= 5.81.0, < 6.0.0"
    }
  }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = {
      Project     = var.project_prefix
      Environment = var.env
    }
  }
}

module "network" {
  source             = "./modules/network"
  project_prefix     = var.project_prefix
  env                = var.env
  vpc_cidr           = var.vpc_cidr
  availability_zones = var.availability_zones
}

module "aurora" {
  source               = "./modules/aurora"
  project_prefix       = var.project_prefix
  env                  = var.env
  subnet_ids           = module.network.private_subnet_ids
  db_security_group_id = module.network.db_security_group_id
  database_name        = var.database_name
  master_username      = var.master_username
  region               = var.region
  embedding_model_id   = var.embedding_model_id
  embedding_dimensions = var.embedding_dimensions
}

output "cluster_arn" {
  value = module.aurora.cluster_arn
}

output "cluster_endpoint" {
  value = module.aurora.cluster_endpoint
}

output "master_user_secret_arn" {
  value = module.aurora.master_user_secret_arn
}

output "app_security_group_id" {
  description = "Attach this group to the application that connects on 5432."
  value       = module.network.app_security_group_id
}

output "knowledge_base_id" {
  value = module.aurora.knowledge_base_id
}

output "knowledge_base_role_arn" {
  value = module.aurora.knowledge_base_role_arn
}

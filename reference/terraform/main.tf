# ##################################
# 基本設定 / Basic settings
terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0" # The article has "~> 4.0", which allows 4.0-4.11 (no serverlessv2_scaling_configuration before 4.12.0) and excludes 5.x.
    }
  }
}
provider "aws" {
  region = "ap-northeast-1"
}
# ##################################


# ##################################
# 各種リソース構築 / Resources
# ##################################

# ネットワーク周り / Network
module "network" {
  source          = "./modules/network"
  project_prefix  = var.project_prefix
  env             = var.env
}

# Aurora周り / Aurora
module "aurora" {
  source               = "./modules/aurora"
  vpc_id               = module.network.vpc_id
  subnet_ids           = module.network.public_subnet_ids
  security_group_id    = module.network.aurora_sg_id
  project_prefix       = var.project_prefix
  env                  = var.env
  aurora_root_username = var.aurora_root_username
  aurora_root_password = var.aurora_root_password
}

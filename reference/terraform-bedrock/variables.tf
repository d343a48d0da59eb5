# Every variable has a default, so a static scan resolves every value.

variable "region" {
  description = "AWS region; Bedrock knowledge bases, Aurora Serverless v2 and the Data API are all available in Tokyo."
  type        = string
  default     = "ap-northeast-1"
}

variable "project_prefix" {
  description = "Common name prefix: lowercase letters, digits and hyphens only (AV108)."
  type        = string
  default     = "project-name"

  validation {
    condition     = can(regex("^[a-z](-?[a-z0-9])*$", var.project_prefix))
    error_message = "project_prefix must start with a letter and hold only lowercase letters, digits and single hyphens."
  }
}

variable "env" {
  description = "dev or prod"
  type        = string
  default     = "dev"
}

variable "vpc_cidr" {
  description = "CIDR block of the VPC."
  type        = string
  default     = "10.0.0.0/16"
}

variable "availability_zones" {
  description = "Two Availability Zones for the private DB subnets (AV105)."
  type        = list(string)
  default     = ["ap-northeast-1a", "ap-northeast-1c"]

  validation {
    condition     = length(distinct(var.availability_zones)) >= 2
    error_message = "Aurora needs subnets in at least two Availability Zones."
  }
}

variable "database_name" {
  description = "Database that holds the bedrock_integration schema."
  type        = string
  default     = "vectordb"
}

variable "master_username" {
  description = "Master user name (not the engine default 'postgres'); its password lives in Secrets Manager (AV202, AV302)."
  type        = string
  default     = "kbadmin"
}

variable "embedding_model_id" {
  description = "Bedrock embedding model: Amazon Titan Text Embeddings v2."
  type        = string
  default     = "amazon.titan-embed-text-v2:0"
}

variable "embedding_dimensions" {
  description = "Vector size; must match vector(N) of bedrock_integration.bedrock_kb.embedding (Titan v2: 1024, 512 or 256)."
  type        = number
  default     = 1024
}

variable "project_prefix" {
  description = "共通プレフィックス" # Common name prefix
  type        = string
  default     = "project-name" # The article has "project_name": RDS identifiers allow no underscore, so its plan fails.
}

variable "env" {
  description = "dev or prod"
  type        = string
  default     = "dev"
}

variable "aurora_root_username" {
  description = "Auroraのルートユーザー名(マル秘)" # Aurora master user name (secret)
  type        = string
  default     = "scotto"
}

variable "aurora_root_password" {
  description = "Auroraのルートユーザーパスワード(マル秘)" # Aurora master password (secret); dev-only plaintext default, flagged by AV302
  type        = string
  default     = "tiger111!"
}

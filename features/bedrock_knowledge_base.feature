Feature: Amazon Bedrock Knowledge Base readiness
  A knowledge base reaches Aurora through the RDS Data API, with credentials from
  Secrets Manager, and needs a complete rds_configuration pointing at the cluster.

  Scenario: The hardened reference is ready for a knowledge base
    Given the reference deployment "reference/terraform-bedrock"
    When I validate it with the bedrock-kb profile
    Then no rule fails
    And rule AV201 passes
    And rule AV203 passes for "module.aurora.aws_bedrockagent_knowledge_base.main"
    And the exit code is 0

  Scenario: The Data API is off by default
    Given the reference deployment "reference/terraform"
    When I validate it
    Then rule AV201 fails with severity warning at "modules/aurora/aurora.tf" on the first line of the aurora cluster
    And the message says "left out: the default is false"

  Scenario: The Data API switched off explicitly is an error for a knowledge base
    Given the reference deployment "reference/terraform-bedrock"
    And the aurora cluster's enable_http_endpoint is false
    When I validate it with the bedrock-kb profile
    Then rule AV201 fails with severity error at "modules/aurora/aurora.tf" on the enable_http_endpoint line
    And the exit code is 1

  Scenario: A knowledge base without its metadata field mapping is incomplete
    Given the reference deployment "reference/terraform-bedrock"
    And the knowledge base does not set storage_configuration.rds_configuration.field_mapping.metadata_field
    When I validate it
    Then rule AV203 fails with severity warning for "module.aurora.aws_bedrockagent_knowledge_base.main"
    And the message says "field_mapping.metadata_field"

  Scenario: A knowledge base pointing at a cluster outside the configuration is flagged
    Given the reference deployment "reference/terraform-bedrock"
    And the knowledge base's storage_configuration.rds_configuration.resource_arn is "arn:aws:rds:ap-northeast-1:123456789012:cluster:elsewhere"
    When I validate it
    Then rule AV203 fails at "modules/aurora/knowledge_base.tf" on the resource_arn line
    And the message says "is not an aws_rds_cluster of this configuration"

  Scenario: Credentials referenced by the knowledge base count as Secrets Manager credentials
    Given the reference deployment "reference/terraform-bedrock"
    And the aurora cluster's manage_master_user_password is false
    And the aurora cluster's master_password is var.master_password
    And the file "modules/aurora/secret.tf" contains:
      """
      variable "master_password" {
        type      = string
        sensitive = true
      }
      """
    And the knowledge base's storage_configuration.rds_configuration.credentials_secret_arn is "arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:kb-credentials"
    When I validate it
    Then rule AV202 passes
    And the message says "reads the credentials from a Secrets Manager secret"

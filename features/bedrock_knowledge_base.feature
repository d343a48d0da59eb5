Feature: Amazon Bedrock Knowledge Base readiness
  A knowledge base reaches Aurora through the RDS Data API, with credentials from
  Secrets Manager, and needs a complete rds_configuration pointing at the cluster.

  Scenario: The hardened reference is ready for a knowledge base
    Given the reference deployment "reference/terraform-bedrock"
    When I validate it with the bedrock-kb profile
    Then no rule fails
    And rule AV201 passes
    And rule AV203 passes for "module.aurora.aws_bedrockagent_knowledge_base.main"
    And rule AV204 passes for "module.aurora.aws_bedrockagent_knowledge_base.main"
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

  Scenario: A service role that cannot read the credentials secret stops the knowledge base
    Given the reference deployment "reference/terraform-bedrock"
    And in "modules/aurora/knowledge_base.tf" the text "Resource = [aws_rds_cluster.aurora.master_user_secret[0].secret_arn]" is replaced by "Resource = ["arn:aws:secretsmanager:*:*:secret:rds-db-credentials/*"]"
    When I validate it with the bedrock-kb profile
    Then rule AV204 fails with severity error for "module.aurora.aws_bedrockagent_knowledge_base.main"
    And the message says "does not allow secretsmanager:GetSecretValue on module.aurora.aws_rds_cluster.aurora.master_user_secret[0].secret_arn"
    And the exit code is 1

  Scenario: Wildcard actions grant the Data API
    Given the reference deployment "reference/terraform-bedrock"
    And in "modules/aurora/knowledge_base.tf" the text "Action   = ["rds-data:ExecuteStatement", "rds-data:BatchExecuteStatement"]" is replaced by "Action   = ["rds-data:*"]"
    When I validate it with the bedrock-kb profile
    Then rule AV204 passes
    And the message says "allows rds:DescribeDBClusters, rds-data:ExecuteStatement, rds-data:BatchExecuteStatement"

  Scenario: An explicit Deny on the role wins over the policies that allow
    Given the reference deployment "reference/terraform-bedrock"
    And the file "modules/aurora/deny.tf" contains:
      """
      data "aws_iam_policy_document" "no_data_api" {
        statement {
          effect    = "Deny"
          actions   = ["rds-data:*"]
          resources = ["*"]
        }
      }

      resource "aws_iam_role_policy" "no_data_api" {
        role   = aws_iam_role.knowledge_base.name
        policy = data.aws_iam_policy_document.no_data_api.json
      }
      """
    When I validate it
    Then rule AV204 fails with severity warning at "modules/aurora/deny.tf" on line 2
    And the message says "denies rds-data:ExecuteStatement"

  Scenario: A trust policy for another service cannot be assumed by Bedrock
    Given the reference deployment "reference/terraform-bedrock"
    And in "modules/aurora/knowledge_base.tf" the text "Principal = { Service = "bedrock.amazonaws.com" }" is replaced by "Principal = { Service = "ec2.amazonaws.com" }"
    When I validate it with the bedrock-kb profile
    Then rule AV204 fails with severity error at "modules/aurora/knowledge_base.tf" on the assume_role_policy line
    And the message says "cannot be assumed by bedrock.amazonaws.com"

  Scenario: A trust policy without aws:SourceAccount or aws:SourceArn passes with a note
    Given the reference deployment "reference/terraform-bedrock"
    And in "modules/aurora/knowledge_base.tf" the text "StringEquals = { "aws:SourceAccount" = local.account_id }" is replaced by ""
    And in "modules/aurora/knowledge_base.tf" the text ""aws:SourceArn" = "arn:${local.partition}:bedrock:${var.region}:${local.account_id}:knowledge-base/*"" is replaced by ""
    When I validate it
    Then rule AV204 passes at "modules/aurora/knowledge_base.tf" on the assume_role_policy line
    And the message says "sets no aws:SourceAccount or aws:SourceArn condition"

Feature: Credentials and data at rest
  The master password belongs in AWS Secrets Manager, not in the configuration;
  storage is encrypted; and no report ever shows a password.

  Scenario: The article's password is a plaintext variable default
    Given the reference deployment "reference/terraform"
    When I validate it
    Then rule AV302 fails with severity warning at "variables.tf" on line 22
    And the message says "default of var.aurora_root_password"
    And the report does not contain "tiger111!"

  Scenario: A password written in the resource itself is found as well
    Given the reference deployment "reference/terraform-bedrock"
    And the aurora cluster does not set manage_master_user_password
    And the aurora cluster's master_password is "correct-horse-battery"
    When I validate it
    Then rule AV302 fails at "modules/aurora/aurora.tf" on the master_password line
    And the output never shows "correct-horse-battery"

  Scenario: A password from a variable without a default is not a literal
    Given the reference deployment "reference/terraform"
    And in "variables.tf" the text "default     = "tiger111!"" is replaced by "sensitive   = true"
    When I validate it
    Then rule AV302 is unresolved for "module.aurora.aws_rds_cluster.aurora_cluster"
    And the message says "no value was given"

  Scenario: RDS-managed credentials leave no password in the configuration
    Given the reference deployment "reference/terraform-bedrock"
    When I validate it
    Then rule AV302 passes
    And rule AV202 passes
    And the message says "manage_master_user_password is true"

  Scenario: Without Secrets Manager there is no secret to give a knowledge base
    Given the reference deployment "reference/terraform"
    When I validate it
    Then rule AV202 fails with severity warning at "modules/aurora/aurora.tf" on the first line of the aurora cluster

  Scenario: The knowledge base profile makes missing Secrets Manager credentials an error
    Given the reference deployment "reference/terraform"
    When I validate it with the bedrock-kb profile
    Then rule AV202 fails with severity error
    And rule AV201 fails with severity error
    And the exit code is 1

  Scenario: Encryption at rest left out means unencrypted storage
    Given the reference deployment "reference/terraform-bedrock"
    And the aurora cluster does not set storage_encrypted
    When I validate it
    Then rule AV304 fails with severity warning at "modules/aurora/aurora.tf" on the first line of the aurora cluster
    And the message says "left out"

  Scenario: Encrypted storage passes
    Given the reference deployment "reference/terraform"
    When I validate it
    Then rule AV304 passes at "modules/aurora/aurora.tf" on the storage_encrypted line

Feature: Cost and operations notes
  Notes a team learns the hard way: an idle cluster still bills its minimum
  capacity, terraform destroy needs final snapshot settings, the provider
  version must be new enough for the arguments used, and suppressions need reasons.

  Scenario: A minimum of half an ACU bills every hour of the month
    Given the reference deployment "reference/terraform"
    When I validate it
    Then rule AV402 fails with severity info at "modules/aurora/aurora.tf" on the min_capacity line
    And the message says "costs at least $73.00 a month in ap-northeast-1"
    And the exit code is 0

  Scenario: Auto-pause lets an idle cluster pay for storage only
    Given the reference deployment "reference/terraform-bedrock"
    When I validate it
    Then rule AV402 passes at "modules/aurora/aurora.tf" on the min_capacity line

  Scenario: Notes make the build fail only when asked to
    Given the reference deployment "reference/terraform-bedrock"
    And the aurora cluster's serverlessv2_scaling_configuration.min_capacity is 1
    When I validate it with "--fail-on info"
    Then rule AV402 fails with severity info
    And the exit code is 1

  Scenario: Without final snapshot settings terraform destroy fails
    Given the reference deployment "reference/terraform"
    When I validate it
    Then rule AV403 fails with severity info at "modules/aurora/aurora.tf" on the first line of the aurora cluster
    And the message says "terraform destroy fails"

  Scenario: Skipping the final snapshot lets a throwaway cluster be destroyed
    Given the reference deployment "reference/terraform"
    And the aurora cluster's skip_final_snapshot is true
    When I validate it
    Then rule AV403 passes at "modules/aurora/aurora.tf" on the skip_final_snapshot line

  Scenario: A named final snapshot lets the cluster be destroyed too
    Given the reference deployment "reference/terraform-bedrock"
    When I validate it
    Then rule AV403 passes at "modules/aurora/aurora.tf" on the final_snapshot_identifier line

  Scenario: The article's provider constraint admits versions without Serverless v2 scaling
    Given the reference deployment "reference/terraform"
    And in "main.tf" the text "version = "~> 5.0"" is replaced by "version = "~> 4.0""
    When I validate it
    Then rule AV404 fails with severity info at "main.tf" on the aws line
    And the message says "older than 4.12.0"

  Scenario: Auto-pause arguments need a newer provider than the usual 5.x constraint
    Given the reference deployment "reference/terraform-bedrock"
    And in "main.tf" the text "version = ">= 5.81.0, < 6.0.0"" is replaced by "version = "~> 5.0""
    When I validate it
    Then rule AV404 fails for "module.aurora.aws_rds_cluster.aurora"
    And the message says "seconds_until_auto_pause"

  Scenario: The reference constraint is new enough
    Given the reference deployment "reference/terraform-bedrock"
    When I validate it
    Then rule AV404 passes at "main.tf" on the aws line

  Scenario: A suppression with a reason silences a finding
    Given the reference deployment "reference/terraform"
    And the aurora instance also has:
      """
      # aurora-validate:ignore=AV303 dev cluster, reached only through the office VPN
      """
    When I validate it
    Then rule AV303 is suppressed
    And rule AV001 passes

  Scenario: A suppression without a reason is reported and suppresses nothing
    Given the reference deployment "reference/terraform"
    And the aurora instance also has:
      """
      # aurora-validate:ignore=AV303
      """
    When I validate it
    Then rule AV001 fails with severity warning at "modules/aurora/aurora.tf"
    And the message says "gives no reason"
    And rule AV303 fails

  Scenario: A suppression naming an unknown rule is reported
    Given the reference deployment "reference/terraform"
    And the aurora cluster also has:
      """
      # aurora-validate:ignore=AV999 no such rule
      """
    When I validate it
    Then rule AV001 fails
    And the message says "unknown rule AV999"

  Scenario: A file that does not parse is one line naming it, and exit 2
    Given the reference deployment "reference/terraform"
    And the file "broken.tf" contains:
      """
      resource "aws_rds_cluster" "half_written" {
        engine = "aurora-postgresql"
      """
    When I validate it
    Then the exit code is 2
    And the error says "broken.tf"

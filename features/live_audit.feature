Feature: Live audit and drift
  The deployed cluster is read through the AWS API (read-only calls only) and
  checked with the same rules as its Terraform; changes made outside Terraform
  show up as findings and as drift. A local AWS API (a moto server) stands in for AWS.

  Scenario: A hardened cluster passes the live audit
    Given a Serverless v2 cluster "kb-prod" is deployed
    When I run aurora-validate live with "--cluster kb-prod"
    Then no rule fails
    And rule AV102 passes
    And rule AV103 passes
    And rule AV105 passes
    And rule AV106 passes
    And rule AV201 passes
    And rule AV301 passes
    And rule AV501 passes
    And rule AV503 passes
    And rule AV302 is not reported
    And the exit code is 0

  Scenario: IAM authentication switched off in the console is caught
    Given a Serverless v2 cluster "kb-prod" is deployed
    And someone turns IAM database authentication off on "kb-prod" through the AWS API
    When I run aurora-validate live with "--cluster kb-prod"
    Then rule AV106 fails with severity error for "arn:aws:rds:ap-northeast-1:123456789012:cluster:kb-prod"
    And the exit code is 1

  Scenario: A security group opened to the internet after deployment is caught
    Given a Serverless v2 cluster "kb-prod" is deployed
    And someone opens port 5432 of "kb-prod" to 0.0.0.0/0 through the AWS API
    When I run aurora-validate live with "--cluster kb-prod"
    Then rule AV301 fails with severity warning
    And the message says "0.0.0.0/0"

  Scenario: A provisioned reader added by hand is not Serverless v2
    Given a Serverless v2 cluster "kb-prod" is deployed
    And someone adds a "db.r6g.large" reader to "kb-prod" through the AWS API
    When I run aurora-validate live with "--cluster kb-prod"
    Then rule AV103 fails
    And the message says "db.r6g.large"

  Scenario: A stopped cluster starts again by itself after seven days
    Given a Serverless v2 cluster "kb-prod" is deployed
    And someone stops "kb-prod" through the AWS API
    When I run aurora-validate live with "--cluster kb-prod"
    Then rule AV501 fails with severity warning
    And the message says "AWS starts it again"

  Scenario: A refused call is reported with the permission to grant, never taken for "nothing there"
    Given a Serverless v2 cluster "kb-prod" is deployed
    And the audit is refused rds:DescribeDBEngineVersions
    When I run aurora-validate live with "--cluster kb-prod"
    Then rule AV503 fails with severity info
    And the message says "rds:DescribeDBEngineVersions"
    And rule AV107 passes
    And the exit code is 3

  Scenario: A cluster deployed as its Terraform says has no drift
    Given the reference deployment "reference/terraform-bedrock"
    And a Serverless v2 cluster "project-name-dev-kb-aurora" is deployed
    When I run aurora-validate live with "--cluster project-name-dev-kb-aurora"
    Then rule AV502 passes

  Scenario: Changes made through the API are reported as drift from the Terraform
    Given the reference deployment "reference/terraform-bedrock"
    And a Serverless v2 cluster "project-name-dev-kb-aurora" is deployed
    And someone turns IAM database authentication off on "project-name-dev-kb-aurora" through the AWS API
    When I run aurora-validate live with "--cluster project-name-dev-kb-aurora"
    Then rule AV502 fails with severity warning at "modules/aurora/aurora.tf" on the iam_database_authentication_enabled line
    And the message says "drifted"

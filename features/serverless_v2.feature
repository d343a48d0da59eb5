Feature: Serverless v2 invariants
  An Aurora PostgreSQL cluster only runs Serverless v2 capacity when its engine,
  engine mode, engine version, instances, capacity range and subnets all fit.
  Every scenario starts from a copy of a reference deployment and changes one thing.

  Scenario: The reference deployment is a valid Serverless v2 cluster
    Given the reference deployment "reference/terraform"
    When I validate it
    Then rule AV101 passes
    And rule AV102 passes
    And rule AV103 passes
    And rule AV104 passes
    And rule AV105 passes
    And rule AV106 passes
    And rule AV107 passes
    And rule AV108 passes

  Scenario: Another engine cannot hold the knowledge base's vectors
    Given the reference deployment "reference/terraform"
    And the aurora cluster's engine is "aurora-mysql"
    When I validate it
    Then rule AV101 fails with severity error at "modules/aurora/aurora.tf" on the engine line
    And the exit code is 1

  Scenario: Serverless v1 engine mode is rejected
    Given the reference deployment "reference/terraform"
    And the aurora cluster's engine_mode is "serverless"
    When I validate it
    Then rule AV102 fails with severity error at "modules/aurora/aurora.tf" on the engine_mode line
    And the message says "end of life"

  Scenario: Leaving engine_mode out means provisioned, which Serverless v2 needs
    Given the reference deployment "reference/terraform"
    And the aurora cluster does not set engine_mode
    When I validate it
    Then rule AV102 passes
    And the message says "left out"

  Scenario: A provisioned instance class is not Serverless v2
    Given the reference deployment "reference/terraform"
    And the aurora instance's instance_class is "db.r6g.large"
    When I validate it
    Then rule AV103 fails with severity error at "modules/aurora/aurora.tf" on the instance_class line

  Scenario: A cluster without instances has no endpoint to connect to
    Given the reference deployment "reference/terraform"
    And the aurora instance's count is 0
    When I validate it
    Then rule AV103 fails for "module.aurora.aws_rds_cluster.aurora_cluster"
    And the message says "has no DB instance"

  Scenario: A cluster without a scaling configuration cannot hold db.serverless instances
    Given the reference deployment "reference/terraform"
    And the aurora cluster has no serverlessv2_scaling_configuration block
    When I validate it
    Then rule AV104 fails with severity error at "modules/aurora/aurora.tf" on the first line of the aurora cluster

  Scenario: Scaling to zero needs an engine version with auto-pause
    Given the reference deployment "reference/terraform"
    And the aurora cluster's engine_version is "15.4"
    And the aurora cluster's serverlessv2_scaling_configuration.min_capacity is 0
    When I validate it
    Then rule AV104 fails at "modules/aurora/aurora.tf" on the min_capacity line
    And the message says "auto-pause"

  Scenario: Capacity comes in steps of half an ACU
    Given the reference deployment "reference/terraform"
    And the aurora cluster's serverlessv2_scaling_configuration.max_capacity is 4.3
    When I validate it
    Then rule AV104 fails at "modules/aurora/aurora.tf" on the max_capacity line

  Scenario: Aurora needs subnets in two Availability Zones
    Given the reference deployment "reference/terraform"
    And the subnet "public_subnet_c"'s availability_zone is "ap-northeast-1a"
    When I validate it
    Then rule AV105 fails with severity error for "module.aurora.aws_db_subnet_group.aurora_subnet_group"
    And the message says "1 Availability Zone(s)"

  Scenario: Subnets in two Availability Zones are followed through module outputs
    Given the reference deployment "reference/terraform-bedrock"
    When I validate it
    Then rule AV105 passes for "module.aurora.aws_db_subnet_group.aurora"
    And the message says "ap-northeast-1a, ap-northeast-1c"

  Scenario: IAM database authentication must be on
    Given the reference deployment "reference/terraform"
    And the aurora cluster's iam_database_authentication_enabled is false
    When I validate it
    Then rule AV106 fails with severity error at "modules/aurora/aurora.tf" on the iam_database_authentication_enabled line

  Scenario: IAM database authentication left out is off
    Given the reference deployment "reference/terraform"
    And the aurora cluster does not set iam_database_authentication_enabled
    When I validate it
    Then rule AV106 fails at "modules/aurora/aurora.tf" on the first line of the aurora cluster
    And the message says "left out"

  Scenario: An engine version older than Serverless v2 is rejected
    Given the reference deployment "reference/terraform"
    And the aurora cluster's engine_version is "13.4"
    When I validate it
    Then rule AV107 fails with severity error at "modules/aurora/aurora.tf" on the engine_version line
    And the message says "does not support Serverless v2"

  Scenario: An engine version given by a variable without a value is unresolved, not guessed
    Given the reference deployment "reference/terraform"
    And the aurora cluster's engine_version is var.engine_version
    And the file "modules/aurora/versions.tf" contains:
      """
      variable "engine_version" {
        type = string
      }
      """
    When I validate it
    Then rule AV107 is unresolved for "module.aurora.aws_rds_cluster.aurora_cluster"
    And the message says "var.engine_version"

  Scenario: The article's project prefix makes an invalid cluster identifier
    Given the reference deployment "reference/terraform"
    And the variable "project_prefix" defaults to "project_name"
    When I validate it
    Then rule AV108 fails with severity error for "module.aurora.aws_rds_cluster.aurora_cluster"
    And the message says "terraform plan would fail"

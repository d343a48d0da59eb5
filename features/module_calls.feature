Feature: Every module call is read
  A module the scan cannot read is reported, never passed over in silence: a root
  whose cluster lives in a registry module that terraform init has not installed
  says so, and strict gates can make that fail.

  Scenario: A registry module terraform init has not installed is unresolved
    Given the reference deployment "reference/terraform"
    And the file "replica.tf" contains:
      """
      module "replica" {
        source  = "example-org/aurora-replica/aws"
        version = "~> 2.0"
      }
      """
    When I validate it
    Then rule AV002 is unresolved for "module.replica" at "replica.tf" on line 1
    And the message says "terraform init -backend=false"

  Scenario: A strict gate fails on what it could not check
    Given the reference deployment "reference/terraform"
    And the file "replica.tf" contains:
      """
      module "replica" {
        source = "git::https://example.com/infra/aurora-replica.git?ref=v2.1.0"
      }
      """
    When I validate it with "--fail-on-unresolved --fail-on info --skip AV201,AV202,AV301,AV302,AV303,AV401,AV402,AV403"
    Then rule AV002 is unresolved
    And the exit code is 1

  Scenario: A module terraform init installed is read
    Given the reference deployment "reference/terraform"
    And the file "replica.tf" contains:
      """
      module "replica" {
        source  = "example-org/aurora-replica/aws"
        version = "2.1.0"
      }
      """
    And the file ".terraform/modules/replica/main.tf" contains:
      """
      output "endpoint" {
        value = "replica.example.internal"
      }
      """
    And the file ".terraform/modules/modules.json" contains:
      """
      {"Modules": [{"Key": "", "Source": "", "Dir": "."},
                   {"Key": "replica", "Source": "registry.terraform.io/example-org/aurora-replica/aws",
                    "Version": "2.1.0", "Dir": ".terraform/modules/replica"}]}
      """
    When I validate it
    Then rule AV002 passes for "module.replica" at "replica.tf" on line 1
    And the message says "read from .terraform/modules/replica"

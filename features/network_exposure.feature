Feature: Network exposure
  The database port must not be open to the internet, instances must not be
  publicly accessible, and IAM database authentication needs no port 443.

  Scenario: The article's security group opens PostgreSQL to the whole internet
    Given the reference deployment "reference/terraform"
    When I validate it
    Then rule AV301 fails with severity warning at "modules/network/network.tf" on the ingress line
    And the message says "admits port 5432 from 0.0.0.0/0"

  Scenario: Access from the application security group only is not exposure
    Given the reference deployment "reference/terraform-bedrock"
    When I validate it
    Then rule AV301 passes for "module.aurora.aws_rds_cluster.aurora"

  Scenario: A standalone ingress rule resource opening 5432 is found through its group reference
    Given the reference deployment "reference/terraform-bedrock"
    And the file "modules/network/office.tf" contains:
      """
      resource "aws_vpc_security_group_ingress_rule" "anywhere" {
        security_group_id = aws_security_group.db.id
        cidr_ipv4         = "0.0.0.0/0"
        ip_protocol       = "tcp"
        from_port         = 5432
        to_port           = 5432
      }
      """
    When I validate it
    Then rule AV301 fails for "module.network.aws_security_group.db"
    And the message says "aws_vpc_security_group_ingress_rule.anywhere"

  Scenario: An all-traffic rule from anywhere exposes the database port too
    Given the reference deployment "reference/terraform-bedrock"
    And the database security group also has:
      """
      ingress {
        from_port   = 0
        to_port     = 0
        protocol    = "-1"
        cidr_blocks = ["0.0.0.0/0"]
      }
      """
    When I validate it
    Then rule AV301 fails for "module.network.aws_security_group.db"
    And the message says "all ports"

  Scenario: Narrowing the CIDR to an office network removes the exposure
    Given the reference deployment "reference/terraform"
    And in "modules/network/network.tf" the text "cidr_blocks = ["0.0.0.0/0"] # 一旦" is replaced by "cidr_blocks = ["203.0.113.0/24"] # 一旦"
    When I validate it
    Then rule AV301 passes

  Scenario: A publicly accessible instance is reachable from the internet
    Given the reference deployment "reference/terraform"
    When I validate it
    Then rule AV303 fails with severity warning at "modules/aurora/aurora.tf" on the publicly_accessible line

  Scenario: Instances in private subnets stay private
    Given the reference deployment "reference/terraform-bedrock"
    When I validate it
    Then rule AV303 passes for "module.aurora.aws_rds_cluster_instance.writer"

  Scenario: Leaving publicly_accessible out keeps the instance private
    Given the reference deployment "reference/terraform"
    And the aurora instance does not set publicly_accessible
    When I validate it
    Then rule AV303 passes

  Scenario: Port 443 is opened for IAM authentication, which does not need it
    Given the reference deployment "reference/terraform"
    When I validate it
    Then rule AV401 fails with severity info at "modules/network/network.tf" on the ingress line
    And the message says "neither IAM database authentication nor PostgreSQL"

  Scenario: Without a 443 rule there is nothing to note
    Given the reference deployment "reference/terraform-bedrock"
    When I validate it
    Then rule AV401 passes

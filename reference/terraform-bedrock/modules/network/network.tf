# Network for the hardened variant: a VPC with two private subnets and no
# internet gateway. Bedrock reaches the database through the RDS Data API,
# which needs no network path into the VPC.

variable "project_prefix" {
  type = string
}

variable "env" {
  type = string
}

variable "vpc_cidr" {
  type = string
}

variable "availability_zones" {
  type = list(string)
}

resource "aws_vpc" "main" {
  cidr_block           = var.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true

  tags = {
    Name = "${var.project_prefix}-${var.env}-vpc"
  }
}

# Lock down the VPC's default security group: nothing should use it.
resource "aws_default_security_group" "default" {
  vpc_id = aws_vpc.main.id
}

# Private subnets in two Availability Zones (AV105). No internet gateway
# exists and the route table below holds only the implicit local route, so
# the database has no route to or from the internet (AV303).
resource "aws_subnet" "private_a" {
  vpc_id                  = aws_vpc.main.id
  cidr_block              = cidrsubnet(var.vpc_cidr, 8, 11)
  availability_zone       = var.availability_zones[0]
  map_public_ip_on_launch = false

  tags = {
    Name = "${var.project_prefix}-${var.env}-private-subnet-a"
  }
}

resource "aws_subnet" "private_b" {
  vpc_id                  = aws_vpc.main.id
  cidr_block              = cidrsubnet(var.vpc_cidr, 8, 12)
  availability_zone       = var.availability_zones[1]
  map_public_ip_on_launch = false

  tags = {
    Name = "${var.project_prefix}-${var.env}-private-subnet-b"
  }
}

resource "aws_route_table" "private" {
  vpc_id = aws_vpc.main.id
  route  = [] # only the implicit local route; Terraform removes any route added later

  tags = {
    Name = "${var.project_prefix}-${var.env}-private-rt"
  }
}

resource "aws_route_table_association" "private_a" {
  subnet_id      = aws_subnet.private_a.id
  route_table_id = aws_route_table.private.id
}

resource "aws_route_table_association" "private_b" {
  subnet_id      = aws_subnet.private_b.id
  route_table_id = aws_route_table.private.id
}

# The application tier (Lambda, ECS task, bastion...) joins this group; it is
# the only source the database accepts.
resource "aws_security_group" "app" {
  name        = "${var.project_prefix}-${var.env}-app-sg"
  description = "Application tier that connects to Aurora PostgreSQL"
  vpc_id      = aws_vpc.main.id

  egress {
    description = "PostgreSQL inside the VPC"
    from_port   = 5432
    to_port     = 5432
    protocol    = "tcp"
    cidr_blocks = [var.vpc_cidr]
  }

  tags = {
    Name = "${var.project_prefix}-${var.env}-app-sg"
  }
}

# Database security group: 5432 from the application group only, referenced
# by id (AV301: no 0.0.0.0/0). No 443 rule (AV401): IAM database
# authentication signs its token on the client with SigV4 and the connection
# stays on 5432. No egress rule: the provider removes AWS's default
# allow-all egress rule and the database opens no outbound connections.
resource "aws_security_group" "db" {
  name        = "${var.project_prefix}-${var.env}-aurora-sg"
  description = "Aurora PostgreSQL: 5432 from the application security group only"
  vpc_id      = aws_vpc.main.id

  ingress {
    description     = "PostgreSQL from the application tier"
    from_port       = 5432
    to_port         = 5432
    protocol        = "tcp"
    security_groups = [aws_security_group.app.id]
  }

  tags = {
    Name = "${var.project_prefix}-${var.env}-aurora-sg"
  }
}

output "vpc_id" {
  value = aws_vpc.main.id
}

output "private_subnet_ids" {
  value = [aws_subnet.private_a.id, aws_subnet.private_b.id]
}

output "db_security_group_id" {
  value = aws_security_group.db.id
}

output "app_security_group_id" {
  value = aws_security_group.app.id
}

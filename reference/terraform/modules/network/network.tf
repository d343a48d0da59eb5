# ############################
# 定義済み変数の利用 / Inputs passed from the root module
# ############################
variable "project_prefix" {}
variable "env" {}

# ############################
# リソース作成 / Resources
# ############################

# VPC
resource "aws_vpc" "my_vpc" {
  cidr_block           = "10.0.0.0/16"
  enable_dns_support   = true
  enable_dns_hostnames = true
  tags                 = {
    Name = "${var.project_prefix}-${var.env}-vpc"
  }
}

# サブネット / Subnets (public, as in the article; Aurora needs subnets in two AZs)
resource "aws_subnet" "public_subnet_a" {
  vpc_id            = aws_vpc.my_vpc.id
  cidr_block        = "10.0.1.0/24"
  availability_zone = "ap-northeast-1a"
  tags = {
    Name = "${var.project_prefix}-${var.env}-public-subnet-1a"
  }
}
resource "aws_subnet" "public_subnet_c" {
  vpc_id            = aws_vpc.my_vpc.id
  cidr_block        = "10.0.2.0/24"
  availability_zone = "ap-northeast-1c"
  tags = {
    Name = "${var.project_prefix}-${var.env}-public-subnet-1c"
  }
}

# IGW
resource "aws_internet_gateway" "my_igw" {
  vpc_id = aws_vpc.my_vpc.id
  tags = {
    Name = "${var.project_prefix}-${var.env}-igw"
  }
}

# ルートテーブル / Route table (default route to the IGW makes both subnets public)
resource "aws_route_table" "public_rt" {
  vpc_id = aws_vpc.my_vpc.id

  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.my_igw.id
  }
  tags = {
    Name = "${var.project_prefix}-${var.env}-public-rt"
  }
}

# サブネットとルートテーブル紐づけ / Associate the subnets with the route table
resource "aws_route_table_association" "public_rt_assoc_a" {
  subnet_id      = aws_subnet.public_subnet_a.id
  route_table_id = aws_route_table.public_rt.id
}
resource "aws_route_table_association" "public_rt_assoc_c" {
  subnet_id      = aws_subnet.public_subnet_c.id
  route_table_id = aws_route_table.public_rt.id
}

# セキュリティグループ / Security group
resource "aws_security_group" "aurora_sg" {
  vpc_id = aws_vpc.my_vpc.id
  name = "${var.project_prefix}-${var.env}-aurora-sg"
  # インバウンド / Inbound
  # 通常のPostgres接続用ポート / Regular PostgreSQL port
  ingress {
    from_port   = 5432
    to_port     = 5432
    protocol    = "tcp"
    # cidr_blocks = ["YOUR_LOCAL_IP/32"] # ローカルIPを指定 / restrict to your own IP
    cidr_blocks = ["0.0.0.0/0"] # 一旦はどこからでもアクセス可能にしておく / open to everyone for now: dev-only, flagged by AV301
  }
  # IAMデータベース認証用のポート443も許可 / (myth: IAM auth needs no inbound 443, the connection stays on 5432; flagged by AV401)
  ingress {
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }

  # アウトバウンド / Outbound
  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
  
  tags = {
    Name = "${var.project_prefix}-${var.env}-aurora-sg"
  }
}

# ############################
# 生成したリソースの値を親処理に戻す / Return the created resources' values to the caller
# ############################
output "vpc_id" {
  value = aws_vpc.my_vpc.id
}

output "public_subnet_ids" {
  value = [aws_subnet.public_subnet_a.id, aws_subnet.public_subnet_c.id]
}

output "aurora_sg_id" {
  value = aws_security_group.aurora_sg.id
}

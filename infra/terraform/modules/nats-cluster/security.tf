resource "aws_security_group" "this" {
  name_prefix = "${var.name}-"
  description = "NATS cluster ${var.cluster_name}: private ports only"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = var.name })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "client_from_sg" {
  for_each = var.client_security_groups

  security_group_id            = aws_security_group.this.id
  description                  = "NATS clients: ${each.key}"
  ip_protocol                  = "tcp"
  from_port                    = local.ports.client
  to_port                      = local.ports.client
  referenced_security_group_id = each.value
}

resource "aws_vpc_security_group_ingress_rule" "client_from_cidr" {
  for_each = toset(var.client_cidrs)

  security_group_id = aws_security_group.this.id
  description       = "NATS clients in peered edge VPCs"
  ip_protocol       = "tcp"
  from_port         = local.ports.client
  to_port           = local.ports.client
  cidr_ipv4         = each.value
}

resource "aws_vpc_security_group_ingress_rule" "leafnode" {
  for_each = toset(var.leafnode_cidrs)

  security_group_id = aws_security_group.this.id
  description       = "Leaf nodes in peered edge VPCs"
  ip_protocol       = "tcp"
  from_port         = local.ports.leafnode
  to_port           = local.ports.leafnode
  cidr_ipv4         = each.value
}

resource "aws_vpc_security_group_egress_rule" "leaf_remote" {
  for_each = toset(var.leaf_remote_cidrs)

  security_group_id = aws_security_group.this.id
  description       = "Leaf-node link to the core cluster"
  ip_protocol       = "tcp"
  from_port         = local.ports.leafnode
  to_port           = local.ports.leafnode
  cidr_ipv4         = each.value
}

resource "aws_vpc_security_group_ingress_rule" "cluster" {
  security_group_id            = aws_security_group.this.id
  description                  = "Cluster routes between nodes"
  ip_protocol                  = "tcp"
  from_port                    = local.ports.cluster
  to_port                      = local.ports.cluster
  referenced_security_group_id = aws_security_group.this.id
}

resource "aws_vpc_security_group_egress_rule" "cluster" {
  security_group_id            = aws_security_group.this.id
  description                  = "Cluster routes between nodes"
  ip_protocol                  = "tcp"
  from_port                    = local.ports.cluster
  to_port                      = local.ports.cluster
  referenced_security_group_id = aws_security_group.this.id
}

resource "aws_vpc_security_group_ingress_rule" "gateway" {
  for_each = toset(var.gateway_cidrs)

  security_group_id = aws_security_group.this.id
  description       = "Gateway connections from other core clusters"
  ip_protocol       = "tcp"
  from_port         = local.ports.gateway
  to_port           = local.ports.gateway
  cidr_ipv4         = each.value
}

resource "aws_vpc_security_group_egress_rule" "gateway" {
  for_each = toset(var.gateway_cidrs)

  security_group_id = aws_security_group.this.id
  description       = "Gateway connections to other core clusters"
  ip_protocol       = "tcp"
  from_port         = local.ports.gateway
  to_port           = local.ports.gateway
  cidr_ipv4         = each.value
}

resource "aws_vpc_security_group_ingress_rule" "monitoring" {
  for_each = toset(var.metrics_source_cidrs)

  security_group_id = aws_security_group.this.id
  description       = "NATS monitoring endpoint"
  ip_protocol       = "tcp"
  from_port         = local.ports.monitoring
  to_port           = local.ports.monitoring
  cidr_ipv4         = each.value
}

resource "aws_vpc_security_group_egress_rule" "https" {
  security_group_id = aws_security_group.this.id
  description       = "Image pulls, SSM and CloudWatch Logs"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_iam_role" "this" {
  name_prefix = "${substr(var.name, 0, 32)}-"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { Service = "ec2.amazonaws.com" }, Action = "sts:AssumeRole" }]
  })
  tags = var.tags
}

resource "aws_iam_role_policy_attachment" "ssm" {
  role       = aws_iam_role.this.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"
}

resource "aws_iam_role_policy" "logs" {
  name = "write-own-logs"
  role = aws_iam_role.this.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
      Resource = "${aws_cloudwatch_log_group.this.arn}:*"
    }]
  })
}

resource "aws_iam_instance_profile" "this" {
  name_prefix = "${substr(var.name, 0, 32)}-"
  role        = aws_iam_role.this.name
  tags        = var.tags
}

# Instance role: Session Manager instead of SSH, plus exactly the secrets,
# repository, log group and ASG this fleet needs.
resource "aws_iam_role" "this" {
  name_prefix = "${substr(var.name, 0, 32)}-"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ec2.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
  tags = var.tags
}

resource "aws_iam_role_policy_attachment" "ssm" {
  role       = aws_iam_role.this.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"
}

locals {
  policy_statements = concat(
    [{
      Sid      = "WriteOwnLogs"
      Effect   = "Allow"
      Action   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
      Resource = "${aws_cloudwatch_log_group.this.arn}:*"
    }],
    length(var.secret_environment) == 0 ? [] : [{
      Sid      = "ReadOwnSecrets"
      Effect   = "Allow"
      Action   = ["secretsmanager:GetSecretValue"]
      Resource = sort(distinct(values(var.secret_environment)))
    }],
    local.ecr_enabled ? [
      {
        Sid      = "EcrLogin"
        Effect   = "Allow"
        Action   = ["ecr:GetAuthorizationToken"] # account-level API, no resource scoping exists
        Resource = "*"
      },
      {
        Sid      = "PullOwnImage"
        Effect   = "Allow"
        Action   = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
        Resource = var.ecr_repository_arn
      },
    ] : [],
    var.drain_timeout_seconds > 0 ? [{
      Sid      = "FinishOwnDrain"
      Effect   = "Allow"
      Action   = ["autoscaling:CompleteLifecycleAction"]
      Resource = local.asg_arn
    }] : [],
  )
}

resource "aws_iam_role_policy" "this" {
  name   = "parley-fleet"
  role   = aws_iam_role.this.id
  policy = jsonencode({ Version = "2012-10-17", Statement = local.policy_statements })
}

resource "aws_iam_instance_profile" "this" {
  name_prefix = "${substr(var.name, 0, 32)}-"
  role        = aws_iam_role.this.name
  tags        = var.tags
}

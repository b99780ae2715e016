data "aws_region" "current" {}
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

data "aws_ssm_parameter" "al2023" {
  count = var.ami_id == null ? 1 : 0
  name  = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-${var.architecture}"
}

locals {
  region      = data.aws_region.current.name
  ami_id      = var.ami_id != null ? var.ami_id : data.aws_ssm_parameter.al2023[0].insecure_value
  asg_arn     = "arn:${data.aws_partition.current.partition}:autoscaling:${local.region}:${data.aws_caller_identity.current.account_id}:autoScalingGroup:*:autoScalingGroupName/${var.name}"
  drain_hook  = "drain"
  ecr_enabled = var.ecr_repository_arn != null
  registry    = split("/", var.image)[0]

  user_data = templatefile("${path.module}/templates/user-data.sh.tftpl", {
    region               = local.region
    asg_name             = var.name
    drain_hook           = local.drain_hook
    drain_timeout        = var.drain_timeout_seconds
    image                = var.image
    command              = join(" ", var.command)
    container_uid        = var.container_uid
    log_group            = aws_cloudwatch_log_group.this.name
    environment          = var.environment
    environment_by_az    = var.environment_by_az
    identity_environment = var.identity_environment
    # The secret's own region, so replicas and cross-region ARNs both work.
    secrets      = [for k, arn in var.secret_environment : { name = k, arn = arn, region = split(":", arn)[3] }]
    ecr_registry = local.ecr_enabled ? local.registry : ""
    ecr_region   = local.ecr_enabled ? split(".", local.registry)[3] : ""
    sysctls      = var.sysctls
    cw_agent_config = var.prometheus_metrics == null ? "" : jsonencode({
      logs = {
        metrics_collected = {
          prometheus = {
            log_group_name         = aws_cloudwatch_log_group.this.name
            prometheus_config_path = "/opt/aws/amazon-cloudwatch-agent/etc/prometheus.yaml"
            emf_processor = {
              metric_namespace = "Parley"
              metric_declaration = [{
                source_labels    = ["job"]
                label_matcher    = "^parley$"
                dimensions       = [["AutoScalingGroupName"]]
                metric_selectors = [for m in var.prometheus_metrics.metric_names : "^${m}$"]
              }]
            }
          }
        }
      }
    })
    prometheus_config = var.prometheus_metrics == null ? "" : yamlencode({
      global = { scrape_interval = "30s", scrape_timeout = "10s" }
      scrape_configs = [{
        job_name       = "parley"
        static_configs = [{ targets = ["127.0.0.1:${var.prometheus_metrics.port}"], labels = { AutoScalingGroupName = var.name } }]
      }]
    })
  })
}

# Rules are added by the calling module: this module only knows the fleet
# needs HTTPS out (AWS APIs and the image registry, through NAT).
resource "aws_security_group" "this" {
  name_prefix = "${var.name}-"
  description = "Parley fleet ${var.name}"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = var.name })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_egress_rule" "https" {
  security_group_id = aws_security_group.this.id
  description       = "AWS APIs, Secrets Manager and the image registry"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_cloudwatch_log_group" "this" {
  name              = "/parley/${var.name}"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

resource "aws_launch_template" "this" {
  name_prefix            = "${var.name}-"
  image_id               = local.ami_id
  instance_type          = var.instance_type
  vpc_security_group_ids = [aws_security_group.this.id]
  user_data              = base64encode(local.user_data)
  update_default_version = true
  ebs_optimized          = true

  iam_instance_profile {
    name = aws_iam_instance_profile.this.name
  }

  # IMDSv2 only, one hop: containers on a bridge network cannot reach it and
  # the host firewall blocks the container UID on the host network.
  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
    instance_metadata_tags      = "disabled"
  }

  block_device_mappings {
    device_name = "/dev/xvda"

    ebs {
      volume_size           = var.root_volume_size_gb
      volume_type           = "gp3"
      encrypted             = true
      kms_key_id            = var.ebs_kms_key_arn
      delete_on_termination = true
    }
  }

  monitoring {
    enabled = true
  }

  tag_specifications {
    resource_type = "instance"
    tags          = merge(var.tags, { Name = var.name })
  }

  tag_specifications {
    resource_type = "volume"
    tags          = merge(var.tags, { Name = var.name })
  }

  tags = var.tags
}

resource "aws_autoscaling_group" "this" {
  name                      = var.name
  vpc_zone_identifier       = var.subnet_ids
  min_size                  = var.min_size
  max_size                  = var.max_size
  health_check_type         = var.health_check_type
  health_check_grace_period = var.health_check_grace_period
  target_group_arns         = var.target_group_arns
  default_instance_warmup   = var.health_check_grace_period
  enabled_metrics           = ["GroupInServiceInstances", "GroupDesiredCapacity", "GroupTerminatingInstances"]

  launch_template {
    id      = aws_launch_template.this.id
    version = aws_launch_template.this.latest_version
  }

  # Launch template changes roll out gradually; terminating instances still drain.
  instance_refresh {
    strategy = "Rolling"
    preferences {
      min_healthy_percentage = 90
    }
  }

  # Registered before the first instance starts, so every instance drains.
  dynamic "initial_lifecycle_hook" {
    for_each = var.drain_timeout_seconds > 0 ? [1] : []
    content {
      name                 = local.drain_hook
      lifecycle_transition = "autoscaling:EC2_INSTANCE_TERMINATING"
      heartbeat_timeout    = var.drain_timeout_seconds + 120
      default_result       = "CONTINUE"
    }
  }

  dynamic "tag" {
    for_each = merge(var.tags, { Name = var.name })
    content {
      key                 = tag.key
      value               = tag.value
      propagate_at_launch = true
    }
  }

  lifecycle {
    # Scaling policies own the desired capacity after creation.
    ignore_changes = [desired_capacity]
  }
}

data "aws_region" "current" {}

locals {
  # The product's one public media port. Not a variable on purpose: clients,
  # SDP answers and the security review all assume it.
  relay_port = 3478
  # ICE-TCP (RFC 6544) for clients whose UDP is blocked: public 443 on the
  # NLB, 4443 on the instances so the relay needs no privilege to bind it.
  relay_tcp_public_port  = 443
  relay_tcp_port         = 4443
  relay_metrics_port     = 9465
  signaling_port         = 8080
  signaling_metrics_port = 9464
  nats_client_port       = 4222

  common_environment = {
    NATS_URL         = join(",", var.nats_urls)
    PARLEY_REGION    = data.aws_region.current.name
    PARLEY_CLUSTER   = var.cluster_name
    PARLEY_CLUSTERS  = join(",", [for c in var.clusters : "${c.name}:${c.rtt_ms}"])
    PARLEY_LOG_LEVEL = var.log_level
  }

  # Each signaling instance advertises the relay address in its own zone, so a
  # zone outage takes out both halves together instead of half of every call.
  relay_address_by_az = {
    for i, az in var.availability_zones : az => "${aws_eip.relay[i].public_ip}:${local.relay_port}"
  }
  relay_tcp_address_by_az = {
    for i, az in var.availability_zones : az => "${aws_eip.relay[i].public_ip}:${local.relay_tcp_public_port}"
  }

  tags = merge(var.tags, { "parley:role" = "edge" })
}

module "relay_fleet" {
  source = "../fleet"

  name                      = "${var.name}-relay"
  vpc_id                    = var.vpc_id
  subnet_ids                = var.relay_subnet_ids
  architecture              = var.architecture
  instance_type             = var.relay_instance_type
  min_size                  = var.relay_capacity.min
  max_size                  = var.relay_capacity.max
  image                     = var.relay_image
  ecr_repository_arn        = var.relay_ecr_repository_arn
  command                   = ["relay"]
  target_group_arns         = [aws_lb_target_group.relay.arn, aws_lb_target_group.relay_tcp.arn]
  health_check_type         = "ELB" # a relay failing the liveness probe is replaced
  health_check_grace_period = 180

  environment = merge(local.common_environment, {
    PARLEY_METRICS_PORT          = tostring(local.relay_metrics_port)
    PARLEY_RELAY_PORT            = tostring(local.relay_port)
    PARLEY_RELAY_TCP_PORT        = tostring(local.relay_tcp_port)
    PARLEY_RELAY_IDLE_TIMEOUT_MS = tostring(var.relay_idle_timeout_ms)
  })
  secret_environment = { PARLEY_TOKEN_KEYS = var.token_keys_secret_arn }

  tags = merge(local.tags, { "parley:process" = "relay" })
}

module "signaling_fleet" {
  source = "../fleet"

  name                      = "${var.name}-edge"
  vpc_id                    = var.vpc_id
  subnet_ids                = var.signaling_subnet_ids
  architecture              = var.architecture
  instance_type             = var.signaling_instance_type
  min_size                  = var.signaling_capacity.min
  max_size                  = var.signaling_capacity.max
  image                     = var.signaling_image
  ecr_repository_arn        = var.signaling_ecr_repository_arn
  command                   = ["edge"]
  target_group_arns         = [aws_lb_target_group.signaling.arn]
  health_check_type         = "ELB"
  health_check_grace_period = 120

  environment = merge(local.common_environment, {
    PARLEY_METRICS_PORT = tostring(local.signaling_metrics_port)
    PARLEY_HTTP_PORT    = tostring(local.signaling_port)
    }, var.auth_jwt_secret_arn == null ? { PARLEY_AUTH = "off" } : {}
  )
  environment_by_az = { for az, address in local.relay_address_by_az : az => {
    PARLEY_RELAY_ADVERTISE     = address
    PARLEY_RELAY_TCP_ADVERTISE = local.relay_tcp_address_by_az[az]
  } }
  secret_environment = var.auth_jwt_secret_arn == null ? {} : { PARLEY_AUTH_JWT_SECRET = var.auth_jwt_secret_arn }

  tags = merge(local.tags, { "parley:process" = "edge" })
}

resource "aws_autoscaling_policy" "relay_cpu" {
  name                      = "cpu-target"
  autoscaling_group_name    = module.relay_fleet.autoscaling_group_name
  policy_type               = "TargetTrackingScaling"
  estimated_instance_warmup = 180

  # node:dgram forwarding is CPU-bound long before the NIC is full.
  target_tracking_configuration {
    target_value = var.relay_capacity.cpu_target
    predefined_metric_specification {
      predefined_metric_type = "ASGAverageCPUUtilization"
    }
  }
}

resource "aws_autoscaling_policy" "signaling_cpu" {
  name                      = "cpu-target"
  autoscaling_group_name    = module.signaling_fleet.autoscaling_group_name
  policy_type               = "TargetTrackingScaling"
  estimated_instance_warmup = 120

  target_tracking_configuration {
    target_value = var.signaling_capacity.cpu_target
    predefined_metric_specification {
      predefined_metric_type = "ASGAverageCPUUtilization"
    }
  }
}

data "aws_region" "current" {}

locals {
  transceiver_metrics_port = 9466
  tags                     = merge(var.tags, { "parley:role" = "core" })
}

module "nats" {
  source = "../nats-cluster"

  name                   = "${var.name}-nats"
  cluster_name           = var.cluster_name
  vpc_id                 = var.vpc_id
  subnets                = var.nats_subnets
  architecture           = var.architecture
  instance_type          = var.nats_instance_type
  nats_image             = var.nats_image
  client_security_groups = { transceivers = module.transceiver_fleet.security_group_id }
  client_cidrs           = var.edge_private_cidrs
  leafnode_cidrs         = var.edge_private_cidrs
  gateway_peers          = var.gateway_peers
  gateway_cidrs          = var.gateway_cidrs
  metrics_source_cidrs   = var.metrics_source_cidrs
  tags                   = local.tags
}

module "transceiver_fleet" {
  source = "../fleet"

  name                      = "${var.name}-transceiver"
  vpc_id                    = var.vpc_id
  subnet_ids                = var.transceiver_subnet_ids
  architecture              = var.architecture
  instance_type             = var.transceiver_instance_type
  min_size                  = var.transceiver_scaling.min
  max_size                  = var.transceiver_scaling.max
  image                     = var.transceiver_image
  ecr_repository_arn        = var.transceiver_ecr_repository_arn
  command                   = ["transceiver"]
  health_check_grace_period = 180
  drain_timeout_seconds     = var.drain_timeout_seconds

  environment = merge(var.transceiver_environment, {
    NATS_URL            = join(",", module.nats.client_urls)
    PARLEY_REGION       = data.aws_region.current.name
    PARLEY_CLUSTER      = var.cluster_name
    PARLEY_LOG_LEVEL    = var.log_level
    PARLEY_METRICS_PORT = tostring(local.transceiver_metrics_port)
    PARLEY_ICE_PORT     = tostring(var.ice_port)
    PARLEY_CAPACITY     = tostring(var.transceiver_scaling.capacity_per_instance)
    # Finish before the unit's stop timeout so the process exits on its own.
    PARLEY_DRAIN_TIMEOUT_MS = tostring((var.drain_timeout_seconds - 15) * 1000)
  })
  identity_environment = {
    PARLEY_PRIVATE_ADDRESS = "local-ipv4"  # bind and announce the instance's private IP
    PARLEY_TRANSCEIVER_ID  = "instance-id" # unique, and names the instance in logs
  }
  secret_environment = { PARLEY_TOKEN_KEYS = var.token_keys_secret_arn }
  prometheus_metrics = { port = local.transceiver_metrics_port, metric_names = [var.sessions_metric_name] }

  tags = merge(local.tags, { "parley:process" = "transceiver" })
}

# Scale on what limits a transceiver: concurrent sessions, averaged over the
# group (published by the CloudWatch agent from the Prometheus gauge).
resource "aws_autoscaling_policy" "sessions" {
  name                      = "sessions-per-transceiver"
  autoscaling_group_name    = module.transceiver_fleet.autoscaling_group_name
  policy_type               = "TargetTrackingScaling"
  estimated_instance_warmup = 180

  target_tracking_configuration {
    target_value = var.transceiver_scaling.target_sessions_per_instance

    customized_metric_specification {
      namespace   = "Parley"
      metric_name = var.sessions_metric_name
      statistic   = "Average"

      metric_dimension {
        name  = "AutoScalingGroupName"
        value = module.transceiver_fleet.autoscaling_group_name
      }
    }
  }
}

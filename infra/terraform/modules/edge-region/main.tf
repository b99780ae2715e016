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

  # With a leaf NATS in the region (nats_subnets), relays and signaling connect to it; it links
  # to the core cluster and runs JetStream for the relays' flow cache. Without one, they use the
  # core cluster directly and relays share no flows.
  leaf_nats         = length(var.nats_subnets) > 0
  region_name       = data.aws_region.current.name
  flow_cache_bucket = "parley-relay-flows-${local.region_name}"

  common_environment = {
    NATS_URL         = local.leaf_nats ? join(",", module.nats[0].client_urls) : join(",", var.nats_urls)
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

  relay_environment = merge(local.common_environment, {
    PARLEY_METRICS_PORT          = tostring(local.relay_metrics_port)
    PARLEY_RELAY_PORT            = tostring(local.relay_port)
    PARLEY_RELAY_TCP_PORT        = tostring(local.relay_tcp_port)
    PARLEY_RELAY_IDLE_TIMEOUT_MS = tostring(var.relay_idle_timeout_ms)
    # A restarted relay, or a sibling behind the NLB, forwards a known client's next packet at once.
    PARLEY_RELAY_FLOW_CACHE = local.leaf_nats ? "kv" : "off"
    }, local.leaf_nats ? { PARLEY_RELAY_FLOW_CACHE_BUCKET = local.flow_cache_bucket } : {}
  )

  tags = merge(var.tags, { "parley:role" = "edge" })
}

# The region's leaf NATS: linked to the core cluster's leaf-node port, with JetStream in memory
# under the region's own domain for the relays' flow cache (as the Kubernetes edge leaf).
module "nats" {
  source = "../nats-cluster"
  count  = local.leaf_nats ? 1 : 0

  name          = "${var.name}-nats"
  cluster_name  = "edge-${local.region_name}"
  vpc_id        = var.vpc_id
  subnets       = var.nats_subnets
  architecture  = var.architecture
  instance_type = var.nats_instance_type
  nats_image    = var.nats_image
  client_security_groups = {
    relays    = module.relay_fleet.security_group_id
    signaling = module.signaling_fleet.security_group_id
  }
  leaf_remote_urls     = var.nats_leafnode_urls
  leaf_remote_cidrs    = var.core_private_cidrs
  jetstream            = { domain = "edge-${local.region_name}", max_memory_mib = var.flow_cache_memory_mib }
  metrics_source_cidrs = var.metrics_source_cidrs
  tags                 = merge(local.tags, { "parley:process" = "nats" })
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

  environment        = local.relay_environment
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

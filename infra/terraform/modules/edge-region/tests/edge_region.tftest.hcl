# Mocked AWS: "apply" creates nothing; it resolves computed values for asserts.
mock_provider "aws" {
  mock_data "aws_region" {
    defaults = { name = "eu-west-1" }
  }
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_resource "aws_eip" {
    defaults = { public_ip = "203.0.113.10" }
  }
  mock_resource "aws_launch_template" {
    defaults = { id = "lt-0123456789abcdef0" }
  }
  mock_resource "aws_lb" {
    defaults = { arn = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/net/x/0123456789abcdef" }
  }
  mock_resource "aws_lb_target_group" {
    defaults = { arn = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/x/0123456789abcdef" }
  }
  mock_resource "aws_acm_certificate" {
    defaults = {
      arn = "arn:aws:acm:eu-west-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"
      domain_validation_options = [
        { domain_name = "signaling.example.com", resource_record_name = "_a.signaling.example.com.", resource_record_type = "CNAME", resource_record_value = "_a.acm-validations.aws." },
        { domain_name = "eu-west-1.signaling.example.com", resource_record_name = "_b.eu-west-1.signaling.example.com.", resource_record_type = "CNAME", resource_record_value = "_b.acm-validations.aws." },
      ]
    }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/parley/x" }
  }
}

variables {
  name                  = "parley-eu-west-1"
  cluster_name          = "core-eu-central-1"
  vpc_id                = "vpc-0123456789abcdef0"
  availability_zones    = ["eu-west-1a", "eu-west-1b"]
  public_subnet_ids     = ["subnet-pa", "subnet-pb"]
  relay_subnet_ids      = ["subnet-ra", "subnet-rb"]
  signaling_subnet_ids  = ["subnet-aa", "subnet-ab"]
  core_private_cidrs    = ["10.20.64.0/20", "10.20.80.0/20"]
  nats_urls             = ["nats://10.20.64.10:4222", "nats://10.20.80.10:4222"]
  token_keys_secret_arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:parley/token-keys-AbCdEf"
  auth_jwt_secret_arn   = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:parley/auth-jwt-AbCdEf"
  relay_image           = "123456789012.dkr.ecr.us-east-1.amazonaws.com/parley-relay:0.1.0"
  signaling_image       = "123456789012.dkr.ecr.us-east-1.amazonaws.com/parley-edge:0.1.0"
  signaling_domain_name = "signaling.example.com"
  regional_domain_name  = "eu-west-1.signaling.example.com"
  route53_zone_id       = "Z0123456789ABCDEFGHIJ"
  metrics_source_cidrs  = ["10.99.0.0/16"]
}

run "edge_region_rules" {
  command = apply

  assert {
    condition = (
      aws_vpc_security_group_ingress_rule.relay_nlb_public_udp.cidr_ipv4 == "0.0.0.0/0" &&
      aws_vpc_security_group_ingress_rule.relay_nlb_public_udp.ip_protocol == "udp" &&
      aws_vpc_security_group_ingress_rule.relay_nlb_public_udp.from_port == 3478 &&
      aws_vpc_security_group_ingress_rule.relay_nlb_public_udp.to_port == 3478
    )
    error_message = "The relay NLB must expose exactly UDP 3478 to the world."
  }

  assert {
    condition     = aws_lb_listener.relay.protocol == "UDP" && aws_lb_listener.relay.port == 3478 && aws_lb_target_group.relay.protocol == "UDP"
    error_message = "Relay listener and target group must be UDP 3478."
  }

  assert {
    condition = (
      aws_vpc_security_group_ingress_rule.relay_nlb_public_tcp.cidr_ipv4 == "0.0.0.0/0" &&
      aws_vpc_security_group_ingress_rule.relay_nlb_public_tcp.ip_protocol == "tcp" &&
      aws_vpc_security_group_ingress_rule.relay_nlb_public_tcp.from_port == 443 &&
      aws_lb_listener.relay_tcp.protocol == "TCP" && aws_lb_listener.relay_tcp.port == 443 &&
      aws_lb_target_group.relay_tcp.protocol == "TCP" && aws_lb_target_group.relay_tcp.port == 4443 &&
      aws_vpc_security_group_ingress_rule.relay_tcp_from_nlb.from_port == 4443
    )
    error_message = "ICE-TCP: public TCP 443 on the relay NLB, forwarded to the relays' unprivileged 4443."
  }

  assert {
    condition     = alltrue([for r in aws_vpc_security_group_ingress_rule.relay_metrics : r.cidr_ipv4 != "0.0.0.0/0"])
    error_message = "Relay metrics must never be public."
  }

  assert {
    condition     = length(aws_lb.relay.subnet_mapping) == 2 && aws_lb.relay.enable_cross_zone_load_balancing == true
    error_message = "One static EIP per zone, cross-zone on."
  }

  assert {
    condition     = aws_lb_target_group.relay.health_check[0].protocol == "HTTP" && aws_lb_target_group.relay.health_check[0].port == "9465"
    error_message = "The NLB must probe the relay process on its metrics port."
  }

  assert {
    condition     = aws_vpc_security_group_egress_rule.relay_nlb_health.from_port == 9465 && aws_vpc_security_group_ingress_rule.relay_health_from_nlb.from_port == 9465
    error_message = "Security groups must let the liveness probe through."
  }

  assert {
    condition = alltrue([
      for r in aws_vpc_security_group_egress_rule.relay_to_transceivers :
      r.ip_protocol == "udp" && r.from_port == 20000 && r.to_port == 20000 && contains(var.core_private_cidrs, r.cidr_ipv4)
    ]) && length(aws_vpc_security_group_egress_rule.relay_to_transceivers) == 2
    error_message = "Relays may send media only to the core CIDRs' one ICE port."
  }

  assert {
    condition     = aws_lb_listener.signaling_https.protocol == "HTTPS" && aws_lb_listener.signaling_https.port == 443 && startswith(aws_lb_listener.signaling_https.ssl_policy, "ELBSecurityPolicy-TLS13")
    error_message = "Signaling must be HTTPS with a TLS 1.3 policy."
  }

  assert {
    condition     = aws_vpc_security_group_ingress_rule.signaling_alb_https.from_port == 443 && aws_vpc_security_group_ingress_rule.signaling_alb_https.ip_protocol == "tcp"
    error_message = "The ALB may only be public on TCP 443."
  }

  assert {
    condition     = aws_lb_target_group.signaling.health_check[0].path == "/healthz"
    error_message = "Signaling health check must use GET /healthz."
  }

  assert {
    condition     = length(regexall("PARLEY_RELAY_ADVERTISE=203\\.0\\.113\\.10:3478", module.signaling_fleet.user_data)) == 2
    error_message = "Each zone's signaling instances must advertise that zone's relay EIP on port 3478."
  }

  assert {
    condition     = length(regexall("PARLEY_RELAY_TCP_ADVERTISE=203\\.0\\.113\\.10:443", module.signaling_fleet.user_data)) == 2
    error_message = "Each zone's signaling instances must advertise that zone's relay EIP on the ICE-TCP port 443."
  }

  assert {
    condition     = length(regexall("PARLEY_RELAY_TCP_PORT=4443", module.relay_fleet.user_data)) == 1
    error_message = "Relays must listen for ICE-TCP on 4443 (the NLB's 443 target)."
  }

  assert {
    condition     = length(regexall("PARLEY_AUTH=off", module.signaling_fleet.user_data)) == 0
    error_message = "Auth must stay on when a JWT secret is configured."
  }

  assert {
    condition     = output.relay_addresses == ["203.0.113.10:3478", "203.0.113.10:3478"]
    error_message = "relay_addresses must list every zone's EIP with port 3478."
  }

  assert {
    condition = (
      join(",", output.nats_client_urls) == "nats://10.20.64.10:4222,nats://10.20.80.10:4222" &&
      output.relay_environment["PARLEY_RELAY_FLOW_CACHE"] == "off" &&
      !contains(keys(output.relay_environment), "PARLEY_RELAY_FLOW_CACHE_BUCKET") &&
      length(module.nats) == 0
    )
    error_message = "Without nats_subnets, relays use the core cluster directly and share no flows."
  }
}

# With nats_subnets the region runs its own leaf NATS, as the Kubernetes edge leaf does:
# JetStream in memory under the domain edge-<region>, and the relays' flow cache bucket named
# after the region, so a restarted or sibling relay forwards a known call's next packet at once.
run "edge_leaf_nats_with_jetstream" {
  command = apply

  variables {
    availability_zones   = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    public_subnet_ids    = ["subnet-pa", "subnet-pb", "subnet-pc"]
    relay_subnet_ids     = ["subnet-ra", "subnet-rb", "subnet-rc"]
    signaling_subnet_ids = ["subnet-aa", "subnet-ab", "subnet-ac"]
    nats_subnets = [
      { id = "subnet-aa", cidr_block = "10.11.128.0/20" },
      { id = "subnet-ab", cidr_block = "10.11.144.0/20" },
      { id = "subnet-ac", cidr_block = "10.11.160.0/20" },
    ]
    nats_leafnode_urls = ["nats-leaf://10.20.64.10:7422", "nats-leaf://10.20.80.10:7422"]
  }

  assert {
    condition = (
      join(",", output.nats_client_urls) == "nats://10.11.128.10:4222,nats://10.11.144.10:4222,nats://10.11.160.10:4222" &&
      output.relay_environment["NATS_URL"] == "nats://10.11.128.10:4222,nats://10.11.144.10:4222,nats://10.11.160.10:4222"
    )
    error_message = "Relays and signaling must connect to the region's leaf NATS."
  }

  assert {
    condition = (
      output.relay_environment["PARLEY_RELAY_FLOW_CACHE"] == "kv" &&
      output.relay_environment["PARLEY_RELAY_FLOW_CACHE_BUCKET"] == "parley-relay-flows-eu-west-1" &&
      output.flow_cache_bucket == "parley-relay-flows-eu-west-1"
    )
    error_message = "Relays must share flows through the region's bucket (PARLEY_RELAY_FLOW_CACHE_BUCKET)."
  }

  assert {
    condition = length(output.nats_leaf_rendered_config) == 3 && alltrue([
      for conf in output.nats_leaf_rendered_config :
      length(regexall("domain: \"edge-eu-west-1\"", conf)) == 1 &&
      length(regexall("max_memory_store: 256MB", conf)) == 1 &&
      length(regexall("nats-leaf://10.20.64.10:7422", conf)) == 1 &&
      length(regexall("gateway \\{", conf)) == 0
    ])
    error_message = "Each leaf node runs JetStream in memory under edge-<region> and dials the core's leaf-node port."
  }

  assert {
    condition = (
      aws_vpc_security_group_egress_rule.relay_to_leaf_nats[0].from_port == 4222 &&
      aws_vpc_security_group_egress_rule.signaling_to_leaf_nats[0].from_port == 4222 &&
      length(module.nats[0].node_ips) == 3
    )
    error_message = "Relays and signaling may reach the leaf NATS client port."
  }
}

# Each invalid input below must be rejected by its own validation.
run "rejects_invalid_inputs" {
  command = plan

  variables {
    core_private_cidrs   = ["0.0.0.0/0"]
    metrics_source_cidrs = ["203.0.113.0/24"]
    auth_jwt_secret_arn  = null # auth off without allow_unauthenticated
    ice_port             = 80
  }

  expect_failures = [var.core_private_cidrs, var.metrics_source_cidrs, var.allow_unauthenticated, var.ice_port]
}

run "rejects_a_two_node_leaf_nats" {
  command = plan

  variables {
    nats_subnets = [
      { id = "subnet-aa", cidr_block = "10.11.128.0/20" },
      { id = "subnet-ab", cidr_block = "10.11.144.0/20" },
    ]
    nats_leafnode_urls = ["nats-leaf://10.20.64.10:7422"]
  }

  expect_failures = [var.nats_subnets]
}

run "rejects_leaf_nats_without_core_urls" {
  command = plan

  variables {
    nats_subnets = [
      { id = "subnet-aa", cidr_block = "10.11.128.0/20" },
      { id = "subnet-ab", cidr_block = "10.11.144.0/20" },
      { id = "subnet-ac", cidr_block = "10.11.160.0/20" },
    ]
  }

  expect_failures = [var.nats_leafnode_urls]
}

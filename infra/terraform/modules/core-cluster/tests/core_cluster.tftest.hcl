# Mocked AWS: "apply" creates nothing; it resolves computed values for asserts.
mock_provider "aws" {
  mock_data "aws_region" {
    defaults = { name = "us-east-2" }
  }
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_resource "aws_launch_template" {
    defaults = { id = "lt-0123456789abcdef0" }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:us-east-2:123456789012:log-group:/parley/x" }
  }
  mock_resource "aws_security_group" {
    defaults = { id = "sg-0123456789abcdef0" }
  }
}

variables {
  name                   = "parley-us-east-2"
  cluster_name           = "core-us-east-2"
  vpc_id                 = "vpc-0123456789abcdef0"
  transceiver_subnet_ids = ["subnet-a", "subnet-b", "subnet-c"]
  nats_subnets = [
    { id = "subnet-a", cidr_block = "10.20.64.0/20" },
    { id = "subnet-b", cidr_block = "10.20.80.0/20" },
    { id = "subnet-c", cidr_block = "10.20.96.0/20" },
  ]
  relay_source_cidrs    = ["10.10.64.0/20", "10.11.64.0/20"]
  edge_private_cidrs    = ["10.10.64.0/18", "10.11.64.0/18"]
  token_keys_secret_arn = "arn:aws:secretsmanager:us-east-2:123456789012:secret:parley/token-keys-AbCdEf"
  transceiver_image     = "123456789012.dkr.ecr.us-east-1.amazonaws.com/parley-transceiver:0.1.0"
}

run "core_cluster_rules" {
  command = apply

  assert {
    condition = length(aws_vpc_security_group_ingress_rule.ice_from_relays) == 2 && alltrue([
      for r in aws_vpc_security_group_ingress_rule.ice_from_relays :
      r.ip_protocol == "udp" && r.from_port == 20000 && r.to_port == 20000 && contains(var.relay_source_cidrs, r.cidr_ipv4)
    ])
    error_message = "The one ICE port must be open exactly to the relay CIDRs."
  }

  assert {
    condition = alltrue([
      for r in concat(values(aws_vpc_security_group_ingress_rule.ice_from_relays), values(aws_vpc_security_group_ingress_rule.transceiver_metrics)) :
      r.cidr_ipv4 != "0.0.0.0/0" && r.cidr_ipv6 == null
    ])
    error_message = "Nothing may reach transceivers from the internet."
  }

  assert {
    condition     = module.nats.security_group_id == aws_vpc_security_group_egress_rule.to_nats.referenced_security_group_id
    error_message = "Transceivers reach NATS by security group."
  }

  assert {
    condition = (
      aws_autoscaling_policy.sessions.target_tracking_configuration[0].target_value == 350 &&
      aws_autoscaling_policy.sessions.target_tracking_configuration[0].customized_metric_specification[0].metric_name == "parley_transceiver_sessions" &&
      aws_autoscaling_policy.sessions.target_tracking_configuration[0].customized_metric_specification[0].statistic == "Average"
    )
    error_message = "Scale-out must track average sessions per transceiver."
  }

  assert {
    condition     = length(regexall("\\^parley_transceiver_sessions\\$", module.transceiver_fleet.user_data)) == 1
    error_message = "The CloudWatch agent must publish the sessions gauge the policy tracks."
  }

  assert {
    condition     = length(regexall("PARLEY_DRAIN_TIMEOUT_MS=885000", module.transceiver_fleet.user_data)) == 1 && length(regexall("docker stop --time 900 parley", module.transceiver_fleet.user_data)) == 1
    error_message = "The process drain timeout must end before the container stop timeout."
  }

  assert {
    condition     = length(regexall("PARLEY_ICE_PORT=20000\n", module.transceiver_fleet.user_data)) == 1 && length(regexall("PARLEY_ICE_PORT_M", module.transceiver_fleet.user_data)) == 0
    error_message = "Transceivers must bind the one ICE port the security group admits."
  }

  assert {
    condition     = length(regexall("PARLEY_PRIVATE_ADDRESS=\\$\\(/usr/local/sbin/parley-imds meta-data/local-ipv4\\)", module.transceiver_fleet.user_data)) == 1
    error_message = "Transceivers must bind the instance's private address."
  }
}

run "rejects_ipv6_world_relay_source" {
  command = plan

  variables {
    relay_source_cidrs = ["::/0"]
  }

  expect_failures = [var.relay_source_cidrs]
}

# Each invalid input below must be rejected by its own validation.
run "rejects_invalid_inputs" {
  command = plan

  variables {
    relay_source_cidrs  = ["0.0.0.0/0"]
    transceiver_scaling = { min = 2, max = 20, capacity_per_instance = 500, target_sessions_per_instance = 500 }
    ice_port            = 20000.5
  }

  expect_failures = [var.relay_source_cidrs, var.transceiver_scaling, var.ice_port]
}

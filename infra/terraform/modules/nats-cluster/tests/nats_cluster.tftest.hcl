mock_provider "aws" {
  mock_data "aws_region" {
    defaults = { name = "eu-central-1" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
}

variables {
  name         = "parley-eu-central-1-nats"
  cluster_name = "core-eu-central-1"
  vpc_id       = "vpc-0123456789abcdef0"
  subnets = [
    { id = "subnet-a", cidr_block = "10.21.64.0/20" },
    { id = "subnet-b", cidr_block = "10.21.80.0/20" },
    { id = "subnet-c", cidr_block = "10.21.96.0/20" },
  ]
  client_security_groups = { transceivers = "sg-0123456789abcdef0" }
  client_cidrs           = ["10.11.64.0/18"]
  leafnode_cidrs         = ["10.11.64.0/18"]
  gateway_peers = {
    core-us-east-2 = ["nats://10.20.64.10:7222", "nats://10.20.80.10:7222"]
  }
  gateway_cidrs = ["10.20.0.0/16"]
}

run "nats_cluster_rules" {
  command = plan

  assert {
    condition     = output.node_ips == ["10.21.64.10", "10.21.80.10", "10.21.96.10"]
    error_message = "Each node must get host 10 of its subnet."
  }

  assert {
    condition = alltrue([
      for i, conf in output.rendered_config :
      length(regexall("nats-route://", conf)) == 2 && length(regexall("nats-route://${output.node_ips[i]}:", conf)) == 0
    ])
    error_message = "Each node must route to the two other nodes and not to itself."
  }

  assert {
    condition     = alltrue([for conf in output.rendered_config : length(regexall("name: \"core-us-east-2\", urls: \\[\"nats://10.20.64.10:7222\"", conf)) == 1])
    error_message = "Gateway peers must be rendered into every node's config."
  }

  assert {
    condition     = alltrue([for n in aws_instance.node : n.metadata_options[0].http_tokens == "required" && n.root_block_device[0].encrypted])
    error_message = "Nodes need IMDSv2 and encrypted root volumes."
  }

  assert {
    condition     = alltrue([for r in aws_vpc_security_group_ingress_rule.client_from_cidr : r.cidr_ipv4 != "0.0.0.0/0" && r.from_port == 4222])
    error_message = "Client port only from listed private CIDRs."
  }

  assert {
    condition     = aws_vpc_security_group_ingress_rule.client_from_sg["transceivers"].referenced_security_group_id == "sg-0123456789abcdef0"
    error_message = "Same-VPC clients are admitted by security group, not CIDR."
  }

  assert {
    condition     = aws_vpc_security_group_ingress_rule.gateway["10.20.0.0/16"].from_port == 7222 && length(aws_vpc_security_group_ingress_rule.gateway) == 1
    error_message = "Gateway port only from peer core VPCs."
  }

  assert {
    condition     = alltrue([for conf in output.rendered_config : length(regexall("jetstream", conf)) == 0 && length(regexall("listen: \"0.0.0.0:7422\"", conf)) == 1])
    error_message = "A core cluster listens for edge leaf nodes and runs no JetStream (Parley uses core NATS only there)."
  }
}

# An edge region's leaf cluster: dials the core's leaf-node port, no gateway, JetStream in
# memory (tmpfs store) under the region's own domain for the relays' flow cache.
run "edge_leaf_with_jetstream" {
  command = plan

  variables {
    name         = "parley-eu-west-1-nats"
    cluster_name = "edge-eu-west-1"
    subnets = [
      { id = "subnet-a", cidr_block = "10.11.128.0/20" },
      { id = "subnet-b", cidr_block = "10.11.144.0/20" },
      { id = "subnet-c", cidr_block = "10.11.160.0/20" },
    ]
    client_security_groups = { relays = "sg-0123456789abcdef1", signaling = "sg-0123456789abcdef2" }
    client_cidrs           = []
    leafnode_cidrs         = []
    gateway_peers          = {}
    gateway_cidrs          = []
    leaf_remote_urls       = ["nats-leaf://10.21.64.10:7422", "nats-leaf://10.21.80.10:7422"]
    leaf_remote_cidrs      = ["10.21.64.0/20", "10.21.80.0/20"]
    jetstream              = { domain = "edge-eu-west-1", max_memory_mib = 256 }
  }

  assert {
    condition = alltrue([
      for conf in output.rendered_config :
      length(regexall("gateway \\{", conf)) == 0 &&
      length(regexall("listen: \"0.0.0.0:7422\"", conf)) == 0 &&
      length(regexall("remotes: \\[\\s*\\{ urls: \\[\"nats-leaf://10.21.64.10:7422\", \"nats-leaf://10.21.80.10:7422\"\\] \\}", conf)) == 1
    ])
    error_message = "An edge leaf dials the core's leaf-node URLs and has no gateway or leaf listener."
  }

  assert {
    condition = alltrue([
      for conf in output.rendered_config :
      length(regexall("jetstream \\{", conf)) == 1 &&
      length(regexall("domain: \"edge-eu-west-1\"", conf)) == 1 &&
      length(regexall("store_dir: \"/data/jetstream\"", conf)) == 1 &&
      length(regexall("max_memory_store: 256MB", conf)) == 1
    ])
    error_message = "Every leaf node runs JetStream in the region's domain with a bounded memory store."
  }

  assert {
    condition     = alltrue([for n in aws_instance.node : length(regexall("--tmpfs /data/jetstream:rw,noexec,nosuid,size=256m,", n.user_data)) == 1])
    error_message = "JetStream's store is a tmpfs of the configured size (memory, nothing on disk)."
  }

  assert {
    condition     = length(aws_vpc_security_group_egress_rule.leaf_remote) == 2 && alltrue([for r in aws_vpc_security_group_egress_rule.leaf_remote : r.from_port == 7422 && r.to_port == 7422])
    error_message = "The leaf may dial only the core's leaf-node port."
  }
}

# Each invalid input below must be rejected by its own validation.
run "rejects_invalid_inputs" {
  command = plan

  variables {
    client_cidrs = ["0.0.0.0/0"]
    subnets = [
      { id = "subnet-a", cidr_block = "10.21.64.0/20" },
      { id = "subnet-b", cidr_block = "10.21.80.0/20" },
    ]
  }

  expect_failures = [var.client_cidrs, var.subnets]
}

run "rejects_invalid_jetstream_and_leaf_inputs" {
  command = plan

  variables {
    leaf_remote_urls  = ["nats://10.21.64.10:4222"]
    leaf_remote_cidrs = ["0.0.0.0/0"]
    jetstream         = { domain = "edge.eu-west-1", max_memory_mib = 16 }
  }

  expect_failures = [var.leaf_remote_urls, var.leaf_remote_cidrs, var.jetstream]
}

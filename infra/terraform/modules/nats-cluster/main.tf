data "aws_region" "current" {}
data "aws_partition" "current" {}

data "aws_ssm_parameter" "al2023" {
  count = var.ami_id == null ? 1 : 0
  name  = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-${var.architecture}"
}

locals {
  ports = { client = 4222, cluster = 6222, gateway = 7222, leafnode = 7422, monitoring = 8222 }

  # Fixed addresses: cluster routes and other regions' gateway URLs point at
  # them, so a node replaced by auto-recovery or -replace keeps its identity.
  node_ips = [for s in var.subnets : cidrhost(s.cidr_block, var.host_number)]

  nats_config = [for i, ip in local.node_ips : templatefile("${path.module}/templates/nats.conf.tftpl", {
    server_name   = "${var.cluster_name}-${i}"
    cluster_name  = var.cluster_name
    ports         = local.ports
    routes        = [for peer in local.node_ips : "nats-route://${peer}:${local.ports.cluster}" if peer != ip]
    gateway_peers = var.gateway_peers
    leaf_remotes  = var.leaf_remote_urls
    jetstream     = var.jetstream
  })]
}

resource "aws_cloudwatch_log_group" "this" {
  name              = "/parley/${var.name}"
  retention_in_days = 30
  tags              = var.tags
}

resource "aws_instance" "node" {
  count = length(var.subnets)

  ami                    = var.ami_id != null ? var.ami_id : data.aws_ssm_parameter.al2023[0].insecure_value
  instance_type          = var.instance_type
  subnet_id              = var.subnets[count.index].id
  private_ip             = local.node_ips[count.index]
  vpc_security_group_ids = [aws_security_group.this.id]
  iam_instance_profile   = aws_iam_instance_profile.this.name
  monitoring             = true
  ebs_optimized          = true

  user_data = templatefile("${path.module}/templates/user-data.sh.tftpl", {
    image       = var.nats_image
    config      = local.nats_config[count.index]
    region      = data.aws_region.current.name
    log_group   = aws_cloudwatch_log_group.this.name
    client_port = local.ports.client
    # JetStream's store: a tmpfs (memory, like the Kubernetes leaf's memory store), 0 = none.
    jetstream_tmpfs_mib = var.jetstream == null ? 0 : var.jetstream.max_memory_mib
  })
  # Config changes roll out one node at a time (terraform apply -replace=...),
  # never by replacing the whole cluster in one apply.
  user_data_replace_on_change = false

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }

  root_block_device {
    volume_type = "gp3"
    volume_size = 20
    encrypted   = true
    kms_key_id  = var.ebs_kms_key_arn
  }

  maintenance_options {
    auto_recovery = "default" # same instance, same IP after host failure
  }

  tags = merge(var.tags, { Name = "${var.name}-${count.index}", "parley:role" = "nats" })

  lifecycle {
    ignore_changes = [ami, user_data]
  }
}

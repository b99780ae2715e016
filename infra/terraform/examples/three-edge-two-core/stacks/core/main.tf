# Everything one core region deploys: transceivers and a 3-node NATS cluster on
# private subnets, plus the requesting half of a VPC peering to every earlier
# core (NATS gateway traffic). Called by each core root (core-<region>/), which
# configures the providers and accepts the peerings in the earlier cores'
# regions (modules cannot pick a provider per for_each key).

locals {
  me      = module.topology.cores[var.region]
  subnets = module.topology.subnets[var.region]
}

module "topology" {
  source = "../../topology"
}

data "terraform_remote_state" "core" {
  for_each = toset(var.earlier_cores)

  backend = "s3"
  config = {
    bucket = module.topology.state.bucket
    region = module.topology.state.region
    key    = "${module.topology.state.prefix}/core-${each.key}.tfstate"
  }
}

data "aws_secretsmanager_secret" "token_keys" {
  name = module.topology.secret_names.token_keys
}

module "network" {
  source = "../../../../modules/network"

  name                 = "parley-${var.region}"
  cidr_block           = local.me.cidr
  availability_zones   = local.me.azs
  public_subnet_cidrs  = local.subnets.public
  private_subnet_cidrs = local.subnets.private
}

module "core" {
  source = "../../../../modules/core-cluster"

  name                   = "parley-${var.region}"
  cluster_name           = local.me.cluster_name
  vpc_id                 = module.network.vpc_id
  transceiver_subnet_ids = module.network.private_subnet_ids["app"]
  nats_subnets           = [for i, id in module.network.private_subnet_ids["app"] : { id = id, cidr_block = local.subnets.private.app[i] }]

  # Static from the address plan, so cores never wait for edge state.
  relay_source_cidrs = module.topology.relay_cidrs
  ice_port           = module.topology.ice_port
  edge_private_cidrs = module.topology.edge_private_cidrs
  gateway_cidrs      = [for r, c in module.topology.cores : c.cidr if r != var.region]
  gateway_peers = {
    for r in var.earlier_cores : module.topology.cores[r].cluster_name => data.terraform_remote_state.core[r].outputs.nats_gateway_urls
  }

  token_keys_secret_arn          = data.aws_secretsmanager_secret.token_keys.arn
  transceiver_image              = "${module.topology.images.transceiver}:${var.image_tag}"
  transceiver_ecr_repository_arn = module.topology.repository_arns.transceiver
}

# Private path for NATS gateway traffic between the core regions. The root
# accepts each peering (output peerings) with the earlier core's provider.
module "peer" {
  source   = "../../../../modules/vpc-peering-requester"
  for_each = toset(var.earlier_cores)

  name            = "parley-${var.region}-to-${each.key}"
  vpc_id          = module.network.vpc_id
  cidr_block      = local.me.cidr
  route_table_ids = module.network.private_route_table_ids
  peer = {
    vpc_id     = data.terraform_remote_state.core[each.key].outputs.vpc_id
    region     = each.key
    cidr_block = module.topology.cores[each.key].cidr
  }
}

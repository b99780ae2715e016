# Core region eu-central-1: transceivers and a 3-node NATS cluster on private
# subnets. Apply after bootstrap and core-us-east-2, before the edge roots.

locals {
  region  = "eu-central-1"
  me      = module.topology.cores[local.region]
  subnets = module.topology.subnets[local.region]
}

module "topology" {
  source = "../topology"
}

provider "aws" {
  region              = local.region
  allowed_account_ids = [module.topology.account_id]

  default_tags {
    tags = { Project = "parley", ManagedBy = "terraform", Root = "core-eu-central-1" }
  }
}

# Accepts the peering in the peer region (same account).
provider "aws" {
  alias               = "us_east_2"
  region              = "us-east-2"
  allowed_account_ids = [module.topology.account_id]

  default_tags {
    tags = { Project = "parley", ManagedBy = "terraform", Root = "core-eu-central-1" }
  }
}

data "terraform_remote_state" "core_us_east_2" {
  backend = "s3"
  config = {
    bucket = module.topology.state.bucket
    region = module.topology.state.region
    key    = "${module.topology.state.prefix}/core-us-east-2.tfstate"
  }
}

data "aws_secretsmanager_secret" "token_keys" {
  name = module.topology.secret_names.token_keys
}

module "network" {
  source = "../../../modules/network"

  name                 = "parley-${local.region}"
  cidr_block           = local.me.cidr
  availability_zones   = local.me.azs
  public_subnet_cidrs  = local.subnets.public
  private_subnet_cidrs = local.subnets.private
}

module "core" {
  source = "../../../modules/core-cluster"

  name                   = "parley-${local.region}"
  cluster_name           = local.me.cluster_name
  vpc_id                 = module.network.vpc_id
  transceiver_subnet_ids = module.network.private_subnet_ids["app"]
  nats_subnets           = [for i, id in module.network.private_subnet_ids["app"] : { id = id, cidr_block = local.subnets.private.app[i] }]

  # Static from the address plan, so cores never wait for edge state.
  relay_source_cidrs = module.topology.relay_cidrs
  edge_private_cidrs = module.topology.edge_private_cidrs
  gateway_cidrs      = [for r, c in module.topology.cores : c.cidr if r != local.region]
  gateway_peers = {
    (module.topology.cores["us-east-2"].cluster_name) = data.terraform_remote_state.core_us_east_2.outputs.nats_gateway_urls
  }

  token_keys_secret_arn          = data.aws_secretsmanager_secret.token_keys.arn
  transceiver_image              = "${module.topology.images.transceiver}:${var.image_tag}"
  transceiver_ecr_repository_arn = module.topology.repository_arns.transceiver
}

# Private path for NATS gateway traffic between the core regions.
module "peer_core_us_east_2" {
  source = "../../../modules/vpc-peering-requester"

  name            = "parley-${local.region}-to-us-east-2"
  vpc_id          = module.network.vpc_id
  cidr_block      = local.me.cidr
  route_table_ids = module.network.private_route_table_ids
  peer = {
    vpc_id     = data.terraform_remote_state.core_us_east_2.outputs.vpc_id
    region     = "us-east-2"
    cidr_block = module.topology.cores["us-east-2"].cidr
  }
}

module "accept_core_us_east_2" {
  source    = "../../../modules/vpc-peering-accepter"
  providers = { aws = aws.us_east_2 }

  name                  = "parley-${local.region}-to-us-east-2"
  peering_connection_id = module.peer_core_us_east_2.peering_connection_id
  route_table_ids       = data.terraform_remote_state.core_us_east_2.outputs.private_route_table_ids
  requester_cidr_block  = local.me.cidr
}

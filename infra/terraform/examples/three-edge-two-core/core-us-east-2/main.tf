# Core region us-east-2: transceivers and a 3-node NATS cluster on private
# subnets. Apply after bootstrap, before the edge roots.

locals {
  region  = "us-east-2"
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
    tags = { Project = "parley", ManagedBy = "terraform", Root = "core-us-east-2" }
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
  gateway_peers      = {} # the first core dials nobody; later cores dial it and NATS gossips back

  token_keys_secret_arn          = data.aws_secretsmanager_secret.token_keys.arn
  transceiver_image              = "${module.topology.images.transceiver}:${var.image_tag}"
  transceiver_ecr_repository_arn = module.topology.repository_arns.transceiver
}

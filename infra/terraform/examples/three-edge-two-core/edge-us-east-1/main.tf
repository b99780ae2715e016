# Edge region us-east-1: relays behind one public UDP port, HTTPS signaling,
# VPC peering to every core region. Apply after bootstrap and the core roots.

locals {
  region  = "us-east-1"
  me      = module.topology.edges[local.region]
  subnets = module.topology.subnets[local.region]
  core    = data.terraform_remote_state.core[local.me.core].outputs
}

module "topology" {
  source = "../topology"
}

provider "aws" {
  region              = local.region
  allowed_account_ids = [module.topology.account_id]

  default_tags {
    tags = { Project = "parley", ManagedBy = "terraform", Root = "edge-us-east-1" }
  }
}

# Accepts the peering in the peer region (same account).
provider "aws" {
  alias               = "us_east_2"
  region              = "us-east-2"
  allowed_account_ids = [module.topology.account_id]

  default_tags {
    tags = { Project = "parley", ManagedBy = "terraform", Root = "edge-us-east-1" }
  }
}

# Accepts the peering in the peer region (same account).
provider "aws" {
  alias               = "eu_central_1"
  region              = "eu-central-1"
  allowed_account_ids = [module.topology.account_id]

  default_tags {
    tags = { Project = "parley", ManagedBy = "terraform", Root = "edge-us-east-1" }
  }
}

data "terraform_remote_state" "core" {
  for_each = module.topology.cores

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

data "aws_secretsmanager_secret" "auth_jwt" {
  name = module.topology.secret_names.auth_jwt
}

data "aws_route53_zone" "public" {
  name         = module.topology.hosted_zone_name
  private_zone = false
}

module "network" {
  source = "../../../modules/network"

  name                 = "parley-${local.region}"
  cidr_block           = local.me.cidr
  availability_zones   = local.me.azs
  public_subnet_cidrs  = local.subnets.public
  private_subnet_cidrs = local.subnets.private
}

module "edge" {
  source = "../../../modules/edge-region"

  name                 = "parley-${local.region}"
  cluster_name         = module.topology.cores[local.me.core].cluster_name
  vpc_id               = module.network.vpc_id
  availability_zones   = module.network.availability_zones
  public_subnet_ids    = module.network.public_subnet_ids
  relay_subnet_ids     = module.network.private_subnet_ids["relay"]
  signaling_subnet_ids = module.network.private_subnet_ids["app"]
  core_private_cidrs   = module.topology.core_private_cidrs
  nats_urls            = local.core.nats_client_urls

  token_keys_secret_arn = data.aws_secretsmanager_secret.token_keys.arn
  auth_jwt_secret_arn   = data.aws_secretsmanager_secret.auth_jwt.arn

  relay_image                  = "${module.topology.images.relay}:${var.image_tag}"
  relay_ecr_repository_arn     = module.topology.repository_arns.relay
  signaling_image              = "${module.topology.images.edge}:${var.image_tag}"
  signaling_ecr_repository_arn = module.topology.repository_arns.edge

  signaling_domain_name = module.topology.signaling_domain_name
  regional_domain_name  = "${local.region}.${module.topology.signaling_domain_name}"
  route53_zone_id       = data.aws_route53_zone.public.zone_id
}

# One peering per core region: relays reach any core's transceivers, so an
# edge can be re-pointed at another core by changing topology alone.

module "peer_us_east_2" {
  source = "../../../modules/vpc-peering-requester"

  name            = "parley-${local.region}-to-us-east-2"
  vpc_id          = module.network.vpc_id
  cidr_block      = local.me.cidr
  route_table_ids = module.network.private_route_table_ids
  peer = {
    vpc_id     = data.terraform_remote_state.core["us-east-2"].outputs.vpc_id
    region     = "us-east-2"
    cidr_block = module.topology.cores["us-east-2"].cidr
  }
}

module "accept_us_east_2" {
  source    = "../../../modules/vpc-peering-accepter"
  providers = { aws = aws.us_east_2 }

  name                  = "parley-${local.region}-to-us-east-2"
  peering_connection_id = module.peer_us_east_2.peering_connection_id
  route_table_ids       = data.terraform_remote_state.core["us-east-2"].outputs.private_route_table_ids
  requester_cidr_block  = local.me.cidr
}

module "peer_eu_central_1" {
  source = "../../../modules/vpc-peering-requester"

  name            = "parley-${local.region}-to-eu-central-1"
  vpc_id          = module.network.vpc_id
  cidr_block      = local.me.cidr
  route_table_ids = module.network.private_route_table_ids
  peer = {
    vpc_id     = data.terraform_remote_state.core["eu-central-1"].outputs.vpc_id
    region     = "eu-central-1"
    cidr_block = module.topology.cores["eu-central-1"].cidr
  }
}

module "accept_eu_central_1" {
  source    = "../../../modules/vpc-peering-accepter"
  providers = { aws = aws.eu_central_1 }

  name                  = "parley-${local.region}-to-eu-central-1"
  peering_connection_id = module.peer_eu_central_1.peering_connection_id
  route_table_ids       = data.terraform_remote_state.core["eu-central-1"].outputs.private_route_table_ids
  requester_cidr_block  = local.me.cidr
}

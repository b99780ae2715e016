# Everything one edge region deploys: relays behind one public UDP port, HTTPS
# signaling, a leaf NATS (JetStream for the relays' flow cache), and the
# requesting half of a VPC peering to every core region.
# Called by each edge root (edge-<region>/), which configures the providers and
# accepts the peerings in the core regions (modules cannot pick a provider per
# for_each key).

locals {
  me      = module.topology.edges[var.region]
  subnets = module.topology.subnets[var.region]
  core    = data.terraform_remote_state.core[local.me.core].outputs
}

module "topology" {
  source = "../../topology"
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
  source = "../../../../modules/network"

  name                 = "parley-${var.region}"
  cidr_block           = local.me.cidr
  availability_zones   = local.me.azs
  public_subnet_cidrs  = local.subnets.public
  private_subnet_cidrs = local.subnets.private
}

module "edge" {
  source = "../../../../modules/edge-region"

  name                 = "parley-${var.region}"
  cluster_name         = module.topology.cores[local.me.core].cluster_name
  clusters             = [for region, c in module.topology.cores : { name = c.cluster_name, rtt_ms = module.topology.rtt_ms[var.region][region] }] # fail over nearest first
  vpc_id               = module.network.vpc_id
  availability_zones   = module.network.availability_zones
  public_subnet_ids    = module.network.public_subnet_ids
  relay_subnet_ids     = module.network.private_subnet_ids["relay"]
  signaling_subnet_ids = module.network.private_subnet_ids["app"]
  core_private_cidrs   = module.topology.core_private_cidrs
  ice_port             = module.topology.ice_port
  nats_urls            = local.core.nats_client_urls
  # The region's leaf NATS (JetStream for the relays' flow cache) in the app subnets, like the core's NATS.
  nats_subnets       = [for i, id in module.network.private_subnet_ids["app"] : { id = id, cidr_block = local.subnets.private.app[i] }]
  nats_leafnode_urls = local.core.nats_leafnode_urls

  token_keys_secret_arn = data.aws_secretsmanager_secret.token_keys.arn
  auth_jwt_secret_arn   = data.aws_secretsmanager_secret.auth_jwt.arn

  relay_image                  = "${module.topology.images.relay}:${var.image_tag}"
  relay_ecr_repository_arn     = module.topology.repository_arns.relay
  signaling_image              = "${module.topology.images.edge}:${var.image_tag}"
  signaling_ecr_repository_arn = module.topology.repository_arns.edge

  signaling_domain_name = module.topology.signaling_domain_name
  regional_domain_name  = "${var.region}.${module.topology.signaling_domain_name}"
  route53_zone_id       = data.aws_route53_zone.public.zone_id
}

# One peering per core region: relays reach any core's transceivers, so an
# edge can be re-pointed at another core by changing topology alone. The root
# accepts each one (output peerings) with that core region's provider.
module "peer" {
  source   = "../../../../modules/vpc-peering-requester"
  for_each = module.topology.cores

  name            = "parley-${var.region}-to-${each.key}"
  vpc_id          = module.network.vpc_id
  cidr_block      = local.me.cidr
  route_table_ids = module.network.private_route_table_ids
  peer = {
    vpc_id     = data.terraform_remote_state.core[each.key].outputs.vpc_id
    region     = each.key
    cidr_block = each.value.cidr
  }
}

# Global layer: steers the signaling hostname to the nearest healthy edge.
# Apply last (it reads every edge root's outputs), and again after adding or
# removing an edge region.

locals {
  region = module.topology.primary_region # Route 53 is global; any region works
}

module "topology" {
  source = "../topology"
}

provider "aws" {
  region              = local.region
  allowed_account_ids = [module.topology.account_id]

  default_tags {
    tags = { Project = "parley", ManagedBy = "terraform", Root = "global" }
  }
}

data "terraform_remote_state" "edge" {
  for_each = module.topology.edges

  backend = "s3"
  config = {
    bucket = module.topology.state.bucket
    region = module.topology.state.region
    key    = "${module.topology.state.prefix}/edge-${each.key}.tfstate"
  }
}

data "aws_route53_zone" "public" {
  name         = module.topology.hosted_zone_name
  private_zone = false
}

module "global" {
  source = "../../../modules/global"

  name                  = "parley"
  zone_id               = data.aws_route53_zone.public.zone_id
  signaling_domain_name = module.topology.signaling_domain_name
  routing_policy        = var.routing_policy
  default_edge          = var.routing_policy == "geolocation" ? var.default_edge : null

  edges = {
    for region, e in module.topology.edges : region => {
      region               = region
      continent            = e.continent
      alb_dns_name         = data.terraform_remote_state.edge[region].outputs.signaling_alb_dns_name
      alb_zone_id          = data.terraform_remote_state.edge[region].outputs.signaling_alb_zone_id
      regional_domain_name = data.terraform_remote_state.edge[region].outputs.regional_domain_name
      relay_addresses      = data.terraform_remote_state.edge[region].outputs.relay_addresses
    }
  }
}

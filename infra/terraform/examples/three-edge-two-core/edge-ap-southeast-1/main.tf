# Edge region ap-southeast-1: relays behind one public UDP port, HTTPS signaling,
# VPC peering to every core region. Apply after bootstrap and the core roots.
# What gets deployed is in ../stacks/edge (shared by every edge root); this
# root names the region, configures the providers and accepts the peerings.

locals {
  region = "ap-southeast-1"
  tags   = { Project = "parley", ManagedBy = "terraform", Root = "edge-${local.region}" }
}

module "topology" {
  source = "../topology"
}

provider "aws" {
  region              = local.region
  allowed_account_ids = [module.topology.account_id]

  default_tags {
    tags = local.tags
  }
}

module "stack" {
  source = "../stacks/edge"

  region    = local.region
  image_tag = var.image_tag
}

# Each peering is accepted in the core's region (same account): one provider
# alias and one accepter per core region.

provider "aws" {
  alias               = "us_east_2"
  region              = "us-east-2"
  allowed_account_ids = [module.topology.account_id]

  default_tags {
    tags = local.tags
  }
}

module "accept_us_east_2" {
  source    = "../../../modules/vpc-peering-accepter"
  providers = { aws = aws.us_east_2 }

  name                  = module.stack.peerings["us-east-2"].name
  peering_connection_id = module.stack.peerings["us-east-2"].peering_connection_id
  route_table_ids       = module.stack.peerings["us-east-2"].route_table_ids
  requester_cidr_block  = module.stack.peerings["us-east-2"].requester_cidr_block
}

provider "aws" {
  alias               = "eu_central_1"
  region              = "eu-central-1"
  allowed_account_ids = [module.topology.account_id]

  default_tags {
    tags = local.tags
  }
}

module "accept_eu_central_1" {
  source    = "../../../modules/vpc-peering-accepter"
  providers = { aws = aws.eu_central_1 }

  name                  = module.stack.peerings["eu-central-1"].name
  peering_connection_id = module.stack.peerings["eu-central-1"].peering_connection_id
  route_table_ids       = module.stack.peerings["eu-central-1"].route_table_ids
  requester_cidr_block  = module.stack.peerings["eu-central-1"].requester_cidr_block
}

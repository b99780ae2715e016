# Core region eu-central-1: transceivers and a 3-node NATS cluster on private
# subnets. Apply after bootstrap and core-us-east-2, before the edge roots.
# What gets deployed is in ../stacks/core (shared by every core root); this
# root names the region and the earlier cores, configures the providers and
# accepts the peerings.

locals {
  region = "eu-central-1"
  tags   = { Project = "parley", ManagedBy = "terraform", Root = "core-${local.region}" }
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
  source = "../stacks/core"

  region        = local.region
  earlier_cores = ["us-east-2"]
  image_tag     = var.image_tag
}

# Each peering is accepted in the earlier core's region (same account): one
# provider alias and one accepter per earlier core.

provider "aws" {
  alias               = "us_east_2"
  region              = "us-east-2"
  allowed_account_ids = [module.topology.account_id]

  default_tags {
    tags = local.tags
  }
}

module "accept_core_us_east_2" {
  source    = "../../../modules/vpc-peering-accepter"
  providers = { aws = aws.us_east_2 }

  name                  = module.stack.peerings["us-east-2"].name
  peering_connection_id = module.stack.peerings["us-east-2"].peering_connection_id
  route_table_ids       = module.stack.peerings["us-east-2"].route_table_ids
  requester_cidr_block  = module.stack.peerings["us-east-2"].requester_cidr_block
}

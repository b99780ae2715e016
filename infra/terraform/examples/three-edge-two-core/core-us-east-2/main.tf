# Core region us-east-2 (the first core): transceivers and a 3-node NATS cluster
# on private subnets. Apply after bootstrap, before the edge roots. What gets
# deployed is in ../stacks/core (shared by every core root); this root names
# the region and configures the provider.

locals {
  region = "us-east-2"
}

module "topology" {
  source = "../topology"
}

provider "aws" {
  region              = local.region
  allowed_account_ids = [module.topology.account_id]

  default_tags {
    tags = { Project = "parley", ManagedBy = "terraform", Root = "core-${local.region}" }
  }
}

module "stack" {
  source = "../stacks/core"

  region        = local.region
  earlier_cores = [] # the first core dials nobody; later cores dial it and NATS gossips back
  image_tag     = var.image_tag
}

# The one file to edit for a deployment: account, domain, regions, CIDRs.
# Every root reads it, so the core roots know the edges' relay subnets (and
# vice versa) without waiting for each other's state.
locals {
  account_id     = "123456789012"
  primary_region = "us-east-1" # ECR repositories and the primary copy of secrets

  hosted_zone_name      = "example.com"
  signaling_domain_name = "signaling.example.com"

  # Must match the bucket/region in backend.hcl; roots read each other's
  # outputs from here.
  state = { bucket = "example-parley-terraform-state", region = "us-east-1", prefix = "parley" }

  repositories = { relay = "parley-relay", edge = "parley-edge", transceiver = "parley-transceiver" }

  # The one UDP port every transceiver binds for ICE (PARLEY_ICE_PORT). Edges
  # (relay egress) and cores (transceiver ingress) must open the same port,
  # so it is set here once.
  ice_port     = 20000
  secret_names = { token_keys = "parley/token-keys", auth_jwt = "parley/auth-jwt-secret" }

  # Core regions: transceivers + NATS. cluster_name is PARLEY_CLUSTER.
  cores = {
    "us-east-2"    = { cidr = "10.20.0.0/16", azs = ["us-east-2a", "us-east-2b", "us-east-2c"], cluster_name = "core-us-east-2" }
    "eu-central-1" = { cidr = "10.21.0.0/16", azs = ["eu-central-1a", "eu-central-1b", "eu-central-1c"], cluster_name = "core-eu-central-1" }
  }

  # Edge regions: relays + signaling. core = the core region whose cluster
  # this edge places sessions in (nearest by latency).
  edges = {
    "us-east-1"      = { cidr = "10.10.0.0/16", azs = ["us-east-1a", "us-east-1b", "us-east-1c"], core = "us-east-2", continent = "NA" }
    "eu-west-1"      = { cidr = "10.11.0.0/16", azs = ["eu-west-1a", "eu-west-1b", "eu-west-1c"], core = "eu-central-1", continent = "EU" }
    "ap-southeast-1" = { cidr = "10.12.0.0/16", azs = ["ap-southeast-1a", "ap-southeast-1b", "ap-southeast-1c"], core = "eu-central-1", continent = "AS" }
  }

  # Subnet plan inside each /16: /20 blocks. public 0-3, relay 4-7, app 8-11.
  subnets = {
    for region, r in merge(local.edges, local.cores) : region => {
      public = [for i, _ in r.azs : cidrsubnet(r.cidr, 4, i)]
      private = merge(
        contains(keys(local.edges), region) ? { relay = [for i, _ in r.azs : cidrsubnet(r.cidr, 4, 4 + i)] } : {},
        { app = [for i, _ in r.azs : cidrsubnet(r.cidr, 4, 8 + i)] },
      )
    }
  }
}

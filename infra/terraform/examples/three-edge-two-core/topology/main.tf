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

  # Regions come from regions.json, which `parley sim` reads too (with the
  # RTT matrix and client geos), so the simulation and the deployment cannot
  # drift. Core regions: transceivers + NATS; cluster_name is PARLEY_CLUSTER.
  regions = jsondecode(file("${path.module}/regions.json"))
  cores = {
    for region, c in local.regions.cores : region => { cidr = c.cidr, azs = c.azs, cluster_name = c.cluster_name }
  }

  # Round-trip times between regions (ms), both directions, from regions.json's
  # one-direction matrix: edges use them as fallback RTTs to each core.
  rtt_ms = {
    for a in keys(merge(local.regions.cores, local.regions.edges)) : a => {
      for b in keys(merge(local.regions.cores, local.regions.edges)) : b => a == b ? 0 : try(local.regions.rtt_ms[a][b], local.regions.rtt_ms[b][a])
    }
  }

  # Edge regions: relays + signaling. core = the core region whose cluster
  # this edge places sessions in first (nearest by latency); the others are
  # its fallbacks, nearest first.
  edges = {
    for region, e in local.regions.edges : region => { cidr = e.cidr, azs = e.azs, core = e.core, continent = e.continent }
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

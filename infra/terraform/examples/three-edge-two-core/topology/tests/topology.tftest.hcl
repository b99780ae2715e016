# The address plan is data only: these runs need no provider at all.

run "vpc_cidrs_do_not_overlap" {
  command = plan

  assert {
    # Distinct networks at the shortest prefix in use => no two VPCs overlap.
    condition = length(distinct([
      for r, e in merge(output.edges, output.cores) :
      cidrsubnet("${cidrhost(e.cidr, 0)}/${min([for x in merge(output.edges, output.cores) : tonumber(split("/", x.cidr)[1])]...)}", 0, 0)
    ])) == length(merge(output.edges, output.cores))
    error_message = "Every region needs its own, non-overlapping VPC CIDR (they are peered)."
  }
}

run "edges_point_at_existing_cores" {
  command = plan

  assert {
    condition     = alltrue([for e in output.edges : contains(keys(output.cores), e.core)])
    error_message = "Every edge's core must be a core region."
  }
}

run "relay_cidrs_are_relay_tiers_only" {
  command = plan

  assert {
    condition     = length(output.relay_cidrs) == sum([for e in output.edges : length(e.azs)]) && length(setintersection(toset(output.relay_cidrs), toset(flatten([for r, _ in output.edges : output.subnets[r].private.app])))) == 0
    error_message = "Transceivers must admit the edges' relay subnets and nothing else."
  }

  assert {
    condition     = alltrue([for r, c in output.cores : !contains(keys(output.subnets[r].private), "relay")])
    error_message = "Core regions have no relay tier."
  }
}

run "zones_belong_to_their_region" {
  command = plan

  assert {
    condition     = alltrue([for r, e in merge(output.edges, output.cores) : alltrue([for az in e.azs : startswith(az, r)]) && length(e.azs) >= 2])
    error_message = "Each region lists at least two of its own availability zones."
  }
}

run "one_unprivileged_ice_port" {
  command = plan

  assert {
    # Both module variables validate this too; failing here names the topology as the place to fix.
    condition     = output.ice_port >= 1024 && output.ice_port <= 65535 && floor(output.ice_port) == output.ice_port
    error_message = "ice_port must be one unprivileged UDP port number, shared by every edge and core."
  }
}

# Requesting half of a private path between an edge VPC and a core VPC (or
# two core VPCs) in another region. AWS encrypts inter-region peering traffic.
# The other half is modules/vpc-peering-accepter, run with the peer region's
# provider; two single-provider modules keep each one validatable on its own.
resource "aws_vpc_peering_connection" "this" {
  vpc_id      = var.vpc_id
  peer_vpc_id = var.peer.vpc_id
  peer_region = var.peer.region
  tags        = merge(var.tags, { Name = var.name })
}

# Allowed while the connection is pending acceptance: the route is a
# blackhole until the accepter activates it.
resource "aws_route" "to_peer" {
  count = length(var.route_table_ids)

  route_table_id            = var.route_table_ids[count.index]
  destination_cidr_block    = var.peer.cidr_block
  vpc_peering_connection_id = aws_vpc_peering_connection.this.id
}

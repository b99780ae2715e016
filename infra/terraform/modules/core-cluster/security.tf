# Transceivers are reachable only from the relay fleets' subnets, only on
# the one ICE port. Cross-region peering cannot reference security groups, so
# relays are admitted by their dedicated subnet CIDRs.
resource "aws_vpc_security_group_ingress_rule" "ice_from_relays" {
  for_each = toset(var.relay_source_cidrs)

  security_group_id = module.transceiver_fleet.security_group_id
  description       = "ICE/DTLS/SRTP from edge relays"
  ip_protocol       = "udp"
  from_port         = var.ice_port
  to_port           = var.ice_port
  cidr_ipv4         = each.value
}

# Replies go back to the relay's per-flow ephemeral socket (Linux default
# ephemeral range); connection tracking covers most, this covers idle gaps.
resource "aws_vpc_security_group_egress_rule" "media_to_relays" {
  for_each = toset(var.relay_source_cidrs)

  security_group_id = module.transceiver_fleet.security_group_id
  description       = "Media back to relays' per-flow sockets"
  ip_protocol       = "udp"
  from_port         = 32768
  to_port           = 60999
  cidr_ipv4         = each.value
}

resource "aws_vpc_security_group_egress_rule" "to_nats" {
  security_group_id            = module.transceiver_fleet.security_group_id
  description                  = "NATS client connections"
  ip_protocol                  = "tcp"
  from_port                    = 4222
  to_port                      = 4222
  referenced_security_group_id = module.nats.security_group_id
}

resource "aws_vpc_security_group_ingress_rule" "transceiver_metrics" {
  for_each = toset(var.metrics_source_cidrs)

  security_group_id = module.transceiver_fleet.security_group_id
  description       = "Prometheus scrape"
  ip_protocol       = "tcp"
  from_port         = local.transceiver_metrics_port
  to_port           = local.transceiver_metrics_port
  cidr_ipv4         = each.value
}

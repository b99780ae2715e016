# Public media path: client --UDP 3478--> NLB (static EIP per zone) --> relay,
# and for clients whose UDP is blocked, ICE-TCP: --TCP 443--> NLB --> relay 4443.
# UDP target groups always preserve the client IP; the relay instances only
# admit traffic that came through the NLB's security group.

resource "aws_eip" "relay" {
  count = length(var.public_subnet_ids)

  domain = "vpc"
  tags   = merge(local.tags, { Name = "${var.name}-relay-${var.availability_zones[count.index]}" })
}

resource "aws_security_group" "relay_nlb" {
  name_prefix = "${var.name}-relay-nlb-"
  description = "Relay NLB: the one public UDP port"
  vpc_id      = var.vpc_id
  tags        = merge(local.tags, { Name = "${var.name}-relay-nlb" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "relay_nlb_public_udp" {
  security_group_id = aws_security_group.relay_nlb.id
  description       = "WebRTC media and STUN from anywhere: the only public UDP port"
  ip_protocol       = "udp"
  from_port         = 3478
  to_port           = 3478
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_ingress_rule" "relay_nlb_public_tcp" {
  security_group_id = aws_security_group.relay_nlb.id
  description       = "ICE-TCP (RFC 6544) for clients whose UDP is blocked"
  ip_protocol       = "tcp"
  from_port         = local.relay_tcp_public_port
  to_port           = local.relay_tcp_public_port
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_egress_rule" "relay_nlb_to_relay_tcp" {
  security_group_id            = aws_security_group.relay_nlb.id
  description                  = "Forward ICE-TCP to relays"
  ip_protocol                  = "tcp"
  from_port                    = local.relay_tcp_port
  to_port                      = local.relay_tcp_port
  referenced_security_group_id = module.relay_fleet.security_group_id
}

resource "aws_vpc_security_group_egress_rule" "relay_nlb_to_relay" {
  security_group_id            = aws_security_group.relay_nlb.id
  description                  = "Forward media to relays"
  ip_protocol                  = "udp"
  from_port                    = local.relay_port
  to_port                      = local.relay_port
  referenced_security_group_id = module.relay_fleet.security_group_id
}

resource "aws_vpc_security_group_egress_rule" "relay_nlb_health" {
  security_group_id            = aws_security_group.relay_nlb.id
  description                  = "Relay liveness probe"
  ip_protocol                  = "tcp"
  from_port                    = local.relay_metrics_port
  to_port                      = local.relay_metrics_port
  referenced_security_group_id = module.relay_fleet.security_group_id
}

resource "aws_lb" "relay" {
  name                             = "${var.name}-relay"
  load_balancer_type               = "network"
  internal                         = false
  security_groups                  = [aws_security_group.relay_nlb.id]
  enable_cross_zone_load_balancing = true # any zone's EIP keeps working if that zone's relays are gone
  enable_deletion_protection       = var.deletion_protection

  dynamic "subnet_mapping" {
    for_each = var.public_subnet_ids
    content {
      subnet_id     = subnet_mapping.value
      allocation_id = aws_eip.relay[subnet_mapping.key].id
    }
  }

  tags = local.tags
}

resource "aws_lb_target_group" "relay" {
  name                 = "${var.name}-relay"
  port                 = local.relay_port
  protocol             = "UDP"
  target_type          = "instance"
  vpc_id               = var.vpc_id
  deregistration_delay = var.relay_deregistration_delay_seconds

  # NLB cannot probe UDP; the relay's metrics endpoint answers only while the
  # relay process runs, so it doubles as the liveness probe.
  health_check {
    protocol            = "HTTP"
    port                = tostring(local.relay_metrics_port)
    path                = "/metrics"
    matcher             = "200"
    interval            = 10
    healthy_threshold   = 2
    unhealthy_threshold = 2
  }

  tags = local.tags
}

resource "aws_lb_listener" "relay" {
  load_balancer_arn = aws_lb.relay.arn
  port              = local.relay_port
  protocol          = "UDP"

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.relay.arn
  }

  tags = local.tags
}

# Instance targets keep the client's address on TCP too, so the relay's per-IP limits see real clients.
resource "aws_lb_target_group" "relay_tcp" {
  name                 = "${var.name}-relay-tcp"
  port                 = local.relay_tcp_port
  protocol             = "TCP"
  target_type          = "instance"
  vpc_id               = var.vpc_id
  deregistration_delay = var.relay_deregistration_delay_seconds

  health_check {
    protocol            = "HTTP"
    port                = tostring(local.relay_metrics_port)
    path                = "/metrics"
    matcher             = "200"
    interval            = 10
    healthy_threshold   = 2
    unhealthy_threshold = 2
  }

  tags = local.tags
}

resource "aws_lb_listener" "relay_tcp" {
  load_balancer_arn = aws_lb.relay.arn
  port              = local.relay_tcp_public_port
  protocol          = "TCP"

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.relay_tcp.arn
  }

  tags = local.tags
}

resource "aws_vpc_security_group_ingress_rule" "relay_tcp_from_nlb" {
  security_group_id            = module.relay_fleet.security_group_id
  description                  = "Client ICE-TCP via the NLB (client IP preserved)"
  ip_protocol                  = "tcp"
  from_port                    = local.relay_tcp_port
  to_port                      = local.relay_tcp_port
  referenced_security_group_id = aws_security_group.relay_nlb.id
}

resource "aws_vpc_security_group_ingress_rule" "relay_from_nlb" {
  security_group_id            = module.relay_fleet.security_group_id
  description                  = "Client media via the NLB (client IP preserved)"
  ip_protocol                  = "udp"
  from_port                    = local.relay_port
  to_port                      = local.relay_port
  referenced_security_group_id = aws_security_group.relay_nlb.id
}

resource "aws_vpc_security_group_ingress_rule" "relay_health_from_nlb" {
  security_group_id            = module.relay_fleet.security_group_id
  description                  = "Liveness probe from the NLB"
  ip_protocol                  = "tcp"
  from_port                    = local.relay_metrics_port
  to_port                      = local.relay_metrics_port
  referenced_security_group_id = aws_security_group.relay_nlb.id
}

resource "aws_vpc_security_group_ingress_rule" "relay_metrics" {
  for_each = toset(var.metrics_source_cidrs)

  security_group_id = module.relay_fleet.security_group_id
  description       = "Prometheus scrape"
  ip_protocol       = "tcp"
  from_port         = local.relay_metrics_port
  to_port           = local.relay_metrics_port
  cidr_ipv4         = each.value
}

resource "aws_vpc_security_group_egress_rule" "relay_to_transceivers" {
  for_each = toset(var.core_private_cidrs)

  security_group_id = module.relay_fleet.security_group_id
  description       = "Forward media to transceivers' one ICE port in core regions"
  ip_protocol       = "udp"
  from_port         = var.ice_port
  to_port           = var.ice_port
  cidr_ipv4         = each.value
}

resource "aws_vpc_security_group_egress_rule" "relay_to_leaf_nats" {
  count = local.leaf_nats ? 1 : 0

  security_group_id            = module.relay_fleet.security_group_id
  description                  = "NATS client connections to the region's leaf NATS (flow cache)"
  ip_protocol                  = "tcp"
  from_port                    = local.nats_client_port
  to_port                      = local.nats_client_port
  referenced_security_group_id = module.nats[0].security_group_id
}

resource "aws_vpc_security_group_egress_rule" "relay_to_nats" {
  for_each = toset(var.core_private_cidrs)

  security_group_id = module.relay_fleet.security_group_id
  description       = "NATS client connections to core clusters"
  ip_protocol       = "tcp"
  from_port         = local.nats_client_port
  to_port           = local.nats_client_port
  cidr_ipv4         = each.value
}

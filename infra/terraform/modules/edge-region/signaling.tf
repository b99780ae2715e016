# Signaling path: client --HTTPS 443--> ALB (ACM certificate) --HTTP 8080--> edge.

resource "aws_acm_certificate" "signaling" {
  domain_name               = var.signaling_domain_name
  subject_alternative_names = [var.regional_domain_name]
  validation_method         = "DNS"
  tags                      = local.tags

  lifecycle {
    create_before_destroy = true
  }
}

locals {
  validation_options = { for o in aws_acm_certificate.signaling.domain_validation_options : o.domain_name => o }
}

# The validation record of the shared global name is identical in every
# region (same account, same name), hence allow_overwrite; see README.
# Keyed by the configured names (known at plan time), values looked up.
resource "aws_route53_record" "certificate_validation" {
  for_each = toset([var.signaling_domain_name, var.regional_domain_name])

  zone_id         = var.route53_zone_id
  name            = local.validation_options[each.key].resource_record_name
  type            = local.validation_options[each.key].resource_record_type
  records         = [local.validation_options[each.key].resource_record_value]
  ttl             = 300
  allow_overwrite = true
}

resource "aws_acm_certificate_validation" "signaling" {
  certificate_arn         = aws_acm_certificate.signaling.arn
  validation_record_fqdns = [for r in aws_route53_record.certificate_validation : r.fqdn]
}

resource "aws_security_group" "signaling_alb" {
  name_prefix = "${var.name}-sig-alb-"
  description = "Signaling ALB: HTTPS only"
  vpc_id      = var.vpc_id
  tags        = merge(local.tags, { Name = "${var.name}-signaling-alb" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "signaling_alb_https" {
  security_group_id = aws_security_group.signaling_alb.id
  description       = "HTTPS signaling from anywhere (no plain HTTP listener)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_egress_rule" "signaling_alb_to_edge" {
  security_group_id            = aws_security_group.signaling_alb.id
  description                  = "Requests and health checks to signaling instances"
  ip_protocol                  = "tcp"
  from_port                    = local.signaling_port
  to_port                      = local.signaling_port
  referenced_security_group_id = module.signaling_fleet.security_group_id
}

resource "aws_lb" "signaling" {
  name                       = "${var.name}-sig"
  load_balancer_type         = "application"
  internal                   = false
  security_groups            = [aws_security_group.signaling_alb.id]
  subnets                    = var.public_subnet_ids
  drop_invalid_header_fields = true
  enable_deletion_protection = var.deletion_protection

  dynamic "access_logs" {
    for_each = var.alb_access_logs_bucket == null ? [] : [var.alb_access_logs_bucket]
    content {
      bucket  = access_logs.value
      prefix  = var.name
      enabled = true
    }
  }

  tags = local.tags
}

resource "aws_lb_target_group" "signaling" {
  name                 = "${var.name}-sig"
  port                 = local.signaling_port
  protocol             = "HTTP"
  target_type          = "instance"
  vpc_id               = var.vpc_id
  deregistration_delay = 30

  health_check {
    protocol            = "HTTP"
    port                = "traffic-port"
    path                = "/healthz"
    matcher             = "200"
    interval            = 10
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 2
  }

  tags = local.tags
}

resource "aws_lb_listener" "signaling_https" {
  load_balancer_arn = aws_lb.signaling.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = aws_acm_certificate_validation.signaling.certificate_arn

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.signaling.arn
  }

  tags = local.tags
}

resource "aws_vpc_security_group_ingress_rule" "signaling_from_alb" {
  security_group_id            = module.signaling_fleet.security_group_id
  description                  = "HTTP from the ALB"
  ip_protocol                  = "tcp"
  from_port                    = local.signaling_port
  to_port                      = local.signaling_port
  referenced_security_group_id = aws_security_group.signaling_alb.id
}

resource "aws_vpc_security_group_ingress_rule" "signaling_metrics" {
  for_each = toset(var.metrics_source_cidrs)

  security_group_id = module.signaling_fleet.security_group_id
  description       = "Prometheus scrape"
  ip_protocol       = "tcp"
  from_port         = local.signaling_metrics_port
  to_port           = local.signaling_metrics_port
  cidr_ipv4         = each.value
}

resource "aws_vpc_security_group_egress_rule" "signaling_to_leaf_nats" {
  count = local.leaf_nats ? 1 : 0

  security_group_id            = module.signaling_fleet.security_group_id
  description                  = "NATS client connections to the region's leaf NATS"
  ip_protocol                  = "tcp"
  from_port                    = local.nats_client_port
  to_port                      = local.nats_client_port
  referenced_security_group_id = module.nats[0].security_group_id
}

resource "aws_vpc_security_group_egress_rule" "signaling_to_nats" {
  for_each = toset(var.core_private_cidrs)

  security_group_id = module.signaling_fleet.security_group_id
  description       = "NATS client connections to core clusters"
  ip_protocol       = "tcp"
  from_port         = local.nats_client_port
  to_port           = local.nats_client_port
  cidr_ipv4         = each.value
}

# Regional name: lets the global health checks (and operators) reach one
# region directly, with a name the certificate covers.
resource "aws_route53_record" "regional" {
  zone_id = var.route53_zone_id
  name    = var.regional_domain_name
  type    = "A"

  alias {
    name                   = aws_lb.signaling.dns_name
    zone_id                = aws_lb.signaling.zone_id
    evaluate_target_health = true
  }
}

# Steers the shared signaling hostname to the nearest healthy edge. Alias
# records to ALBs have no TTL of their own (Route 53 uses the ALB's 60 s), so
# failover follows the health check within about a minute.

resource "aws_route53_health_check" "edge" {
  for_each = var.edges

  type              = "HTTPS"
  fqdn              = each.value.regional_domain_name
  port              = 443
  resource_path     = var.health_check.path
  request_interval  = var.health_check.request_interval
  failure_threshold = var.health_check.failure_threshold
  enable_sni        = true
  measure_latency   = true

  tags = { Name = "${var.name}-signaling-${each.key}" }
}

resource "aws_route53_record" "signaling" {
  for_each = var.edges

  zone_id         = var.zone_id
  name            = var.signaling_domain_name
  type            = "A"
  set_identifier  = each.key
  health_check_id = aws_route53_health_check.edge[each.key].id

  alias {
    name                   = each.value.alb_dns_name
    zone_id                = each.value.alb_zone_id
    evaluate_target_health = true
  }

  dynamic "latency_routing_policy" {
    for_each = var.routing_policy == "latency" ? [each.value.region] : []
    content {
      region = latency_routing_policy.value
    }
  }

  dynamic "geolocation_routing_policy" {
    for_each = var.routing_policy == "geolocation" ? [each.value.continent] : []
    content {
      continent = geolocation_routing_policy.value
    }
  }
}

# Geolocation answers nothing for unmatched locations unless a default exists.
resource "aws_route53_record" "signaling_default" {
  count = var.routing_policy == "geolocation" ? 1 : 0

  zone_id         = var.zone_id
  name            = var.signaling_domain_name
  type            = "A"
  set_identifier  = "default"
  health_check_id = aws_route53_health_check.edge[var.default_edge].id

  alias {
    name                   = var.edges[var.default_edge].alb_dns_name
    zone_id                = var.edges[var.default_edge].alb_zone_id
    evaluate_target_health = true
  }

  geolocation_routing_policy {
    country = "*"
  }
}

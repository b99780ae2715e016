mock_provider "aws" {}

variables {
  zone_id               = "Z0123456789ABCDEFGHIJ"
  signaling_domain_name = "signaling.example.com"
  edges = {
    us-east-1 = {
      region               = "us-east-1", alb_dns_name = "a.us-east-1.elb.amazonaws.com", alb_zone_id = "Z35SXDOTRQ7X7K"
      regional_domain_name = "us-east-1.signaling.example.com", relay_addresses = ["198.51.100.1:3478", "198.51.100.2:3478"], continent = "NA"
    }
    eu-west-1 = {
      region               = "eu-west-1", alb_dns_name = "b.eu-west-1.elb.amazonaws.com", alb_zone_id = "Z32O12XQLNTSW2"
      regional_domain_name = "eu-west-1.signaling.example.com", relay_addresses = ["198.51.100.3:3478"], continent = "EU"
    }
  }
}

run "latency_records_with_health_checks" {
  command = plan

  assert {
    condition     = length(aws_route53_record.signaling) == 2 && alltrue([for k, r in aws_route53_record.signaling : r.latency_routing_policy[0].region == var.edges[k].region])
    error_message = "One latency record per edge, in the edge's region."
  }

  assert {
    condition     = alltrue([for h in aws_route53_health_check.edge : h.type == "HTTPS" && h.resource_path == "/healthz" && h.port == 443])
    error_message = "Health checks must probe HTTPS /healthz on each regional name."
  }

  assert {
    condition     = alltrue([for r in aws_route53_record.signaling : r.alias[0].evaluate_target_health])
    error_message = "Records must also follow the ALB's own health."
  }

  assert {
    condition     = output.relay_advertise == { us-east-1 = "198.51.100.1:3478", eu-west-1 = "198.51.100.3:3478" }
    error_message = "Each region's advertised relay address must be its first relay address."
  }

  assert {
    condition     = length(aws_route53_record.signaling_default) == 0
    error_message = "No default record with latency routing."
  }
}

run "geolocation_has_default" {
  command = plan

  variables {
    routing_policy = "geolocation"
    default_edge   = "us-east-1"
  }

  assert {
    condition     = aws_route53_record.signaling["eu-west-1"].geolocation_routing_policy[0].continent == "EU" && aws_route53_record.signaling_default[0].geolocation_routing_policy[0].country == "*"
    error_message = "Geolocation routing needs per-continent records plus a catch-all."
  }
}

run "geolocation_requires_default_edge" {
  command = plan

  variables {
    routing_policy = "geolocation"
  }

  expect_failures = [var.default_edge]
}

run "rejects_relay_on_other_port" {
  command = plan

  variables {
    edges = {
      us-east-1 = {
        region = "us-east-1", alb_dns_name = "a", alb_zone_id = "Z", regional_domain_name = "r", relay_addresses = ["198.51.100.1:5000"]
      }
    }
  }

  expect_failures = [var.edges]
}

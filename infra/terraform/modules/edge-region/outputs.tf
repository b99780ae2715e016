output "relay_addresses" {
  description = "Public relay addresses (EIP:3478), one per availability zone."
  value       = [for eip in aws_eip.relay : "${eip.public_ip}:${local.relay_port}"]
}

output "relay_advertise_by_az" {
  description = "PARLEY_RELAY_ADVERTISE handed to signaling instances, by availability zone."
  value       = local.relay_address_by_az
}

output "relay_advertise" {
  description = "This region's primary advertised relay address (first zone), for clients or tools that need a single value."
  value       = local.relay_address_by_az[var.availability_zones[0]]
}

output "relay_nlb_arn" {
  description = "ARN of the relay Network Load Balancer."
  value       = aws_lb.relay.arn
}

output "relay_nlb_dns_name" {
  description = "DNS name of the relay NLB (resolves to the relay EIPs)."
  value       = aws_lb.relay.dns_name
}

output "signaling_alb_dns_name" {
  description = "DNS name of the signaling ALB (alias target for the global record)."
  value       = aws_lb.signaling.dns_name
}

output "signaling_alb_zone_id" {
  description = "Hosted zone ID of the signaling ALB (for alias records)."
  value       = aws_lb.signaling.zone_id
}

output "regional_domain_name" {
  description = "This region's signaling hostname."
  value       = var.regional_domain_name
}

output "certificate_arn" {
  description = "Validated ACM certificate on the HTTPS listener."
  value       = aws_acm_certificate_validation.signaling.certificate_arn
}

output "relay_security_group_id" {
  description = "Security group of relay instances."
  value       = module.relay_fleet.security_group_id
}

output "relay_nlb_security_group_id" {
  description = "Public security group of the relay NLB (UDP 3478 only)."
  value       = aws_security_group.relay_nlb.id
}

output "signaling_security_group_id" {
  description = "Security group of signaling instances."
  value       = module.signaling_fleet.security_group_id
}

output "signaling_alb_security_group_id" {
  description = "Public security group of the signaling ALB (TCP 443 only)."
  value       = aws_security_group.signaling_alb.id
}

output "relay_autoscaling_group_name" {
  description = "Relay Auto Scaling group."
  value       = module.relay_fleet.autoscaling_group_name
}

output "signaling_autoscaling_group_name" {
  description = "Signaling Auto Scaling group."
  value       = module.signaling_fleet.autoscaling_group_name
}

output "nats_client_urls" {
  description = "NATS_URL entries the region's relays and signaling use: the leaf NATS when nats_subnets is set, else the core cluster's."
  value       = local.leaf_nats ? module.nats[0].client_urls : var.nats_urls
}

output "nats_leaf_rendered_config" {
  description = "Rendered nats-server config of each leaf NATS node (empty without nats_subnets; no secrets)."
  value       = local.leaf_nats ? module.nats[0].rendered_config : []
}

output "relay_environment" {
  description = "Environment of every relay instance (no secrets), e.g. its flow cache settings."
  value       = local.relay_environment
}

output "flow_cache_bucket" {
  description = "PARLEY_RELAY_FLOW_CACHE_BUCKET of this region's relays (null without a leaf NATS)."
  value       = local.leaf_nats ? local.flow_cache_bucket : null
}

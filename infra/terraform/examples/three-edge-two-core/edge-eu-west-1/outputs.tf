# The global root and operators read these from this root's state.

output "relay_addresses" {
  description = "Public relay addresses of this region (EIP:3478, one per zone)."
  value       = module.stack.relay_addresses
}

output "relay_advertise" {
  description = "This region's primary advertised relay address."
  value       = module.stack.relay_advertise
}

output "signaling_alb_dns_name" {
  description = "Signaling ALB DNS name (global alias target)."
  value       = module.stack.signaling_alb_dns_name
}

output "signaling_alb_zone_id" {
  description = "Signaling ALB hosted zone ID."
  value       = module.stack.signaling_alb_zone_id
}

output "regional_domain_name" {
  description = "This region's signaling hostname (global health check target)."
  value       = module.stack.regional_domain_name
}

output "vpc_id" {
  description = "VPC of this edge region."
  value       = module.stack.vpc_id
}

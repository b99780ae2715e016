output "signaling_fqdn" {
  description = "Hostname clients use for signaling."
  value       = var.signaling_domain_name
}

output "health_check_ids" {
  description = "Route 53 health check ID per edge."
  value       = { for k, h in aws_route53_health_check.edge : k => h.id }
}

output "relay_advertise" {
  description = "Each edge region's advertised relay address (ip:3478; first zone), i.e. its PARLEY_RELAY_ADVERTISE default."
  value       = { for k, e in var.edges : k => e.relay_addresses[0] }
}

output "relay_addresses" {
  description = "All public relay addresses per edge region (one per zone), for allow-lists and client diagnostics."
  value       = { for k, e in var.edges : k => e.relay_addresses }
}

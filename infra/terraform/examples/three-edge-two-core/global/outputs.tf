output "signaling_fqdn" {
  description = "Hostname clients use for signaling."
  value       = module.global.signaling_fqdn
}

output "relay_advertise" {
  description = "Advertised relay address (ip:3478) per edge region: the PARLEY_RELAY_ADVERTISE value for edges configured outside Terraform (e.g. the Kubernetes overlay)."
  value       = module.global.relay_advertise
}

output "relay_addresses" {
  description = "All public relay addresses per edge region."
  value       = module.global.relay_addresses
}

output "health_check_ids" {
  description = "Route 53 health check per edge region (alarm on these)."
  value       = module.global.health_check_ids
}

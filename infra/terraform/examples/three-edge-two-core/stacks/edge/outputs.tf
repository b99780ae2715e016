output "relay_addresses" {
  description = "Public relay addresses of this region (EIP:3478, one per zone)."
  value       = module.edge.relay_addresses
}

output "relay_advertise" {
  description = "This region's primary advertised relay address."
  value       = module.edge.relay_advertise
}

output "signaling_alb_dns_name" {
  description = "Signaling ALB DNS name (global alias target)."
  value       = module.edge.signaling_alb_dns_name
}

output "signaling_alb_zone_id" {
  description = "Signaling ALB hosted zone ID."
  value       = module.edge.signaling_alb_zone_id
}

output "regional_domain_name" {
  description = "This region's signaling hostname (global health check target)."
  value       = module.edge.regional_domain_name
}

output "vpc_id" {
  description = "VPC of this edge region."
  value       = module.network.vpc_id
}

output "peerings" {
  description = "Per core region, the inputs of the vpc-peering-accepter the root runs with that region's provider."
  value = {
    for region, p in module.peer : region => {
      name                  = "parley-${var.region}-to-${region}"
      peering_connection_id = p.peering_connection_id
      route_table_ids       = data.terraform_remote_state.core[region].outputs.private_route_table_ids
      requester_cidr_block  = local.me.cidr
    }
  }
}

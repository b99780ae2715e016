output "vpc_id" {
  description = "VPC of this core region (edge roots peer with it)."
  value       = module.network.vpc_id
}

output "vpc_cidr_block" {
  description = "CIDR of this core region's VPC."
  value       = module.network.vpc_cidr_block
}

output "private_route_table_ids" {
  description = "Private route tables (peering accepters add routes back to edges here)."
  value       = module.network.private_route_table_ids
}

output "cluster_name" {
  description = "PARLEY_CLUSTER of this core."
  value       = module.core.cluster_name
}

output "nats_client_urls" {
  description = "NATS_URL entries for edges that use this core."
  value       = module.core.nats_client_urls
}

output "nats_gateway_urls" {
  description = "Gateway URLs for later core regions."
  value       = module.core.nats_gateway_urls
}

output "nats_leafnode_urls" {
  description = "Leaf-node URLs for edges running a local leaf NATS (Kubernetes overlay)."
  value       = module.core.nats_leafnode_urls
}

output "transceiver_autoscaling_group_name" {
  description = "Transceiver Auto Scaling group."
  value       = module.core.transceiver_autoscaling_group_name
}

output "peerings" {
  description = "Per earlier core region, the inputs of the vpc-peering-accepter the root runs with that region's provider."
  value = {
    for region, p in module.peer : region => {
      name                  = "parley-${var.region}-to-${region}"
      peering_connection_id = p.peering_connection_id
      route_table_ids       = data.terraform_remote_state.core[region].outputs.private_route_table_ids
      requester_cidr_block  = local.me.cidr
    }
  }
}

# Edge roots and later core roots read these from this root's state.

output "vpc_id" {
  description = "VPC of this core region (edge roots peer with it)."
  value       = module.stack.vpc_id
}

output "vpc_cidr_block" {
  description = "CIDR of this core region's VPC."
  value       = module.stack.vpc_cidr_block
}

output "private_route_table_ids" {
  description = "Private route tables (peering accepters add routes back to edges here)."
  value       = module.stack.private_route_table_ids
}

output "cluster_name" {
  description = "PARLEY_CLUSTER of this core."
  value       = module.stack.cluster_name
}

output "nats_client_urls" {
  description = "NATS_URL entries for edges that use this core."
  value       = module.stack.nats_client_urls
}

output "nats_gateway_urls" {
  description = "Gateway URLs for later core regions."
  value       = module.stack.nats_gateway_urls
}

output "nats_leafnode_urls" {
  description = "Leaf-node URLs for edges running a local leaf NATS (Kubernetes overlay)."
  value       = module.stack.nats_leafnode_urls
}

output "transceiver_autoscaling_group_name" {
  description = "Transceiver Auto Scaling group."
  value       = module.stack.transceiver_autoscaling_group_name
}

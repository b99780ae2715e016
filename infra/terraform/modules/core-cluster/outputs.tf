output "cluster_name" {
  description = "PARLEY_CLUSTER of this core; edge regions using it set the same value."
  value       = var.cluster_name
}

output "nats_client_urls" {
  description = "NATS_URL entries for edge regions that use this core."
  value       = module.nats.client_urls
}

output "nats_gateway_urls" {
  description = "Gateway URLs for other core regions' gateway_peers."
  value       = module.nats.gateway_urls
}

output "nats_leafnode_urls" {
  description = "Leaf-node URLs for edge regions that run a local leaf NATS (e.g. Kubernetes edges)."
  value       = module.nats.leafnode_urls
}

output "nats_security_group_id" {
  description = "Security group of the NATS nodes."
  value       = module.nats.security_group_id
}

output "transceiver_security_group_id" {
  description = "Security group of the transceivers."
  value       = module.transceiver_fleet.security_group_id
}

output "transceiver_autoscaling_group_name" {
  description = "Transceiver Auto Scaling group."
  value       = module.transceiver_fleet.autoscaling_group_name
}

output "transceiver_iam_policy_json" {
  description = "Inline policy of the transceiver instance role (review aid)."
  value       = module.transceiver_fleet.iam_policy_json
}

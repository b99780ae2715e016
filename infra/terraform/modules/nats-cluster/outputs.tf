output "node_ips" {
  description = "Fixed private IPs of the NATS nodes."
  value       = local.node_ips
}

output "client_urls" {
  description = "Client URLs (NATS_URL entries) of this cluster."
  value       = [for ip in local.node_ips : "nats://${ip}:${local.ports.client}"]
}

output "gateway_urls" {
  description = "Gateway URLs other core clusters list in their gateway_peers."
  value       = [for ip in local.node_ips : "nats://${ip}:${local.ports.gateway}"]
}

output "leafnode_urls" {
  description = "Leaf-node URLs for edge regions that run a local leaf NATS."
  value       = [for ip in local.node_ips : "nats-leaf://${ip}:${local.ports.leafnode}"]
}

output "security_group_id" {
  description = "Security group of the NATS nodes."
  value       = aws_security_group.this.id
}

output "cluster_name" {
  description = "NATS cluster / gateway name."
  value       = var.cluster_name
}

output "rendered_config" {
  description = "Rendered nats-server config of each node (no secrets)."
  value       = local.nats_config
}

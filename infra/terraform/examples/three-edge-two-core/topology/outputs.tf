output "account_id" {
  description = "AWS account every root must run in (providers refuse any other)."
  value       = local.account_id
}

output "primary_region" {
  description = "Region of the ECR repositories and the primary copy of each secret."
  value       = local.primary_region
}

output "hosted_zone_name" {
  description = "Public Route 53 zone of the signaling names."
  value       = local.hosted_zone_name
}

output "signaling_domain_name" {
  description = "Global signaling hostname."
  value       = local.signaling_domain_name
}

output "state" {
  description = "S3 bucket/region/prefix of the Terraform state (for terraform_remote_state)."
  value       = local.state
}

output "images" {
  description = "Image repository URL per process (tag appended by the roots)."
  value       = { for k, repo in local.repositories : k => "${local.account_id}.dkr.ecr.${local.primary_region}.amazonaws.com/${repo}" }
}

output "repository_arns" {
  description = "ECR repository ARN per process (instances may pull only these)."
  value       = { for k, repo in local.repositories : k => "arn:aws:ecr:${local.primary_region}:${local.account_id}:repository/${repo}" }
}

output "repository_names" {
  description = "ECR repository name per process."
  value       = local.repositories
}

output "secret_names" {
  description = "Secrets Manager names (replicated to every region; values are set out of band)."
  value       = local.secret_names
}

output "cores" {
  description = "Core regions: CIDR, zones, cluster name."
  value       = local.cores
}

output "edges" {
  description = "Edge regions: CIDR, zones, nearest core, continent."
  value       = local.edges
}

output "subnets" {
  description = "Subnet plan per region: public list and private tiers (edges: relay, app; cores: app)."
  value       = local.subnets
}

output "ice_port" {
  description = "Transceivers' one ICE UDP port (PARLEY_ICE_PORT): relays send to it, cores admit it."
  value       = local.ice_port
}

output "relay_cidrs" {
  description = "Every edge's relay-tier CIDRs: the only sources admitted to transceivers' ICE port."
  value       = flatten([for region, _ in local.edges : local.subnets[region].private.relay])
}

output "edge_private_cidrs" {
  description = "Every edge's private CIDRs (relay and app tiers): NATS clients."
  value       = flatten([for region, _ in local.edges : concat(local.subnets[region].private.relay, local.subnets[region].private.app)])
}

output "core_private_cidrs" {
  description = "Every core's private CIDRs: where relays send media and edges reach NATS."
  value       = flatten([for region, _ in local.cores : local.subnets[region].private.app])
}

output "all_regions" {
  description = "Every region of the deployment (secret replicas go to each)."
  value       = sort(concat(keys(local.edges), keys(local.cores)))
}

output "rtt_ms" {
  description = "Round-trip time in ms between any two regions (regions.json, published inter-region measurements); edges' fallback RTT to each core."
  value       = local.rtt_ms
}

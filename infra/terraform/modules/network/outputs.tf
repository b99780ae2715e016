output "vpc_id" {
  description = "ID of the VPC."
  value       = aws_vpc.this.id
}

output "vpc_cidr_block" {
  description = "IPv4 CIDR of the VPC."
  value       = aws_vpc.this.cidr_block
}

output "availability_zones" {
  description = "Availability zones used, in subnet order."
  value       = var.availability_zones
}

output "public_subnet_ids" {
  description = "Public subnet IDs, one per availability zone."
  value       = aws_subnet.public[*].id
}

output "private_subnet_ids" {
  description = "Private subnet IDs by tier: tier => list (availability zone order)."
  value       = { for tier, cidrs in var.private_subnet_cidrs : tier => [for i in range(length(cidrs)) : aws_subnet.private["${tier}-${i}"].id] }
}

output "private_subnet_cidrs" {
  description = "Private subnet CIDRs by tier: tier => list (availability zone order)."
  value       = var.private_subnet_cidrs
}

output "private_route_table_ids" {
  description = "Private route table IDs, one per availability zone (peering routes go here)."
  value       = aws_route_table.private[*].id
}

output "nat_public_ips" {
  description = "Public IPs of the NAT gateways (egress addresses of private instances)."
  value       = aws_eip.nat[*].public_ip
}

output "peering_connection_id" {
  description = "ID of the requested peering connection; pass it to vpc-peering-accepter."
  value       = aws_vpc_peering_connection.this.id
}

output "cidr_block" {
  description = "Requesting VPC CIDR (the accepter routes it back)."
  value       = var.cidr_block
}

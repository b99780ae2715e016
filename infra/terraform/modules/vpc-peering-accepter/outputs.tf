output "peering_connection_id" {
  description = "ID of the accepted peering connection."
  value       = aws_vpc_peering_connection_accepter.this.id
}

output "accept_status" {
  description = "Status after acceptance (active when both sides are in place)."
  value       = aws_vpc_peering_connection_accepter.this.accept_status
}

mock_provider "aws" {}

variables {
  name                  = "parley-eu-west-1-to-us-east-2"
  peering_connection_id = "pcx-0123456789abcdef0"
  route_table_ids       = ["rtb-c1", "rtb-c2"]
  requester_cidr_block  = "10.11.0.0/16"
}

run "accepts_and_routes_back" {
  command = plan

  assert {
    condition     = aws_vpc_peering_connection_accepter.this.auto_accept && aws_vpc_peering_connection_accepter.this.vpc_peering_connection_id == "pcx-0123456789abcdef0"
    error_message = "The accepter must accept the requested connection."
  }

  assert {
    condition     = length(aws_route.to_requester) == 2 && alltrue([for r in aws_route.to_requester : r.destination_cidr_block == "10.11.0.0/16"])
    error_message = "Every private route table needs a route back to the requester."
  }
}

run "rejects_default_route" {
  command = plan

  variables {
    requester_cidr_block = "0.0.0.0/0"
  }

  expect_failures = [var.requester_cidr_block]
}

mock_provider "aws" {}

variables {
  name            = "parley-eu-west-1-to-us-east-2"
  vpc_id          = "vpc-edge"
  cidr_block      = "10.11.0.0/16"
  route_table_ids = ["rtb-e1", "rtb-e2", "rtb-e3"]
  peer            = { vpc_id = "vpc-core", region = "us-east-2", cidr_block = "10.20.0.0/16" }
}

run "routes_every_private_table_to_peer" {
  command = plan

  assert {
    condition     = length(aws_route.to_peer) == 3 && alltrue([for r in aws_route.to_peer : r.destination_cidr_block == "10.20.0.0/16"])
    error_message = "Every private route table needs a route to the peer CIDR."
  }

  assert {
    condition     = aws_vpc_peering_connection.this.peer_region == "us-east-2" && aws_vpc_peering_connection.this.peer_vpc_id == "vpc-core"
    error_message = "The request must target the peer VPC in its region."
  }
}

run "rejects_overlapping_cidrs" {
  command = plan

  variables {
    peer = { vpc_id = "vpc-core", region = "us-east-2", cidr_block = "10.11.128.0/17" }
  }

  expect_failures = [var.peer]
}

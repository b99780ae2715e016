mock_provider "aws" {
  mock_data "aws_region" {
    defaults = { name = "eu-west-1" }
  }
}

variables {
  name               = "parley-test"
  cidr_block         = "10.11.0.0/16"
  availability_zones = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
  public_subnet_cidrs = [
    "10.11.0.0/20", "10.11.16.0/20", "10.11.32.0/20",
  ]
  private_subnet_cidrs = {
    relay = ["10.11.64.0/20", "10.11.80.0/20", "10.11.96.0/20"]
    app   = ["10.11.128.0/20", "10.11.144.0/20", "10.11.160.0/20"]
  }
}

run "subnets_per_zone_and_tier" {
  command = plan

  assert {
    condition     = length(aws_subnet.public) == 3 && length(aws_subnet.private) == 6
    error_message = "Expected one public subnet per zone and one private subnet per zone and tier."
  }

  assert {
    condition     = alltrue([for s in aws_subnet.private : s.map_public_ip_on_launch == false]) && alltrue([for s in aws_subnet.public : s.map_public_ip_on_launch == false])
    error_message = "No subnet may hand out public IPs automatically."
  }

  assert {
    condition     = length(aws_nat_gateway.this) == 3 && length(aws_route_table.private) == 3
    error_message = "Default is one NAT gateway and private route table per zone."
  }

  assert {
    condition     = toset([for s in aws_subnet.private : s.availability_zone if s.tags["parley:tier"] == "relay"]) == toset(var.availability_zones)
    error_message = "The relay tier must span every availability zone."
  }

  assert {
    condition     = output.private_subnet_cidrs["relay"] == var.private_subnet_cidrs["relay"]
    error_message = "Tier CIDRs must be exported unchanged (peers allow them by CIDR)."
  }

  assert {
    condition     = aws_flow_log.this[0].traffic_type == "REJECT"
    error_message = "Flow logs should capture rejected traffic."
  }
}

run "single_nat_gateway" {
  command = plan

  variables {
    single_nat_gateway = true
  }

  assert {
    condition     = length(aws_nat_gateway.this) == 1 && length(aws_route.private_nat) == 3
    error_message = "single_nat_gateway must create one NAT shared by every zone's route table."
  }
}

run "rejects_single_zone" {
  command = plan

  variables {
    availability_zones   = ["eu-west-1a"]
    public_subnet_cidrs  = ["10.11.0.0/20"]
    private_subnet_cidrs = { app = ["10.11.128.0/20"] }
  }

  expect_failures = [var.availability_zones]
}

# Each invalid input below must be rejected by its own validation.
run "rejects_invalid_inputs" {
  command = plan

  variables {
    cidr_block           = "8.8.0.0/16"
    private_subnet_cidrs = { relay = ["10.11.64.0/20"] }
  }

  expect_failures = [var.cidr_block, var.private_subnet_cidrs]
}

variable "name" {
  type        = string
  description = "Name prefix for every resource (e.g. parley-eu-west-1)."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name))
    error_message = "name must be 2-31 lowercase letters, digits or dashes, starting with a letter."
  }
}

variable "cidr_block" {
  type        = string
  description = "VPC IPv4 CIDR. Must be private (RFC 1918) and must not overlap any other Parley region, because edge and core VPCs are peered."

  validation {
    # RFC 1918 membership: truncate the VPC network to each private prefix length and compare.
    condition = try(anytrue([
      for p in ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"] :
      tonumber(split("/", var.cidr_block)[1]) >= tonumber(split("/", p)[1]) &&
      cidrsubnet("${cidrhost(var.cidr_block, 0)}/${split("/", p)[1]}", 0, 0) == p
    ]), false)
    error_message = "cidr_block must be a valid RFC 1918 CIDR (inside 10/8, 172.16/12 or 192.168/16)."
  }
}

variable "availability_zones" {
  type        = list(string)
  description = "Availability zones to spread subnets over (2 to 4). Explicit rather than looked up so plans are deterministic."

  validation {
    condition     = length(var.availability_zones) >= 2 && length(var.availability_zones) <= 4 && length(distinct(var.availability_zones)) == length(var.availability_zones)
    error_message = "availability_zones must list 2 to 4 distinct zones."
  }
}

variable "public_subnet_cidrs" {
  type        = list(string)
  description = "One public subnet CIDR per availability zone, same order. Public subnets hold only load balancers and NAT gateways."

  validation {
    # Cross-variable validation needs Terraform 1.9+.
    condition     = length(var.public_subnet_cidrs) == length(var.availability_zones) && alltrue([for c in var.public_subnet_cidrs : can(cidrnetmask(c))])
    error_message = "public_subnet_cidrs needs exactly one valid IPv4 CIDR per availability zone."
  }
}

variable "private_subnet_cidrs" {
  type        = map(list(string))
  description = "Private subnet tiers: tier name => one CIDR per availability zone. Separate tiers (e.g. relay, app) let peers allow exactly one fleet by CIDR."

  validation {
    condition = length(var.private_subnet_cidrs) >= 1 && alltrue([
      for tier, cidrs in var.private_subnet_cidrs :
      can(regex("^[a-z][a-z0-9]{0,15}$", tier)) && length(cidrs) == length(var.availability_zones) && alltrue([for c in cidrs : can(cidrnetmask(c))])
    ])
    error_message = "private_subnet_cidrs needs at least one tier; tier names are short lowercase words, each with one valid IPv4 CIDR per availability zone."
  }
}

variable "single_nat_gateway" {
  type        = bool
  description = "Use one NAT gateway for all zones (cheaper, but egress fails with that zone). Default is one per zone."
  default     = false
}

variable "flow_log_retention_days" {
  type        = number
  description = "Retention of VPC flow logs (rejected traffic only) in CloudWatch Logs. 0 disables flow logs."
  default     = 30

  validation {
    condition     = contains([0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.flow_log_retention_days)
    error_message = "flow_log_retention_days must be 0 or a retention period CloudWatch Logs accepts."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}

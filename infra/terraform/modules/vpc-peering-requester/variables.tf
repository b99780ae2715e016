variable "name" {
  type        = string
  description = "Name tag of the peering connection (e.g. parley-eu-west-1-to-us-east-2)."
}

variable "vpc_id" {
  type        = string
  description = "Requesting VPC (in this provider's region)."
}

variable "cidr_block" {
  type        = string
  description = "CIDR of the requesting VPC (checked against the peer's for overlap)."
}

variable "route_table_ids" {
  type        = list(string)
  description = "Private route tables of the requesting VPC that get a route to the peer."
}

variable "peer" {
  type = object({
    vpc_id     = string
    region     = string
    cidr_block = string
  })
  description = "VPC to peer with (same account; its side is accepted by the vpc-peering-accepter module)."

  validation {
    # Two CIDRs overlap iff they agree on the shorter prefix.
    condition = try(
      cidrsubnet("${cidrhost(var.peer.cidr_block, 0)}/${min(tonumber(split("/", var.peer.cidr_block)[1]), tonumber(split("/", var.cidr_block)[1]))}", 0, 0) !=
      cidrsubnet("${cidrhost(var.cidr_block, 0)}/${min(tonumber(split("/", var.peer.cidr_block)[1]), tonumber(split("/", var.cidr_block)[1]))}", 0, 0),
    false)
    error_message = "Peered VPC CIDRs must not overlap."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}

variable "name" {
  type        = string
  description = "Name tag on the accepted peering connection."
}

variable "peering_connection_id" {
  type        = string
  description = "Peering connection requested by vpc-peering-requester (same account)."

  validation {
    condition     = can(regex("^pcx-[0-9a-f]+$", var.peering_connection_id))
    error_message = "peering_connection_id must look like pcx-0123abcd."
  }
}

variable "route_table_ids" {
  type        = list(string)
  description = "Private route tables of the accepting VPC that get a route back to the requester."
}

variable "requester_cidr_block" {
  type        = string
  description = "CIDR of the requesting VPC."

  validation {
    condition     = can(cidrnetmask(var.requester_cidr_block)) && !startswith(var.requester_cidr_block, "0.0.0.0/")
    error_message = "requester_cidr_block must be a specific IPv4 CIDR, never a default route."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}

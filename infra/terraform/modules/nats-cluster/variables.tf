variable "name" {
  type        = string
  description = "Name prefix for resources (e.g. parley-us-east-2-nats)."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,38}$", var.name))
    error_message = "name must be 2-39 lowercase letters, digits or dashes."
  }
}

variable "cluster_name" {
  type        = string
  description = "NATS cluster and gateway name; must be unique across core regions (e.g. core-us-east-2)."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{0,62}$", var.cluster_name))
    error_message = "cluster_name must be lowercase letters, digits and dashes."
  }
}

variable "vpc_id" {
  type        = string
  description = "VPC of the core region."
}

variable "subnets" {
  type = list(object({
    id         = string
    cidr_block = string
  }))
  description = "Private subnets for the nodes, one node per entry (3 or 5, in different zones). Each node gets the fixed address host_number of its subnet, so routes and gateway URLs are stable."

  validation {
    condition     = contains([3, 5], length(var.subnets)) && alltrue([for s in var.subnets : can(cidrnetmask(s.cidr_block))])
    error_message = "subnets must hold 3 or 5 entries (a quorum-friendly cluster) with valid CIDRs."
  }
}

variable "host_number" {
  type        = number
  description = "Host number of each node's fixed private IP within its subnet (cidrhost)."
  default     = 10

  validation {
    condition     = var.host_number >= 4 && var.host_number <= 250
    error_message = "host_number must be between 4 and 250 (AWS reserves the first four addresses)."
  }
}

variable "instance_type" {
  type        = string
  description = "Instance type of the NATS nodes."
  default     = "m7g.medium"
}

variable "architecture" {
  type        = string
  description = "arm64 or x86_64; must match instance_type."
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be arm64 or x86_64."
  }
}

variable "ami_id" {
  type        = string
  description = "AMI override. Null uses the latest Amazon Linux 2023 (read once: later AMI releases do not replace nodes)."
  default     = null
}

variable "nats_image" {
  type        = string
  description = "Official NATS server image, pinned (pin a digest in production)."
  default     = "public.ecr.aws/docker/library/nats:2.11.4-alpine"
  nullable    = false # callers pass null to mean "the default"

  validation {
    condition     = can(regex("^[a-z0-9.-]+(:[0-9]+)?/[a-z0-9._/-]+(:[A-Za-z0-9._-]+|@sha256:[a-f0-9]{64})$", var.nats_image))
    error_message = "nats_image must be a fully qualified, tagged or digest-pinned reference."
  }
}

variable "client_security_groups" {
  type        = map(string)
  description = "Same-VPC security groups allowed to the client port 4222: static label => security group ID (e.g. { transceivers = sg-... })."
  default     = {}
}

variable "client_cidrs" {
  type        = list(string)
  description = "Peered private CIDRs allowed to the client port 4222 (edge regions' relay and signaling subnets)."
  default     = []

  validation {
    condition = alltrue([
      for c in var.client_cidrs : try(anytrue([
        for p in ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"] :
        tonumber(split("/", c)[1]) >= tonumber(split("/", p)[1]) && cidrsubnet("${cidrhost(c, 0)}/${split("/", p)[1]}", 0, 0) == p
      ]), false)
    ])
    error_message = "client_cidrs must be RFC 1918 CIDRs: NATS is never public."
  }
}

variable "leafnode_cidrs" {
  type        = list(string)
  description = "Peered private CIDRs allowed to the leaf-node port 7422 (edge regions running a local leaf NATS)."
  default     = []

  validation {
    condition = alltrue([
      for c in var.leafnode_cidrs : try(anytrue([
        for p in ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"] :
        tonumber(split("/", c)[1]) >= tonumber(split("/", p)[1]) && cidrsubnet("${cidrhost(c, 0)}/${split("/", p)[1]}", 0, 0) == p
      ]), false)
    ])
    error_message = "leafnode_cidrs must be RFC 1918 CIDRs."
  }
}

variable "gateway_peers" {
  type        = map(list(string))
  description = "Other core clusters this cluster dials as NATS gateways: cluster name => gateway URLs. One side listing the other is enough; NATS gossips the reverse connection."
  default     = {}

  validation {
    condition = alltrue([
      for n, urls in var.gateway_peers : can(regex("^[a-z0-9][a-z0-9-]{0,62}$", n)) && length(urls) >= 1 && alltrue([for u in urls : can(regex("^nats://[0-9.]+:7222$", u))])
    ])
    error_message = "gateway_peers: keys are cluster names, values non-empty lists of nats://<ip>:7222."
  }
}

variable "gateway_cidrs" {
  type        = list(string)
  description = "VPC CIDRs of every other core region, admitted to and reachable on the gateway port 7222 (both directions: peers also dial back)."
  default     = []

  validation {
    condition = alltrue([
      for c in var.gateway_cidrs : try(anytrue([
        for p in ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"] :
        tonumber(split("/", c)[1]) >= tonumber(split("/", p)[1]) && cidrsubnet("${cidrhost(c, 0)}/${split("/", p)[1]}", 0, 0) == p
      ]), false)
    ])
    error_message = "gateway_cidrs must be RFC 1918 CIDRs."
  }
}

variable "leaf_remote_urls" {
  type        = list(string)
  description = "Edge leaf mode: the nearest core cluster's leaf-node URLs (its nats_leafnode_urls output). Non-empty makes this cluster an edge region's leaf: it dials these instead of listening for leaf nodes, and has no gateway. Announcements, offers and replies cross the link; JetStream (if set) stays in this region."
  default     = []

  validation {
    condition     = alltrue([for u in var.leaf_remote_urls : can(regex("^nats-leaf://[0-9.]+:7422$", u))])
    error_message = "leaf_remote_urls must be nats-leaf://<ip>:7422 URLs."
  }
}

variable "leaf_remote_cidrs" {
  type        = list(string)
  description = "Edge leaf mode: private CIDRs of the core regions whose leaf-node port 7422 this cluster dials (over VPC peering)."
  default     = []

  validation {
    condition = alltrue([
      for c in var.leaf_remote_cidrs : try(anytrue([
        for p in ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"] :
        tonumber(split("/", c)[1]) >= tonumber(split("/", p)[1]) && cidrsubnet("${cidrhost(c, 0)}/${split("/", p)[1]}", 0, 0) == p
      ]), false)
    ])
    error_message = "leaf_remote_cidrs must be RFC 1918 CIDRs."
  }
}

variable "jetstream" {
  type = object({
    domain         = string
    max_memory_mib = number
  })
  description = "JetStream for an edge region's leaf (the relays' shared flow cache, a KV bucket per region): soft state, so its store is a tmpfs of max_memory_mib on each node, in its own domain (edge-<region>) so the bucket stays in this region. Null: no JetStream (core clusters: Parley uses core NATS only)."
  default     = null

  validation {
    condition     = var.jetstream == null || try(can(regex("^[A-Za-z0-9_-]{1,64}$", var.jetstream.domain)) && var.jetstream.max_memory_mib >= 64 && var.jetstream.max_memory_mib <= 65536, false)
    error_message = "jetstream.domain must be letters, digits, _ or - (no dots); max_memory_mib 64 to 65536."
  }
}

variable "metrics_source_cidrs" {
  type        = list(string)
  description = "Private CIDRs allowed to the monitoring port 8222 (Prometheus exporter / scrapers)."
  default     = []

  validation {
    condition = alltrue([
      for c in var.metrics_source_cidrs : try(anytrue([
        for p in ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"] :
        tonumber(split("/", c)[1]) >= tonumber(split("/", p)[1]) && cidrsubnet("${cidrhost(c, 0)}/${split("/", p)[1]}", 0, 0) == p
      ]), false)
    ])
    error_message = "metrics_source_cidrs must be RFC 1918 CIDRs."
  }
}

variable "ebs_kms_key_arn" {
  type        = string
  description = "KMS key for root volumes. Null uses the account's default EBS key."
  default     = null
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}

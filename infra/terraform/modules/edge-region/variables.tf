variable "name" {
  type        = string
  description = "Name prefix, e.g. parley-eu-west-1. At most 21 characters so load balancer and target group names fit AWS's 32-character limit."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}$", var.name))
    error_message = "name must be 2-21 lowercase letters, digits or dashes, starting with a letter."
  }
}

variable "cluster_name" {
  type        = string
  description = "PARLEY_CLUSTER: the core cluster this region's signaling places sessions in, normally the nearest core region's. /healthz fails when that cluster has no transceivers, which takes the region out of DNS."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{0,62}$", var.cluster_name))
    error_message = "cluster_name must be lowercase letters, digits and dashes."
  }
}

variable "clusters" {
  type        = list(object({ name = string, rtt_ms = number }))
  default     = []
  description = "PARLEY_CLUSTERS: every core cluster this region's signaling may place sessions in, with the RTT from this region (ms) as the fallback for the one it measures over NATS. Sessions go to the nearest healthy cluster with room, then the next; /healthz then fails only when none of them has transceivers. Empty: cluster_name alone."
}

variable "vpc_id" {
  type        = string
  description = "VPC of this edge region."
}

variable "availability_zones" {
  type        = list(string)
  description = "Availability zones of public_subnet_ids, same order; used to hand each signaling instance its zone-local relay address."
}

variable "public_subnet_ids" {
  type        = list(string)
  description = "Public subnets (one per zone) for the relay NLB (one Elastic IP each) and the signaling ALB."

  validation {
    condition     = length(var.public_subnet_ids) == length(var.availability_zones) && length(var.public_subnet_ids) >= 2
    error_message = "public_subnet_ids needs one subnet per availability zone, at least two."
  }
}

variable "relay_subnet_ids" {
  type        = list(string)
  description = "Private subnets for relay instances. Give relays their own tier so core regions can admit exactly these CIDRs to the ICE port."
}

variable "signaling_subnet_ids" {
  type        = list(string)
  description = "Private subnets for signaling instances."
}

variable "core_private_cidrs" {
  type        = list(string)
  description = "Private CIDRs of the core regions' transceiver and NATS subnets (reached over VPC peering). Relays may send to the ICE port there; both fleets may reach NATS there."

  validation {
    condition = length(var.core_private_cidrs) >= 1 && alltrue([
      for c in var.core_private_cidrs : try(anytrue([
        for p in ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"] :
        tonumber(split("/", c)[1]) >= tonumber(split("/", p)[1]) && cidrsubnet("${cidrhost(c, 0)}/${split("/", p)[1]}", 0, 0) == p
      ]), false)
    ])
    error_message = "core_private_cidrs must be non-empty and every entry an RFC 1918 CIDR (never 0.0.0.0/0)."
  }
}

variable "nats_urls" {
  type        = list(string)
  description = "NATS client URLs of the nearest core cluster, e.g. [\"nats://10.20.64.10:4222\", ...]."

  validation {
    condition     = length(var.nats_urls) >= 1 && alltrue([for u in var.nats_urls : can(regex("^(nats|tls)://[A-Za-z0-9.-]+:[0-9]+$", u))])
    error_message = "nats_urls must be nats:// or tls:// host:port URLs without credentials."
  }
}

variable "ice_port" {
  type        = number
  description = "Transceivers' one ICE UDP port (PARLEY_ICE_PORT), shared by all their sessions; relays may send media only to it. Must equal the core clusters' ice_port."
  default     = 20000

  validation {
    condition     = var.ice_port >= 1024 && var.ice_port <= 65535 && floor(var.ice_port) == var.ice_port
    error_message = "ice_port must be one unprivileged UDP port number (1024-65535)."
  }
}

variable "token_keys_secret_arn" {
  type        = string
  description = "Secrets Manager ARN (this region's replica) holding PARLEY_TOKEN_KEYS (kid:base64key,...). Relays verify tokens with it."

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:", var.token_keys_secret_arn))
    error_message = "token_keys_secret_arn must be a Secrets Manager secret ARN."
  }
}

variable "auth_jwt_secret_arn" {
  type        = string
  description = "Secrets Manager ARN holding PARLEY_AUTH_JWT_SECRET for the signaling service. Null turns auth off and requires allow_unauthenticated = true."
  default     = null

  validation {
    condition     = var.auth_jwt_secret_arn == null || can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:", var.auth_jwt_secret_arn))
    error_message = "auth_jwt_secret_arn must be a Secrets Manager secret ARN."
  }
}

variable "allow_unauthenticated" {
  type        = bool
  description = "Explicit opt-in for PARLEY_AUTH=off (demos only)."
  default     = false

  validation {
    condition     = var.auth_jwt_secret_arn != null || var.allow_unauthenticated
    error_message = "Set auth_jwt_secret_arn, or allow_unauthenticated = true to run signaling without auth."
  }
}

variable "relay_image" {
  type        = string
  description = "Container image of the relay (docker/Dockerfile target relay)."
}

variable "signaling_image" {
  type        = string
  description = "Container image of the signaling service (docker/Dockerfile target edge)."
}

variable "relay_ecr_repository_arn" {
  type        = string
  description = "ECR repository of relay_image (pull permission is scoped to it). Null for a public image."
  default     = null
}

variable "signaling_ecr_repository_arn" {
  type        = string
  description = "ECR repository of signaling_image. Null for a public image."
  default     = null
}

variable "signaling_domain_name" {
  type        = string
  description = "Global signaling hostname clients use (e.g. signaling.example.com); steered to the nearest region by the global module."
}

variable "regional_domain_name" {
  type        = string
  description = "This region's own signaling hostname (e.g. eu-west-1.signaling.example.com), target of the global health checks."
}

variable "route53_zone_id" {
  type        = string
  description = "Public hosted zone for certificate validation and the regional record."
}

variable "architecture" {
  type        = string
  description = "CPU architecture for both fleets (arm64 or x86_64); images must be built for it."
  default     = "arm64"
}

variable "relay_instance_type" {
  type        = string
  description = "Instance type of relays (packet forwarding: network-optimised compute)."
  default     = "c7gn.large"
}

variable "relay_capacity" {
  type = object({
    min        = number
    max        = number
    cpu_target = number
  })
  description = "Relay Auto Scaling bounds and target average CPU percent."
  default     = { min = 2, max = 10, cpu_target = 55 }

  validation {
    condition     = var.relay_capacity.min >= 1 && var.relay_capacity.max >= var.relay_capacity.min && var.relay_capacity.cpu_target > 10 && var.relay_capacity.cpu_target < 90
    error_message = "relay_capacity needs min >= 1, max >= min and a CPU target between 10 and 90."
  }
}

variable "signaling_instance_type" {
  type        = string
  description = "Instance type of signaling instances."
  default     = "c7g.medium"
}

variable "signaling_capacity" {
  type = object({
    min        = number
    max        = number
    cpu_target = number
  })
  description = "Signaling Auto Scaling bounds and target average CPU percent."
  default     = { min = 2, max = 6, cpu_target = 60 }

  validation {
    condition     = var.signaling_capacity.min >= 1 && var.signaling_capacity.max >= var.signaling_capacity.min && var.signaling_capacity.cpu_target > 10 && var.signaling_capacity.cpu_target < 90
    error_message = "signaling_capacity needs min >= 1, max >= min and a CPU target between 10 and 90."
  }
}

variable "relay_idle_timeout_ms" {
  type        = number
  description = "PARLEY_RELAY_IDLE_TIMEOUT_MS: a client flow without packets for this long is forgotten."
  default     = 30000
}

variable "relay_deregistration_delay_seconds" {
  type        = number
  description = "How long a relay leaving the NLB keeps its existing flows (scale-in, rollouts) before termination."
  default     = 300

  validation {
    condition     = var.relay_deregistration_delay_seconds >= 0 && var.relay_deregistration_delay_seconds <= 3600
    error_message = "relay_deregistration_delay_seconds must be between 0 and 3600."
  }
}

variable "metrics_source_cidrs" {
  type        = list(string)
  description = "Private CIDRs of Prometheus scrapers allowed to the metrics ports (edge 9464, relay 9465). Empty: none."
  default     = []

  validation {
    condition = alltrue([
      for c in var.metrics_source_cidrs : try(anytrue([
        for p in ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"] :
        tonumber(split("/", c)[1]) >= tonumber(split("/", p)[1]) && cidrsubnet("${cidrhost(c, 0)}/${split("/", p)[1]}", 0, 0) == p
      ]), false)
    ])
    error_message = "metrics_source_cidrs must be RFC 1918 CIDRs: metrics are never public."
  }
}

variable "nats_subnets" {
  type = list(object({
    id         = string
    cidr_block = string
  }))
  description = "Private subnets for the region's leaf NATS, one node per entry (3 or 5, in different zones; each node gets host 10 of its subnet). The leaf links to the core cluster (nats_leafnode_urls) and runs JetStream in memory (domain edge-<region>) for the relays' shared flow cache, bucket parley-relay-flows-<region>. Empty: relays and signaling use nats_urls directly, and relays share no flows (PARLEY_RELAY_FLOW_CACHE=off)."
  default     = []

  validation {
    condition     = contains([0, 3, 5], length(var.nats_subnets))
    error_message = "nats_subnets must hold 0, 3 or 5 entries."
  }
}

variable "nats_leafnode_urls" {
  type        = list(string)
  description = "The core cluster's leaf-node URLs (its nats_leafnode_urls output), which the region's leaf NATS dials. Required with nats_subnets."
  default     = []

  validation {
    condition     = length(var.nats_subnets) == 0 || length(var.nats_leafnode_urls) > 0
    error_message = "nats_leafnode_urls is required when nats_subnets is set."
  }
}

variable "nats_instance_type" {
  type        = string
  description = "Instance type of the leaf NATS nodes; must match architecture."
  default     = "m7g.medium"
}

variable "nats_image" {
  type        = string
  description = "NATS server image of the leaf nodes; null keeps the nats-cluster module's pinned default."
  default     = null
}

variable "flow_cache_memory_mib" {
  type        = number
  description = "JetStream memory (and tmpfs store) per leaf NATS node for the relays' flow cache, MiB."
  default     = 256

  validation {
    condition     = var.flow_cache_memory_mib >= 64 && var.flow_cache_memory_mib <= 65536
    error_message = "flow_cache_memory_mib must be 64 to 65536."
  }
}

variable "log_level" {
  type        = string
  description = "PARLEY_LOG_LEVEL."
  default     = "info"

  validation {
    condition     = contains(["trace", "debug", "info", "warn", "error", "fatal"], var.log_level)
    error_message = "log_level must be one of trace, debug, info, warn, error, fatal."
  }
}

variable "alb_access_logs_bucket" {
  type        = string
  description = "S3 bucket for ALB access logs. Null disables them."
  default     = null
}

variable "deletion_protection" {
  type        = bool
  description = "Protect both load balancers (and so the region's public IPs) from accidental deletion."
  default     = true
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}

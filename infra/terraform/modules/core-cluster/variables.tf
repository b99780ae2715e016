variable "name" {
  type        = string
  description = "Name prefix, e.g. parley-us-east-2."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,24}$", var.name))
    error_message = "name must be 2-25 lowercase letters, digits or dashes, starting with a letter."
  }
}

variable "cluster_name" {
  type        = string
  description = "PARLEY_CLUSTER of these transceivers and the NATS cluster/gateway name (e.g. core-us-east-2). Edge regions that should use this core set the same value."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{0,62}$", var.cluster_name))
    error_message = "cluster_name must be lowercase letters, digits and dashes."
  }
}

variable "vpc_id" {
  type        = string
  description = "VPC of the core region."
}

variable "transceiver_subnet_ids" {
  type        = list(string)
  description = "Private subnets for transceivers (one per zone). No route from the internet reaches them."
}

variable "nats_subnets" {
  type = list(object({
    id         = string
    cidr_block = string
  }))
  description = "Private subnets for the three NATS nodes (one per zone), with CIDRs for their fixed addresses."
}

variable "relay_source_cidrs" {
  type        = list(string)
  description = "The relay fleets' private subnet CIDRs in every edge region (reached over VPC peering). Only these may send to the ICE port."

  validation {
    condition = length(var.relay_source_cidrs) >= 1 && alltrue([
      for c in var.relay_source_cidrs : try(anytrue([
        for p in ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"] :
        tonumber(split("/", c)[1]) >= tonumber(split("/", p)[1]) && cidrsubnet("${cidrhost(c, 0)}/${split("/", p)[1]}", 0, 0) == p
      ]), false)
    ])
    error_message = "relay_source_cidrs must be non-empty RFC 1918 CIDRs; the ICE port is never open to the internet."
  }
}

variable "edge_private_cidrs" {
  type        = list(string)
  description = "All edge fleets' private CIDRs (relay and signaling subnets): admitted to NATS client port 4222 and leaf-node port 7422."

  validation {
    condition = alltrue([
      for c in var.edge_private_cidrs : try(anytrue([
        for p in ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"] :
        tonumber(split("/", c)[1]) >= tonumber(split("/", p)[1]) && cidrsubnet("${cidrhost(c, 0)}/${split("/", p)[1]}", 0, 0) == p
      ]), false)
    ])
    error_message = "edge_private_cidrs must be RFC 1918 CIDRs."
  }
}

variable "gateway_peers" {
  type        = map(list(string))
  description = "Other core clusters to dial as NATS gateways: cluster name => gateway URLs (from their nats_gateway_urls output). The first core region lists none."
  default     = {}
}

variable "gateway_cidrs" {
  type        = list(string)
  description = "VPC CIDRs of all other core regions (gateway port 7222 both ways)."
  default     = []
}

variable "ice_port" {
  type        = number
  description = "The one ICE UDP port each transceiver binds on its private address (PARLEY_ICE_PORT); all its sessions share it, told apart by ufrag. Must equal the edge regions' ice_port."
  default     = 20000

  validation {
    condition     = var.ice_port >= 1024 && var.ice_port <= 65535 && floor(var.ice_port) == var.ice_port
    error_message = "ice_port must be one unprivileged UDP port number (1024-65535)."
  }
}

variable "token_keys_secret_arn" {
  type        = string
  description = "Secrets Manager ARN (this region's replica) holding PARLEY_TOKEN_KEYS; transceivers sign routing tokens with the first key."

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:", var.token_keys_secret_arn))
    error_message = "token_keys_secret_arn must be a Secrets Manager secret ARN."
  }
}

variable "transceiver_image" {
  type        = string
  description = "Container image of the transceiver (docker/Dockerfile target transceiver)."
}

variable "transceiver_ecr_repository_arn" {
  type        = string
  description = "ECR repository of transceiver_image (pull permission is scoped to it). Null for a public image."
  default     = null
}

variable "transceiver_environment" {
  type        = map(string)
  description = "Extra non-secret transceiver settings, e.g. { PARLEY_DEFAULT_AGENT = \"echo\", PARLEY_MAX_SESSION_SECONDS = \"7200\" }."
  default     = {}
}

variable "architecture" {
  type        = string
  description = "CPU architecture of transceivers and NATS nodes (arm64 or x86_64)."
  default     = "arm64"
}

variable "transceiver_instance_type" {
  type        = string
  description = "Instance type of transceivers (DTLS/SRTP and audio: compute-optimised)."
  default     = "c7g.xlarge"
}

variable "transceiver_scaling" {
  type = object({
    min                          = number
    max                          = number
    capacity_per_instance        = number
    target_sessions_per_instance = number
  })
  description = "Transceiver ASG bounds; PARLEY_CAPACITY per instance; and the average sessions per transceiver the ASG keeps (scale-out signal)."
  default     = { min = 2, max = 20, capacity_per_instance = 500, target_sessions_per_instance = 350 }

  validation {
    condition = (
      var.transceiver_scaling.min >= 1 && var.transceiver_scaling.max >= var.transceiver_scaling.min &&
      var.transceiver_scaling.target_sessions_per_instance > 0 &&
      var.transceiver_scaling.target_sessions_per_instance < var.transceiver_scaling.capacity_per_instance
    )
    error_message = "transceiver_scaling needs min >= 1, max >= min and 0 < target_sessions_per_instance < capacity_per_instance (headroom while new instances boot)."
  }
}

variable "sessions_metric_name" {
  type        = string
  description = "Prometheus gauge of active sessions the transceiver exports on its metrics port; published to CloudWatch and used as the scaling signal."
  default     = "parley_transceiver_sessions"

  validation {
    condition     = can(regex("^[a-zA-Z_:][a-zA-Z0-9_:]*$", var.sessions_metric_name))
    error_message = "sessions_metric_name must be a valid Prometheus metric name."
  }
}

variable "drain_timeout_seconds" {
  type        = number
  description = "How long a terminating transceiver may keep serving its sessions (announces draining on SIGTERM). Voice calls are long; default 15 minutes."
  default     = 900

  validation {
    condition     = var.drain_timeout_seconds >= 60 && var.drain_timeout_seconds <= 7000
    error_message = "drain_timeout_seconds must be between 60 and 7000."
  }
}

variable "metrics_source_cidrs" {
  type        = list(string)
  description = "Private CIDRs of Prometheus scrapers (transceiver 9466, NATS 8222)."
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

variable "log_level" {
  type        = string
  description = "PARLEY_LOG_LEVEL."
  default     = "info"

  validation {
    condition     = contains(["trace", "debug", "info", "warn", "error", "fatal"], var.log_level)
    error_message = "log_level must be one of trace, debug, info, warn, error, fatal."
  }
}

variable "nats_instance_type" {
  type        = string
  description = "Instance type of the NATS nodes."
  default     = "m7g.medium"
}

variable "nats_image" {
  type        = string
  description = "NATS server image; null keeps the nats-cluster module's pinned default."
  default     = null
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}

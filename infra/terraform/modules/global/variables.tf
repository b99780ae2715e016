variable "zone_id" {
  type        = string
  description = "Public Route 53 hosted zone holding the signaling hostname."
}

variable "signaling_domain_name" {
  type        = string
  description = "The one hostname clients use (e.g. signaling.example.com); answered with the nearest healthy edge region."
}

variable "routing_policy" {
  type        = string
  description = "latency: nearest region by measured latency (default). geolocation: by client continent, with default_edge for the rest."
  default     = "latency"

  validation {
    condition     = contains(["latency", "geolocation"], var.routing_policy)
    error_message = "routing_policy must be latency or geolocation."
  }
}

variable "edges" {
  type = map(object({
    region               = string
    alb_dns_name         = string
    alb_zone_id          = string
    regional_domain_name = string
    relay_addresses      = list(string)
    continent            = optional(string)
  }))
  description = "Edge regions keyed by name (usually the AWS region), from each edge root's outputs. continent (AF, AN, AS, EU, NA, OC, SA) is used by geolocation routing."

  validation {
    condition     = length(var.edges) >= 1 && alltrue([for k, e in var.edges : length(e.relay_addresses) >= 1 && alltrue([for a in e.relay_addresses : can(regex("^[0-9.]+:3478$", a))])])
    error_message = "Every edge needs at least one relay address of the form <ip>:3478."
  }

  validation {
    condition     = var.routing_policy != "geolocation" || alltrue([for k, e in var.edges : contains(["AF", "AN", "AS", "EU", "NA", "OC", "SA"], coalesce(e.continent, "-"))])
    error_message = "With geolocation routing every edge needs a continent code (AF, AN, AS, EU, NA, OC, SA)."
  }
}

variable "default_edge" {
  type        = string
  description = "Geolocation only: edge key answering clients whose continent has no edge."
  default     = null

  validation {
    condition     = var.routing_policy != "geolocation" || (var.default_edge != null && contains(keys(var.edges), coalesce(var.default_edge, "-")))
    error_message = "With geolocation routing, default_edge must name one of the edges."
  }
}

variable "health_check" {
  type = object({
    path              = optional(string, "/healthz")
    request_interval  = optional(number, 10)
    failure_threshold = optional(number, 3)
  })
  description = "Route 53 HTTPS health check on each region's hostname. /healthz fails when the region's core cluster has no transceivers."
  default     = {}

  validation {
    condition     = contains([10, 30], var.health_check.request_interval) && var.health_check.failure_threshold >= 1 && var.health_check.failure_threshold <= 10
    error_message = "request_interval must be 10 or 30 and failure_threshold between 1 and 10."
  }
}

variable "name" {
  type        = string
  description = "Deployment name, used in the health checks' Name tags."
  default     = "parley"
}

variable "routing_policy" {
  type        = string
  description = "latency (nearest region by measured latency) or geolocation (by client continent, see topology edges[*].continent)."
  default     = "latency"

  validation {
    condition     = contains(["latency", "geolocation"], var.routing_policy)
    error_message = "routing_policy must be latency or geolocation."
  }
}

variable "default_edge" {
  type        = string
  description = "Geolocation only: edge region answering continents without an edge."
  default     = "us-east-1"
}

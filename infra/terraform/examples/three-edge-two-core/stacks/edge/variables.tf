variable "region" {
  type        = string
  description = "The edge region this root deploys: a key of the topology's edges."
}

variable "image_tag" {
  type        = string
  description = "Image tag to run (immutable in ECR), e.g. the git SHA the images were built from."

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$", var.image_tag)) && var.image_tag != "latest"
    error_message = "image_tag must be a valid, explicit tag (not latest)."
  }
}

variable "name" {
  type        = string
  description = "Fleet name; also the Auto Scaling group name (e.g. parley-eu-west-1-relay)."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,38}$", var.name))
    error_message = "name must be 2-39 lowercase letters, digits or dashes, starting with a letter."
  }
}

variable "vpc_id" {
  type        = string
  description = "VPC the fleet's security group belongs to."
}

variable "subnet_ids" {
  type        = list(string)
  description = "Private subnets to launch instances in (one per availability zone)."

  validation {
    condition     = length(var.subnet_ids) >= 1
    error_message = "subnet_ids needs at least one subnet."
  }
}

variable "instance_type" {
  type        = string
  description = "EC2 instance type. Must match architecture (e.g. c7g.* for arm64)."
}

variable "architecture" {
  type        = string
  description = "CPU architecture of the AMI and container image: arm64 or x86_64."
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be arm64 or x86_64."
  }
}

variable "ami_id" {
  type        = string
  description = "AMI override. Null uses the latest Amazon Linux 2023 from the public SSM parameter."
  default     = null
}

variable "min_size" {
  type        = number
  description = "Minimum number of instances."

  validation {
    condition     = var.min_size >= 0
    error_message = "min_size must be >= 0."
  }
}

variable "max_size" {
  type        = number
  description = "Maximum number of instances."

  validation {
    condition     = var.max_size >= var.min_size && var.max_size >= 1
    error_message = "max_size must be >= min_size and >= 1."
  }
}

variable "image" {
  type        = string
  description = "Container image reference (registry/repository:tag or @digest) the instance runs."

  validation {
    condition     = can(regex("^[a-z0-9.-]+(:[0-9]+)?/[a-z0-9._/-]+(:[A-Za-z0-9._-]+|@sha256:[a-f0-9]{64})$", var.image))
    error_message = "image must be a fully qualified reference with a tag or digest (no implicit :latest)."
  }
}

variable "ecr_repository_arn" {
  type        = string
  description = "ARN of the ECR repository holding image; grants pull on that repository only. Null for a public image."
  default     = null

  validation {
    condition     = var.ecr_repository_arn == null || can(regex("^[0-9]{12}\\.dkr\\.ecr\\.[a-z0-9-]+\\.amazonaws\\.com/", var.image))
    error_message = "When ecr_repository_arn is set, image must be an ECR reference (<account>.dkr.ecr.<region>.amazonaws.com/...)."
  }
}

variable "command" {
  type        = list(string)
  description = "Arguments after the image entrypoint, e.g. [\"relay\"]."

  validation {
    condition     = alltrue([for a in var.command : can(regex("^[A-Za-z0-9._=/-]+$", a))])
    error_message = "command arguments may only contain letters, digits and ._=/- (they are rendered into a systemd unit)."
  }
}

variable "environment" {
  type        = map(string)
  description = "Non-secret environment for the container."
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.environment : can(regex("^[A-Z_][A-Z0-9_]*$", k)) && !can(regex("[\\n']", v))])
    error_message = "environment keys must be UPPER_SNAKE_CASE and values must not contain newlines or single quotes."
  }
}

variable "environment_by_az" {
  type        = map(map(string))
  description = "Extra environment chosen at boot by the instance's availability zone (e.g. the zone-local relay address)."
  default     = {}

  validation {
    condition     = alltrue(flatten([for az, env in var.environment_by_az : [for k, v in env : can(regex("^[a-z0-9-]+$", az)) && can(regex("^[A-Z_][A-Z0-9_]*$", k)) && !can(regex("[\\n']", v))]]))
    error_message = "environment_by_az keys must be zone names, variable names UPPER_SNAKE_CASE, values without newlines or single quotes."
  }
}

variable "identity_environment" {
  type        = map(string)
  description = "Environment filled at boot from instance metadata: variable name => one of local-ipv4, instance-id, placement/availability-zone."
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.identity_environment : can(regex("^[A-Z_][A-Z0-9_]*$", k)) && contains(["local-ipv4", "instance-id", "placement/availability-zone"], v)])
    error_message = "identity_environment maps UPPER_SNAKE_CASE names to local-ipv4, instance-id or placement/availability-zone."
  }
}

variable "secret_environment" {
  type        = map(string)
  description = "Environment read from AWS Secrets Manager at every boot: variable name => secret ARN (in this region). The instance role may read exactly these secrets."
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.secret_environment : can(regex("^[A-Z_][A-Z0-9_]*$", k)) && can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:", v))])
    error_message = "secret_environment maps UPPER_SNAKE_CASE names to Secrets Manager secret ARNs."
  }
}

variable "container_uid" {
  type        = number
  description = "Non-root UID the container runs as; host firewall denies this UID access to instance metadata. 65532 is distroless nonroot."
  default     = 65532

  validation {
    condition     = var.container_uid >= 1000
    error_message = "container_uid must be a non-root, non-system UID (>= 1000)."
  }
}

variable "target_group_arns" {
  type        = list(string)
  description = "Load balancer target groups the instances register with."
  default     = []
}

variable "health_check_type" {
  type        = string
  description = "EC2 or ELB. ELB replaces instances whose load balancer health check fails."
  default     = "EC2"

  validation {
    condition     = contains(["EC2", "ELB"], var.health_check_type)
    error_message = "health_check_type must be EC2 or ELB."
  }
}

variable "health_check_grace_period" {
  type        = number
  description = "Seconds after launch before health checks count (boot + image pull)."
  default     = 180
}

variable "drain_timeout_seconds" {
  type        = number
  description = "On scale-in, stop the container with this grace period (SIGTERM, then wait) before the instance terminates. 0 disables the drain lifecycle hook."
  default     = 0

  validation {
    condition     = var.drain_timeout_seconds >= 0 && var.drain_timeout_seconds <= 7000
    error_message = "drain_timeout_seconds must be between 0 and 7000 (lifecycle hook heartbeat is capped at 7200 s)."
  }
}

variable "prometheus_metrics" {
  type = object({
    port         = number
    metric_names = list(string)
  })
  description = "Publish these Prometheus metrics from the local scrape port to CloudWatch (namespace Parley, dimension AutoScalingGroupName) for scaling. Null disables."
  default     = null
}

variable "sysctls" {
  type        = map(string)
  description = "Kernel settings applied at boot (UDP buffers for media traffic by default)."
  default = {
    "net.core.rmem_max"              = "26214400"
    "net.core.wmem_max"              = "26214400"
    "net.core.netdev_max_backlog"    = "10000"
    "net.netfilter.nf_conntrack_max" = "1048576"
  }
}

variable "root_volume_size_gb" {
  type        = number
  description = "Root EBS volume size in GiB (always encrypted)."
  default     = 20
}

variable "ebs_kms_key_arn" {
  type        = string
  description = "KMS key for the root volume. Null uses the account's default EBS key."
  default     = null
}

variable "log_retention_days" {
  type        = number
  description = "CloudWatch Logs retention for the container's logs."
  default     = 30
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource and propagated to instances."
  default     = {}
}

output "autoscaling_group_name" {
  description = "Name of the Auto Scaling group (attach scaling policies to it)."
  value       = aws_autoscaling_group.this.name
}

output "autoscaling_group_arn" {
  description = "ARN of the Auto Scaling group."
  value       = aws_autoscaling_group.this.arn
}

output "security_group_id" {
  description = "Security group of the instances; the caller adds ingress and any extra egress."
  value       = aws_security_group.this.id
}

output "iam_role_name" {
  description = "Name of the instance role."
  value       = aws_iam_role.this.name
}

output "iam_role_arn" {
  description = "ARN of the instance role."
  value       = aws_iam_role.this.arn
}

output "iam_policy_json" {
  description = "The instance role's inline policy document (for review and tests)."
  value       = aws_iam_role_policy.this.policy
}

output "launch_template_id" {
  description = "ID of the launch template."
  value       = aws_launch_template.this.id
}

output "log_group_name" {
  description = "CloudWatch Logs group receiving the container's output."
  value       = aws_cloudwatch_log_group.this.name
}

output "user_data" {
  description = "Rendered boot script (no secret values: secrets are fetched on the instance)."
  value       = local.user_data
}

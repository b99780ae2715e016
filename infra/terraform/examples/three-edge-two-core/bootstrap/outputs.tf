output "token_keys_secret_arn" {
  description = "Primary ARN of the token keys secret (replicas share its name)."
  value       = aws_secretsmanager_secret.token_keys.arn
}

output "auth_jwt_secret_arn" {
  description = "Primary ARN of the JWT verification secret."
  value       = aws_secretsmanager_secret.auth_jwt.arn
}

output "repository_urls" {
  description = "ECR repository URL per process; push images here (docker/README.md)."
  value       = { for k, r in aws_ecr_repository.image : k => r.repository_url }
}

output "next_steps" {
  description = "Commands that set the secret values without writing them to disk."
  value       = <<-EOT
    aws secretsmanager put-secret-value --region ${module.topology.primary_region} --secret-id ${module.topology.secret_names.token_keys} \
      --secret-string "k1:$(openssl rand -base64 32)"
    aws secretsmanager put-secret-value --region ${module.topology.primary_region} --secret-id ${module.topology.secret_names.auth_jwt} \
      --secret-string "$(openssl rand -base64 48)"
  EOT
}

# Apply first, once per deployment: image repositories and the two shared
# secrets, replicated to every region so instances read a same-region copy.
# Terraform creates the secrets empty; values are written out of band
# (README), so they never pass through tfvars, plans or state.

module "topology" {
  source = "../topology"
}

provider "aws" {
  region              = module.topology.primary_region
  allowed_account_ids = [module.topology.account_id]

  default_tags {
    tags = { Project = "parley", ManagedBy = "terraform", Root = "bootstrap" }
  }
}

resource "aws_secretsmanager_secret" "token_keys" {
  name                    = module.topology.secret_names.token_keys
  description             = "PARLEY_TOKEN_KEYS (kid:base64key[,kid:base64key]): relays verify, transceivers sign. First key signs."
  recovery_window_in_days = 30

  dynamic "replica" {
    for_each = toset([for r in module.topology.all_regions : r if r != module.topology.primary_region])
    content {
      region = replica.value
    }
  }
}

resource "aws_secretsmanager_secret" "auth_jwt" {
  name                    = module.topology.secret_names.auth_jwt
  description             = "PARLEY_AUTH_JWT_SECRET: key the signaling service verifies client JWTs with (HS256)."
  recovery_window_in_days = 30

  # Only signaling (edge regions) reads it.
  dynamic "replica" {
    for_each = toset([for r in keys(module.topology.edges) : r if r != module.topology.primary_region])
    content {
      region = replica.value
    }
  }
}

resource "aws_ecr_repository" "image" {
  for_each = module.topology.repository_names

  name                 = each.value
  image_tag_mutability = "IMMUTABLE" # a tag names one build forever; roots pin tags

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "KMS"
  }
}

resource "aws_ecr_lifecycle_policy" "image" {
  for_each = aws_ecr_repository.image

  repository = each.value.name
  policy = jsonencode({
    rules = [{
      rulePriority = 1
      description  = "Drop untagged layers after a week"
      selection    = { tagStatus = "untagged", countType = "sinceImagePushed", countUnit = "days", countNumber = 7 }
      action       = { type = "expire" }
    }]
  })
}

terraform {
  # 1.10+: S3 backend with native lock files (use_lockfile in backend.hcl).
  required_version = ">= 1.10.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100, < 6"
    }
  }

  # bucket/region come from ../backend.hcl (terraform init -backend-config=../backend.hcl).
  backend "s3" {
    key = "parley/edge-us-east-1.tfstate"
  }
}

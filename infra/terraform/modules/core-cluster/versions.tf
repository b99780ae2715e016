terraform {
  # 1.9+ for cross-variable validation; the tests/ use mock_provider (1.7+).
  required_version = ">= 1.9.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100, < 6"
    }
  }
}

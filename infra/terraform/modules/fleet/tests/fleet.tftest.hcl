# Mocked AWS: "apply" here creates nothing; it lets computed values (ARNs)
# resolve so the IAM policy can be inspected.
mock_provider "aws" {
  mock_data "aws_region" {
    defaults = { name = "eu-west-1" }
  }
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_resource "aws_launch_template" {
    defaults = { id = "lt-0123456789abcdef0" }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/parley/parley-test-transceiver" }
  }
}

variables {
  name               = "parley-test-transceiver"
  vpc_id             = "vpc-0123456789abcdef0"
  subnet_ids         = ["subnet-a", "subnet-b"]
  instance_type      = "c7g.xlarge"
  min_size           = 1
  max_size           = 4
  image              = "123456789012.dkr.ecr.us-east-1.amazonaws.com/parley-transceiver:0.1.0"
  ecr_repository_arn = "arn:aws:ecr:us-east-1:123456789012:repository/parley-transceiver"
  command            = ["transceiver"]
  environment        = { PARLEY_REGION = "eu-west-1" }
  identity_environment = {
    PARLEY_PRIVATE_ADDRESS = "local-ipv4"
    PARLEY_TRANSCEIVER_ID  = "instance-id"
  }
  secret_environment = {
    PARLEY_TOKEN_KEYS = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:parley/token-keys-AbCdEf"
  }
  drain_timeout_seconds = 600
  prometheus_metrics    = { port = 9466, metric_names = ["parley_transceiver_sessions"] }
}

run "fleet_rules" {
  command = apply

  assert {
    condition     = aws_launch_template.this.metadata_options[0].http_tokens == "required" && aws_launch_template.this.metadata_options[0].http_put_response_hop_limit == 1
    error_message = "IMDSv2 must be required with a hop limit of 1."
  }

  assert {
    condition     = alltrue([for b in aws_launch_template.this.block_device_mappings : b.ebs[0].encrypted == "true"])
    error_message = "Every EBS volume must be encrypted."
  }

  assert {
    condition     = length(regexall("--user 65532:65532", output.user_data)) == 1 && length(regexall("--privileged", output.user_data)) == 0
    error_message = "The container must run as the non-root UID and never privileged."
  }

  assert {
    condition     = length(regexall("--uid-owner 65532 -j REJECT", output.user_data)) == 2
    error_message = "The container UID must be firewalled off instance metadata."
  }

  assert {
    condition     = length(regexall("docker stop --time 600 parley", output.user_data)) == 1
    error_message = "Stopping the service must give the process the full drain timeout."
  }

  assert {
    condition = one([
      for s in jsondecode(output.iam_policy_json).Statement : s.Resource if contains(flatten([s.Action]), "secretsmanager:GetSecretValue")
    ]) == ["arn:aws:secretsmanager:eu-west-1:123456789012:secret:parley/token-keys-AbCdEf"]
    error_message = "The role may read exactly the configured secrets."
  }

  assert {
    condition = alltrue([
      for s in jsondecode(output.iam_policy_json).Statement : s.Resource != "*" if s.Sid != "EcrLogin"
    ])
    error_message = "Only ecr:GetAuthorizationToken may use a wildcard resource."
  }

  assert {
    condition = one([
      for s in jsondecode(output.iam_policy_json).Statement : s.Resource if s.Sid == "FinishOwnDrain"
    ]) == "arn:aws:autoscaling:eu-west-1:123456789012:autoScalingGroup:*:autoScalingGroupName/parley-test-transceiver"
    error_message = "CompleteLifecycleAction must be scoped to this fleet's ASG."
  }

  assert {
    condition     = [for h in aws_autoscaling_group.this.initial_lifecycle_hook : h.heartbeat_timeout] == [720]
    error_message = "The terminating hook must outlast the drain timeout."
  }
}

run "no_hook_without_drain" {
  command = plan

  variables {
    drain_timeout_seconds = 0
    secret_environment    = {}
    ecr_repository_arn    = null
    image                 = "public.ecr.aws/parley/relay:0.1.0"
  }

  assert {
    condition     = length(aws_autoscaling_group.this.initial_lifecycle_hook) == 0
    error_message = "No lifecycle hook when draining is disabled."
  }
}

# Each invalid input below must be rejected by its own validation.
run "rejects_invalid_inputs" {
  command = plan

  variables {
    image              = "123456789012.dkr.ecr.us-east-1.amazonaws.com/parley-transceiver"
    secret_environment = { PARLEY_TOKEN_KEYS = "k1:c2VjcmV0" }
  }

  expect_failures = [var.image, var.secret_environment]
}

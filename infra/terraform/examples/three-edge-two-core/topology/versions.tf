terraform {
  # Pure data module: no provider, only the deployment's address plan.
  required_version = ">= 1.9.0"
}

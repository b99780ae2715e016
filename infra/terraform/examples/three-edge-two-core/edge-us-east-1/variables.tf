variable "image_tag" {
  type        = string
  description = "Image tag to run (immutable in ECR), e.g. the git SHA the images were built from. Validated by ../stacks/edge."
}

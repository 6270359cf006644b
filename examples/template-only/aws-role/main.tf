# Step 2 of the template-only example: creates the trust role that step 1 (..) rendered,
# with the hashicorp/aws provider and your AWS credentials for the IAM Identity
# Center account. Run `terraform apply` in .. first; this reads its state.

terraform {
  required_version = ">= 0.13"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 4.0"
    }
  }
}

variable "quickstart_state" {
  description = "Path of the quickstart's state file (step 1)."
  type        = string
  default     = "../terraform.tfstate"
}

provider "aws" {
  region = data.terraform_remote_state.quickstart.outputs.region
}

data "terraform_remote_state" "quickstart" {
  backend = "local"
  config = {
    path = var.quickstart_state
  }
}

locals {
  rendered = data.terraform_remote_state.quickstart.outputs
}

resource "aws_iam_role" "trust" {
  name                 = local.rendered.role_name
  path                 = local.rendered.role_path
  assume_role_policy   = local.rendered.trust_policy_json
  max_session_duration = 3600
}

resource "aws_iam_role_policy" "access" {
  name   = "IdcBootstrapAccess"
  role   = aws_iam_role.trust.id
  policy = local.rendered.permissions_policy_json
}

output "role_arn" {
  description = "Equals the quickstart's role_arn output."
  value       = aws_iam_role.trust.arn
}

# Template only: for a vendor that runs no idcbootstrap API. The customer's own
# Terraform generates the external ID and renders the trust role; the customer
# then hands the vendor the role ARN and the external ID. With a vendor API, use
# ../quickstart instead: it fetches the vendor's IDs and registers the role.
#
#   1. `terraform apply` here: generates the external ID and renders the trust
#      role (policies, CloudFormation template, Terraform for hashicorp/aws,
#      quick-create link). Needs no AWS credentials and no network.
#   2. `terraform apply` in ./aws-role: creates the role from what step 1
#      rendered (hashicorp/aws, your AWS credentials).
#   3. Give the vendor the `role_arn` and `external_id` outputs.
#   4. Optional: `terraform apply -var run_check=true` here, with the
#      credentials of the principal the role trusts (the vendor's), proves that
#      it can assume the role with every external ID and read the instance.
#
# Steps 1 and 2 are separate configurations so that step 1 runs anywhere,
# including where the hashicorp/aws provider cannot be installed.

terraform {
  required_version = ">= 0.13"

  required_providers {
    idcbootstrap = {
      source = "idcbootstrap/idcbootstrap"
    }
  }
}

provider "idcbootstrap" {
  trusted_principal_arn = var.trusted_principal_arn
  access_level          = var.access_level
}

# Step 1a: the external ID. Change var.rotation to rotate it (see
# docs/guides/rotation.md); the previous ID stays trusted until retired.
resource "idcbootstrap_external_id" "vendor" {
  rotation        = var.rotation
  retire_previous = var.retire_previous
}

# Step 1b: the trust role, rendered for this instance and these external IDs.
data "idcbootstrap_template" "trust_role" {
  aws_account_id   = var.aws_account_id
  sso_instance_arn = var.sso_instance_arn
  region           = var.region
  external_ids     = idcbootstrap_external_id.vendor.all
  role_name        = var.role_name
  role_path        = var.role_path
  template_url     = var.template_url
}

# Step 4: the connectivity check, off by default so that step 1 stays offline.
# It waits out IAM propagation (up to 2 minutes) and fails the apply with an
# error code when the role does not work; see docs/guides/troubleshooting.md.
resource "idcbootstrap_connectivity_check" "trust_role" {
  count = var.run_check ? 1 : 0

  role_arn         = data.idcbootstrap_template.trust_role.role_arn
  external_ids     = idcbootstrap_external_id.vendor.all
  sso_instance_arn = var.sso_instance_arn
  aws_account_id   = var.aws_account_id
  region           = var.region
}

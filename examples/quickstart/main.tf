# Quickstart: give a vendor that runs the idcbootstrap API access to one IAM
# Identity Center instance, without copying a value by hand in either direction.
#
#   1. `terraform apply` here: reads the external IDs the vendor issued to you,
#      renders the trust role for them (policies, CloudFormation template,
#      Terraform for hashicorp/aws, quick-create link) and registers the role
#      with the vendor. Needs the vendor's API (api_url, tenant_id, api_token
#      from IDCBOOTSTRAP_API_URL, IDCBOOTSTRAP_TENANT_ID, IDCBOOTSTRAP_API_TOKEN)
#      and no AWS credentials.
#   2. `terraform apply` in ./aws-role: creates the role from what step 1
#      rendered (hashicorp/aws, your AWS credentials).
#   3. `terraform apply -var test=true` here: the vendor assumes the role with
#      its own credentials and tests it (waiting out IAM propagation); a role
#      that does not work fails the apply with the vendor's error code.
#
# When the vendor rotates its external ID (docs/guides/rotation.md): step 1
# with `-target=data.idcbootstrap_template.trust_role`, step 2, then step 3.
# In one configuration with the aws_iam_role beside the registration (see the
# README), a single `terraform apply` does all three in order.

terraform {
  required_version = ">= 0.13"

  required_providers {
    idcbootstrap = {
      source = "idcbootstrap/idcbootstrap"
    }
  }
}

provider "idcbootstrap" {
  # api_url, tenant_id and api_token come from IDCBOOTSTRAP_API_URL,
  # IDCBOOTSTRAP_TENANT_ID and IDCBOOTSTRAP_API_TOKEN: keep the token out of
  # the configuration.
  trusted_principal_arn = var.trusted_principal_arn
  access_level          = var.access_level
}

# Step 1a: the external IDs the vendor issued (two while it rotates them).
data "idcbootstrap_vendor_external_ids" "vendor" {}

# Step 1b: the trust role, rendered for this instance and the vendor's IDs.
data "idcbootstrap_template" "trust_role" {
  aws_account_id   = var.aws_account_id
  sso_instance_arn = var.sso_instance_arn
  region           = var.region
  external_ids     = data.idcbootstrap_vendor_external_ids.vendor.all
  role_name        = var.role_name
  role_path        = var.role_path
  template_url     = var.template_url
}

# Step 1c: the role, registered with the vendor. With test = true (step 3) the
# vendor tests it; the trigger re-registers and re-tests it whenever the trust
# policy changes, e.g. at each step of a rotation.
resource "idcbootstrap_vendor_registration" "trust_role" {
  role_arn         = data.idcbootstrap_template.trust_role.role_arn
  sso_instance_arn = var.sso_instance_arn
  region           = var.region
  test             = var.test

  triggers = {
    trust_policy = sha256(data.idcbootstrap_template.trust_role.trust_policy_json)
  }
}

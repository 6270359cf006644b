terraform {
  required_version = ">= 1.5"

  required_providers {
    idcbootstrap = {
      source = "idcbootstrap/idcbootstrap"
    }
  }
}

# The check calls STS with the credentials of the principal the role trusts
# (the vendor's): from `profile` here, or the usual AWS environment variables.
provider "idcbootstrap" {
  trusted_principal_arn = "arn:aws:iam::111122223333:role/vendor/IdcBootstrapIntegration"
  region                = "us-east-1"
}

resource "idcbootstrap_external_id" "vendor" {}

data "idcbootstrap_template" "trust_role" {
  aws_account_id   = "123456789012"
  sso_instance_arn = "arn:aws:sso:::instance/ssoins-abcdef0123456789"
  region           = "us-east-1"
  external_ids     = idcbootstrap_external_id.vendor.all
}

# Runs the connectivity check on every plan and apply. A failure is reported
# as data (success = false, code, message): the assertion turns it into a
# warning, so a role that stops working is noticed without blocking the plan.
check "vendor_can_assume_the_role" {
  data "idcbootstrap_connectivity" "trust_role" {
    role_arn         = data.idcbootstrap_template.trust_role.role_arn
    external_ids     = idcbootstrap_external_id.vendor.all
    sso_instance_arn = "arn:aws:sso:::instance/ssoins-abcdef0123456789"
    aws_account_id   = "123456789012"
  }

  assert {
    condition     = data.idcbootstrap_connectivity.trust_role.success
    error_message = "Connectivity check failed: ${data.idcbootstrap_connectivity.trust_role.message}"
  }
}

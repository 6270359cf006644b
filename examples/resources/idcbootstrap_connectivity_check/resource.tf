terraform {
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

# Proves at apply time that the role (created from the template above, e.g.
# with hashicorp/aws) can be assumed with every trusted external ID, sees the
# instance, grants what its access level promises, and refuses callers without
# an external ID. A failure fails the apply with its error code; a new role is
# retried until `propagation_timeout` while IAM propagates it.
resource "idcbootstrap_connectivity_check" "trust_role" {
  role_arn            = data.idcbootstrap_template.trust_role.role_arn
  external_ids        = idcbootstrap_external_id.vendor.all
  sso_instance_arn    = "arn:aws:sso:::instance/ssoins-abcdef0123456789"
  aws_account_id      = "123456789012"
  propagation_timeout = "2m"

  # Check again whenever the role's policies change, not only its inputs.
  triggers = {
    permissions = data.idcbootstrap_template.trust_role.permissions_policy_json
  }

  # When the role is created in this configuration, wait for its policy too:
  # depends_on = [aws_iam_role_policy.access]
}

output "connectivity" {
  value = idcbootstrap_connectivity_check.trust_role.message
}

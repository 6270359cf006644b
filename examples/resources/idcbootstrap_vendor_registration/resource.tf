terraform {
  required_providers {
    idcbootstrap = {
      source = "idcbootstrap/idcbootstrap"
    }
  }
}

# api_url, tenant_id and api_token from IDCBOOTSTRAP_API_URL,
# IDCBOOTSTRAP_TENANT_ID and IDCBOOTSTRAP_API_TOKEN.
provider "idcbootstrap" {
  trusted_principal_arn = "arn:aws:iam::111122223333:role/vendor/IdcBootstrapIntegration"
}

data "idcbootstrap_vendor_external_ids" "vendor" {}

data "idcbootstrap_template" "trust_role" {
  aws_account_id   = "123456789012"
  sso_instance_arn = "arn:aws:sso:::instance/ssoins-abcdef0123456789"
  region           = "us-east-1"
  external_ids     = data.idcbootstrap_vendor_external_ids.vendor.all
}

# Registers the role with the vendor. In a real configuration role_arn is
# aws_iam_role.trust.arn (the role resource), and test stays true (the
# default): the vendor then tests the role once it exists.
resource "idcbootstrap_vendor_registration" "trust_role" {
  role_arn            = data.idcbootstrap_template.trust_role.role_arn
  sso_instance_arn    = "arn:aws:sso:::instance/ssoins-abcdef0123456789"
  region              = "us-east-1"
  test                = false
  propagation_timeout = "2m"

  triggers = {
    trust_policy = sha256(data.idcbootstrap_template.trust_role.trust_policy_json)
  }
}

output "registered" {
  value = idcbootstrap_vendor_registration.trust_role.configured
}

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

# The external IDs the vendor issued to this tenant, read on every plan: the
# one in use and, while the vendor rotates it, the pending one.
data "idcbootstrap_vendor_external_ids" "vendor" {}

data "idcbootstrap_template" "trust_role" {
  aws_account_id   = "123456789012"
  sso_instance_arn = "arn:aws:sso:::instance/ssoins-abcdef0123456789"
  region           = "us-east-1"
  external_ids     = data.idcbootstrap_vendor_external_ids.vendor.all
}

# Derived from the sensitive IDs, so sensitive too.
output "rotating" {
  value     = length(data.idcbootstrap_vendor_external_ids.vendor.all) > 1
  sensitive = true
}

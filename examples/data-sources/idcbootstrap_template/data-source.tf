terraform {
  required_providers {
    idcbootstrap = {
      source = "idcbootstrap/idcbootstrap"
    }
  }
}

provider "idcbootstrap" {}

# The external ID the vendor presents when it assumes the role.
resource "idcbootstrap_external_id" "vendor" {}

# Renders the trust role for one IAM Identity Center instance. Nothing is
# called over the network: the same inputs always give the same artifacts.
data "idcbootstrap_template" "example" {
  aws_account_id        = "123456789012"
  sso_instance_arn      = "arn:aws:sso:::instance/ssoins-abcdef0123456789"
  region                = "us-east-1"
  trusted_principal_arn = "arn:aws:iam::111122223333:role/vendor/IdcBootstrapIntegration"
  external_ids          = idcbootstrap_external_id.vendor.all
  access_level          = "read_only"
  template_url          = "https://example-bucket.s3.us-east-1.amazonaws.com/idcbootstrap/template.yaml"
}

# The ARN the role will have; give it to the vendor with the external ID.
output "role_arn" {
  value = data.idcbootstrap_template.example.role_arn
}

# The permissions the access level grants, for review.
output "permissions_policy_json" {
  value = data.idcbootstrap_template.example.permissions_policy_json
}

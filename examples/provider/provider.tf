terraform {
  required_providers {
    idcbootstrap = {
      source = "idcbootstrap/idcbootstrap"
    }
  }
}

# Defaults shared by every idcbootstrap_template in this configuration. Each
# argument can also come from an IDCBOOTSTRAP_* environment variable (for
# example IDCBOOTSTRAP_TRUSTED_PRINCIPAL_ARN); the block wins over the
# environment. Every argument is optional.
provider "idcbootstrap" {
  # The vendor's IAM principal, the only one the trust role lets in.
  trusted_principal_arn = "arn:aws:iam::111122223333:role/vendor/IdcBootstrapIntegration"
  role_name             = "IdcBootstrapTrustRole"
  access_level          = "read_only"

  tags = {
    managed-by = "terraform"
  }

  # Used only by the connectivity check.
  region              = "us-east-1"
  propagation_timeout = "2m"
}

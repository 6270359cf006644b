terraform {
  required_providers {
    idcbootstrap = {
      source = "idcbootstrap/idcbootstrap"
    }
  }
}

provider "idcbootstrap" {}

# Generates the external ID (128+ bits from a CSPRNG) and keeps it in state.
#
# To rotate: change `rotation` (any new value) and apply. A new `current` ID is
# generated and the old one stays trusted as `previous`. Once the vendor uses
# the new ID, set `retire_previous = true` and apply again. See the rotation
# guide (docs/guides/rotation.md).
resource "idcbootstrap_external_id" "example" {
  rotation        = "2026-01"
  retire_previous = false
}

# Every trusted ID, current first: what idcbootstrap_template.external_ids takes.
output "external_ids" {
  value     = idcbootstrap_external_id.example.all
  sensitive = true
}

output "rotation_state" {
  value = idcbootstrap_external_id.example.rotation_state
}

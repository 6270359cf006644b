# Read by ./aws-role through terraform_remote_state, and by scripts/run.sh.

output "role_arn" {
  description = "The ARN the trust role has once ./aws-role is applied; give it to the vendor."
  value       = data.idcbootstrap_template.trust_role.role_arn
}

output "role_name" {
  value = data.idcbootstrap_template.trust_role.role_name
}

output "role_path" {
  value = var.role_path
}

output "region" {
  value = var.region
}

output "external_ids" {
  description = "The vendor's external IDs the role trusts (two while the vendor rotates)."
  value       = data.idcbootstrap_vendor_external_ids.vendor.all
  sensitive   = true
}

output "registered" {
  description = "Whether the vendor holds this role for your tenant."
  value       = idcbootstrap_vendor_registration.trust_role.configured
}

output "tenant_id" {
  value = idcbootstrap_vendor_registration.trust_role.id
}

output "trust_policy_json" {
  value     = data.idcbootstrap_template.trust_role.trust_policy_json
  sensitive = true
}

output "permissions_policy_json" {
  value = data.idcbootstrap_template.trust_role.permissions_policy_json
}

output "cloudformation_yaml" {
  description = "The same role as a CloudFormation template, for accounts managed with CloudFormation."
  value       = data.idcbootstrap_template.trust_role.cloudformation_yaml
  sensitive   = true
}

output "terraform_hcl" {
  description = "The same role as a standalone hashicorp/aws configuration."
  value       = data.idcbootstrap_template.trust_role.terraform_hcl
  sensitive   = true
}

output "launch_stack_url" {
  description = "Quick-create link for the CloudFormation template hosted at var.template_url."
  value       = data.idcbootstrap_template.trust_role.launch_stack_url
  sensitive   = true
}

output "tested" {
  description = "Whether this apply had the vendor test the role (test = true); a failed test fails the apply."
  value       = var.test
}

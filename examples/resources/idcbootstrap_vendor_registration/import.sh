# A registration is imported by tenant ID: the provider's tenant_id, whose token
# reads it (GET config). The role, instance and region come from the vendor.
terraform import idcbootstrap_vendor_registration.trust_role 2489e9ad-2ee2-4e00-8ec9-32d5f69181c0

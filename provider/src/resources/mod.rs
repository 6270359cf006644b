//! Managed resources. They keep their state in Terraform only; the core decides
//! every rule (generation, rotation).

pub(crate) mod connectivity_check;
pub(crate) mod external_id;
pub(crate) mod vendor;
pub(crate) mod vendor_registration;

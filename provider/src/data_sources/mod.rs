//! Data sources. Each decodes its config into the core's raw request, validates it
//! once with the core, and never sees the wire.

pub(crate) mod connectivity;
pub(crate) mod template;
pub(crate) mod vendor_external_ids;

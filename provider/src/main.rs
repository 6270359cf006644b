//! terraform-provider-idcbootstrap (placeholder until the protocol layer lands).
fn main() {}

//! The connectivity check through Terraform: resource and data source, against local AWS peers.

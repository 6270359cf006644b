//! idcbootstrap-server: the vendor HTTP API of idcbootstrap.
//!
//! It issues each tenant its external IDs (UUID v4, sealed at rest, rotated by
//! compare-and-swap), renders the tenant's trust-role artifacts with the core
//! ([`idcbootstrap::render`]), keeps the role ARN the customer registered, and tests
//! that role with the core's connectivity check and the vendor's own credentials.
//!
//! # What this crate must not know
//!
//! Nothing of IAM's rules, the rendering, or the check's steps: those are the core's
//! (`idcbootstrap`), called with validated types. This crate adds HTTP (axum),
//! storage (sqlx on SQLite or PostgreSQL), tenancy and the CLI.
//!
//! # Layout
//!
//! * [`app`]: settings, state and the router with every layer.
//! * [`api`]: one handler per operation.
//! * [`auth`]: the [`auth::Tenant`] extractor (bearer token, `X-Tenant-ID`, rate limit).
//! * [`store`]: the database, one code path for both engines.
//! * [`crypto`]: AES-256-GCM at rest, token hashes.
//! * [`error`]: the one error type, which is the response.
//! * [`openapi`]: the OpenAPI 3.1 document.
//! * [`logging`]: JSON logs on stderr from a writer thread.
//! * [`cli`]: `serve`, `migrate`, `openapi`, `token`, `rekey`.

pub mod api;
pub mod app;
pub mod auth;
pub mod body;
pub mod cli;
pub mod crypto;
pub mod error;
pub mod logging;
pub mod openapi;
pub mod store;

#[cfg(test)]
mod tests;

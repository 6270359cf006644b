//! End-to-end tests: one binary, one module per behaviour. They drive the built
//! binaries (`cargo build --workspace --bins` first; `scripts/test.sh` does it)
//! against real peers on 127.0.0.1: terraform, a Lambda runtime API, moto.

mod util;

mod connectivity;
mod connectivity_lambda;
mod connectivity_terraform;
mod docs;
mod examples;
mod lambda;
mod regression;
mod server;
mod server_concurrency;
mod server_docs;
mod terraform;
mod vendor_lambda;
mod vendor_terraform;

//! Shared test utilities: repository paths, built binaries, tools installed by
//! `scripts/setup.sh`, temp directories and free ports. Peer-specific harnesses
//! live in their own files beside this one.

#![allow(dead_code)]

pub(crate) mod api_docs;
pub(crate) mod aws;
pub(crate) mod docs;
pub(crate) mod faults;
pub(crate) mod lambda;
pub(crate) mod postgres;
pub(crate) mod server;
pub(crate) mod sweep;
pub(crate) mod terraform;
pub(crate) mod vendor;

use std::net::TcpListener;
use std::path::{Path, PathBuf};

/// Root of the repository (the workspace).
pub(crate) fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ has a parent").to_path_buf()
}

/// Directory holding the built binaries: `IDCB_BIN_DIR`, or the profile directory
/// this test binary was built into (`target/<profile>/`).
pub(crate) fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("IDCB_BIN_DIR") {
        return PathBuf::from(dir);
    }
    let exe = std::env::current_exe().expect("current_exe");
    // target/<profile>/deps/e2e-<hash>
    exe.parent().and_then(Path::parent).expect("test binary lives in target/<profile>/deps").to_path_buf()
}

/// Path of a workspace binary, which must have been built already.
pub(crate) fn built_bin(name: &str) -> PathBuf {
    let path = bin_dir().join(name);
    assert!(
        path.is_file(),
        "{} is not built: run `cargo build --workspace --bins` first (scripts/test.sh does)",
        path.display()
    );
    path
}

/// The Python venv made by `scripts/setup.sh` (`IDCB_VENV` overrides).
pub(crate) fn venv() -> PathBuf {
    std::env::var_os("IDCB_VENV").map(PathBuf::from).unwrap_or_else(|| repo_root().join(".venv"))
}

/// The tools directory made by `scripts/setup.sh` (`IDCB_TOOLS` overrides).
pub(crate) fn tools() -> PathBuf {
    std::env::var_os("IDCB_TOOLS").map(PathBuf::from).unwrap_or_else(|| repo_root().join(".tools"))
}

/// An executable from the venv, which must exist.
pub(crate) fn venv_bin(name: &str) -> PathBuf {
    let path = venv().join("bin").join(name);
    assert!(path.is_file(), "{} is missing: run scripts/setup.sh first", path.display());
    path
}

/// A fresh temporary directory, removed when dropped.
pub(crate) fn temp_dir() -> tempfile::TempDir {
    tempfile::Builder::new().prefix("idcb-e2e-").tempdir().expect("temp dir")
}

/// A port on 127.0.0.1 that was free a moment ago. Prefer binding `127.0.0.1:0`
/// directly and passing the listener; use this only for peers that must be told a
/// port on their command line (moto, emulators).
pub(crate) fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local_addr").port()
}

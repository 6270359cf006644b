//! `idcbootstrap-server`: see `idcbootstrap-server --help` and `server/README.md`.

fn main() -> std::process::ExitCode {
    idcbootstrap_server::cli::main()
}

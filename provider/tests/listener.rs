//! Where the plugin listens, checked on the built binary: a Unix socket in the temp
//! directory (or `PLUGIN_UNIX_SOCKET_DIR`), removed when the plugin stops, as go-plugin
//! does; TCP on 127.0.0.1 with `IDCBOOTSTRAP_PLUGIN_NETWORK=tcp`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const MAGIC: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

/// A fresh directory, removed at the end of the test.
struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("idcb-listener-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Dir(d)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Starts the plugin as Terraform does (no AutoMTLS) and returns it with the
/// handshake line's fields.
fn start(env: &[(&str, &str)]) -> (Child, Vec<String>) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_terraform-provider-idcbootstrap"));
    cmd.env("TF_PLUGIN_MAGIC_COOKIE", MAGIC)
        .env("PLUGIN_PROTOCOL_VERSIONS", "5")
        .env_remove("PLUGIN_CLIENT_CERT")
        .env_remove("IDCBOOTSTRAP_PLUGIN_NETWORK")
        .env_remove("PLUGIN_UNIX_SOCKET_DIR")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    (child, line.trim_end().split('|').map(str::to_owned).collect())
}

fn terminate(child: &mut Child) {
    let ok = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success();
    assert!(ok, "kill -TERM failed");
    let deadline = Instant::now() + Duration::from_secs(10);
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "the plugin did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[cfg(unix)]
fn unix_socket_lifecycle(env: &[(&str, &str)], dir: &Path) {
    use std::os::unix::fs::FileTypeExt;
    let (mut child, fields) = start(env);
    assert_eq!(&fields[..3], ["1", "5", "unix"], "{fields:?}");
    assert_eq!(fields[4], "grpc");
    let path = PathBuf::from(&fields[3]);
    assert_eq!(path.parent(), Some(dir), "{fields:?}");
    let name = path.file_name().unwrap().to_str().unwrap();
    assert!(name.starts_with("plugin") && name[6..].bytes().all(|b| b.is_ascii_digit()), "{name}");
    assert!(std::fs::metadata(&path).unwrap().file_type().is_socket());
    std::os::unix::net::UnixStream::connect(&path).expect("the plugin accepts on its socket");
    terminate(&mut child);
    assert!(!path.exists(), "{} is left behind", path.display());
}

#[cfg(unix)]
#[test]
fn listens_on_a_unix_socket_in_the_temp_directory_and_removes_it() {
    let tmp = Dir::new("tmpdir");
    unix_socket_lifecycle(&[("TMPDIR", tmp.0.to_str().unwrap())], &tmp.0);
}

#[cfg(unix)]
#[test]
fn plugin_unix_socket_dir_wins_over_the_temp_directory() {
    let (tmp, sockets) = (Dir::new("tmpdir2"), Dir::new("sockets"));
    unix_socket_lifecycle(
        &[
            ("TMPDIR", tmp.0.to_str().unwrap()),
            ("PLUGIN_UNIX_SOCKET_DIR", sockets.0.to_str().unwrap()),
            ("IDCBOOTSTRAP_PLUGIN_NETWORK", "unix"),
        ],
        &sockets.0,
    );
}

#[test]
fn tcp_on_loopback_when_asked() {
    let tmp = Dir::new("tcp");
    let (mut child, fields) =
        start(&[("IDCBOOTSTRAP_PLUGIN_NETWORK", "tcp"), ("TMPDIR", tmp.0.to_str().unwrap())]);
    assert_eq!(&fields[..3], ["1", "5", "tcp"], "{fields:?}");
    let addr: std::net::SocketAddr = fields[3].parse().unwrap();
    assert!(addr.ip().is_loopback());
    std::net::TcpStream::connect(addr).expect("the plugin accepts on its port");
    terminate(&mut child);
    assert_eq!(std::fs::read_dir(&tmp.0).unwrap().count(), 0, "no socket file over TCP");
}

#[test]
fn an_unknown_network_is_refused_with_a_sentence() {
    let (mut child, fields) = start(&[("IDCBOOTSTRAP_PLUGIN_NETWORK", "udp")]);
    assert_eq!(fields, [""], "no handshake line");
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(1));
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(err.contains("IDCBOOTSTRAP_PLUGIN_NETWORK=\"udp\""), "{err}");
}

//! The go-plugin handshake: Terraform starts the binary with a magic cookie and the
//! protocol versions it speaks, and reads one line from stdout telling it where and
//! how to connect.

use std::io::Write;

use base64::Engine;

/// The cookie every Terraform release sets; its absence means a human ran the binary.
pub(crate) const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
pub(crate) const MAGIC_COOKIE_VALUE: &str =
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

/// The go-plugin core protocol version (not the tfplugin version).
const CORE_PROTOCOL_VERSION: u32 = 1;
/// The application protocol this binary serves: tfplugin5.
pub(crate) const APP_PROTOCOL_VERSION: u32 = 5;

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum HandshakeError {
    NotLaunchedByTerraform,
    NoCommonVersion(String),
}

impl std::fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HandshakeError::NotLaunchedByTerraform => f.write_str(
                "This binary is a plugin for Terraform and OpenTofu (provider idcbootstrap/idcbootstrap).\n\
                 It is not meant to be run directly: install it as a provider and run `terraform init`.",
            ),
            HandshakeError::NoCommonVersion(offered) => write!(
                f,
                "Terraform offered plugin protocol versions [{offered}] but this provider speaks only {APP_PROTOCOL_VERSION}; \
                 use a Terraform release from 0.12 on."
            ),
        }
    }
}

/// Checks the cookie and picks the protocol version, from an environment lookup.
pub(crate) fn negotiate(env: impl Fn(&str) -> Option<String>) -> Result<u32, HandshakeError> {
    if env(MAGIC_COOKIE_KEY).as_deref() != Some(MAGIC_COOKIE_VALUE) {
        return Err(HandshakeError::NotLaunchedByTerraform);
    }
    match env("PLUGIN_PROTOCOL_VERSIONS") {
        // Clients from before version negotiation expect the plugin's one version.
        None => Ok(APP_PROTOCOL_VERSION),
        Some(list) if list.trim().is_empty() => Ok(APP_PROTOCOL_VERSION),
        Some(list) => {
            if list.split(',').any(|v| v.trim().parse::<u32>() == Ok(APP_PROTOCOL_VERSION)) {
                Ok(APP_PROTOCOL_VERSION)
            } else {
                Err(HandshakeError::NoCommonVersion(list))
            }
        }
    }
}

/// The line Terraform reads: `1|5|unix|/tmp/plugin123|grpc|<base64 DER, no padding>`,
/// or `1|5|tcp|127.0.0.1:PORT|grpc|…`. `network` is go-plugin's name for the
/// listener's kind (`unix` or `tcp`), `address` the socket's path or `IP:PORT`.
pub(crate) fn line(version: u32, network: &str, address: &str, server_cert_der: Option<&[u8]>) -> String {
    let cert = server_cert_der
        .map(|d| base64::engine::general_purpose::STANDARD_NO_PAD.encode(d))
        .unwrap_or_default();
    format!("{CORE_PROTOCOL_VERSION}|{version}|{network}|{address}|grpc|{cert}\n")
}

/// Writes the handshake line to stdout and flushes, so Terraform is not left waiting.
pub(crate) fn announce(line: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(line.as_bytes())?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| (*v).to_owned())
    }

    #[test]
    fn running_by_hand_is_refused_clearly() {
        let e = negotiate(env(&[])).unwrap_err();
        assert_eq!(e, HandshakeError::NotLaunchedByTerraform);
        assert!(e.to_string().contains("plugin for Terraform"));
        assert!(negotiate(env(&[(MAGIC_COOKIE_KEY, "wrong")])).is_err());
    }

    #[test]
    fn version_5_is_negotiated() {
        assert_eq!(negotiate(env(&[(MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE)])), Ok(5));
        assert_eq!(
            negotiate(env(&[(MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE), ("PLUGIN_PROTOCOL_VERSIONS", "4,5")])),
            Ok(5)
        );
        assert!(matches!(
            negotiate(env(&[(MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE), ("PLUGIN_PROTOCOL_VERSIONS", "6")])),
            Err(HandshakeError::NoCommonVersion(_))
        ));
    }

    #[test]
    fn handshake_line_has_go_plugins_shape() {
        assert_eq!(line(5, "tcp", "127.0.0.1:4242", None), "1|5|tcp|127.0.0.1:4242|grpc|\n");
        assert_eq!(line(5, "unix", "/tmp/plugin42", None), "1|5|unix|/tmp/plugin42|grpc|\n");
        let l = line(5, "unix", "/tmp/plugin42", Some(&[0xff; 60]));
        let cert = l.trim_end().rsplit('|').next().unwrap();
        assert!(!cert.ends_with('='), "no padding: go-plugin decodes with RawStdEncoding");
        assert_eq!(base64::engine::general_purpose::STANDARD_NO_PAD.decode(cert).unwrap(), vec![0xff; 60]);
    }
}

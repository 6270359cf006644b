//! The secrets sweep: after a suite's scenario, every text it produced (command
//! output and diagnostics, plan output, log lines, Terraform state, responses) is
//! searched for every external ID, token and credential it used. A hit fails.
//! Other suites (the Lambda's, the vendor API's) add their texts with [`Sweep::text`].
//!
//! The sweep proves it had something to search: it refuses to pass with no secret,
//! with a secret too short to search for, with nothing to search in, with an empty
//! log or output, or with a log that holds none of the provider's own lines. An
//! external ID must also be found where it belongs (the state, when one is added),
//! so a list of IDs read from a state shape that did not match cannot pass as
//! "nothing leaked".
//!
//! ```ignore
//! let mut sweep = Sweep::new("lifecycle");
//! sweep.external_ids(&ids).credential(VENDOR_SECRET).workspace(&ws);
//! sweep.check();
//! ```

use super::terraform::Workspace;

/// What kind of text a place holds: external IDs may be in state, nowhere else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    /// Command output, diagnostics, plan output, HTTP responses.
    Output,
    /// Log lines (Terraform's TRACE log with the provider's lines, a server's log).
    Log,
    /// Terraform state: holds the external IDs by design (sensitive attributes are
    /// stored in state), never a credential or token.
    State,
}

/// One sweep over the texts of one scenario.
pub(crate) struct Sweep {
    scenario: String,
    ids: Vec<String>,
    credentials: Vec<String>,
    texts: Vec<(String, Place, String)>,
    provider_log: bool,
}

/// The provider's own log lines in Terraform's log carry this (its hclog module).
pub(crate) const PROVIDER_LOG_MARK: &str = "@module=idcbootstrap";

impl Sweep {
    /// A sweep for `scenario` (named in failures).
    pub(crate) fn new(scenario: &str) -> Sweep {
        Sweep {
            scenario: scenario.to_owned(),
            ids: Vec::new(),
            credentials: Vec::new(),
            texts: Vec::new(),
            provider_log: false,
        }
    }

    /// External IDs the scenario used: allowed in state only.
    pub(crate) fn external_ids<S: AsRef<str>>(&mut self, ids: &[S]) -> &mut Self {
        self.ids.extend(ids.iter().map(|s| s.as_ref().to_owned()));
        self
    }

    /// A credential or token the scenario used: allowed nowhere.
    pub(crate) fn credential(&mut self, secret: &str) -> &mut Self {
        self.credentials.push(secret.to_owned());
        self
    }

    /// A text to search.
    pub(crate) fn text(&mut self, name: &str, place: Place, text: &str) -> &mut Self {
        self.texts.push((name.to_owned(), place, text.to_owned()));
        self
    }

    /// Every text a Terraform workspace produced: each command's stdout and stderr
    /// (plans, diagnostics, outputs), the TRACE log (Terraform's and the provider's
    /// lines), and the state files (and their backups) in its directory. The log must
    /// hold the provider's own lines.
    pub(crate) fn workspace(&mut self, ws: &Workspace) -> &mut Self {
        self.text("terraform output", Place::Output, &ws.transcript());
        self.text("TRACE log", Place::Log, &ws.log());
        self.provider_log = true;
        if let Ok(dir) = std::fs::read_dir(&ws.dir) {
            for entry in dir.flatten() {
                let path = entry.path();
                let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
                // Plan output is in the transcript; a saved plan file is a zip archive
                // (compressed, so searching its bytes would prove nothing) and is left out.
                let place = if name.starts_with("terraform.tfstate") {
                    Place::State
                } else {
                    continue;
                };
                let bytes = std::fs::read(&path).unwrap_or_default();
                self.text(&name, place, &String::from_utf8_lossy(&bytes));
            }
        }
        self
    }

    /// Runs the sweep; panics naming the scenario, the place and the kind of secret.
    #[track_caller]
    pub(crate) fn check(&self) {
        let s = &self.scenario;
        assert!(!self.ids.is_empty() || !self.credentials.is_empty(), "{s}: the sweep was given no secret");
        for secret in self.ids.iter().chain(&self.credentials) {
            assert!(
                secret.len() >= 8,
                "{s}: a secret of {} characters is too short to search for",
                secret.len()
            );
        }
        assert!(!self.texts.is_empty(), "{s}: the sweep was given nothing to search");
        for (name, place, text) in &self.texts {
            if *place != Place::State {
                assert!(!text.trim().is_empty(), "{s}: {name} is empty, so searching it proves nothing");
            }
        }
        if self.provider_log {
            let lines = self
                .texts
                .iter()
                .filter(|(_, p, _)| *p == Place::Log)
                .flat_map(|(_, _, t)| t.lines())
                .filter(|l| l.contains(PROVIDER_LOG_MARK))
                .count();
            assert!(lines > 0, "{s}: the log holds none of the provider's own lines ({PROVIDER_LOG_MARK})");
        }
        let states: Vec<&str> =
            self.texts.iter().filter(|(_, p, _)| *p == Place::State).map(|(_, _, t)| t.as_str()).collect();
        if !states.is_empty() {
            for (i, id) in self.ids.iter().enumerate() {
                assert!(
                    states.iter().any(|t| t.contains(id.as_str())),
                    "{s}: external ID #{i} is in no state file, so it is not one this run used"
                );
            }
        }
        for (name, place, text) in &self.texts {
            for (i, id) in self.ids.iter().enumerate() {
                if *place != Place::State {
                    for form in forms(id) {
                        assert!(!text.contains(form.as_str()), "{s}: external ID #{i} appears in {name}");
                    }
                }
            }
            for (i, c) in self.credentials.iter().enumerate() {
                for form in forms(c) {
                    assert!(!text.contains(form.as_str()), "{s}: credential #{i} appears in {name}");
                }
            }
        }
    }
}

/// A secret as written and percent-encoded (as a query string or form body carries it).
fn forms(secret: &str) -> Vec<String> {
    let mut enc = String::new();
    for b in secret.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            enc.push(char::from(b));
        } else {
            enc.push_str(&format!("%{b:02X}"));
        }
    }
    if enc == secret { vec![secret.to_owned()] } else { vec![secret.to_owned(), enc] }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn panics(f: impl FnOnce() + std::panic::UnwindSafe) -> bool {
        std::panic::catch_unwind(f).is_err()
    }

    #[test]
    fn sweep_finds_leaks_and_refuses_to_search_nothing() {
        let id = "external-id-for-sweep-0001";
        let clean = || {
            let mut s = Sweep::new("t");
            s.external_ids(&[id]).credential("secret/key+0001");
            s.text("state", Place::State, &format!("{{\"current\":\"{id}\"}}"));
            s.text("out", Place::Output, "Apply complete!");
            s
        };
        clean().check();
        assert!(panics(|| {
            let mut s = clean();
            s.text("log", Place::Log, &format!("debug: ExternalId={id}"));
            s.check();
        }));
        assert!(panics(|| {
            let mut s = clean();
            s.text("log", Place::Log, "ok secret%2Fkey%2B0001");
            s.check();
        }));
        assert!(panics(|| Sweep::new("no secrets").text("out", Place::Output, "x").check()));
        assert!(panics(|| Sweep::new("nothing to search").external_ids(&[id]).check()));
        assert!(panics(|| {
            let mut s = clean();
            s.text("empty log", Place::Log, "");
            s.check();
        }));
        // IDs read from a state shape that did not match are not the ones in state.
        assert!(panics(|| {
            let mut s = clean();
            s.external_ids(&["some-other-id-0002"]);
            s.check();
        }));
    }
}

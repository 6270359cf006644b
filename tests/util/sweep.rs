//! The secrets sweep: after a suite's scenario, every text it produced (command
//! output and diagnostics, plan output, log lines, Terraform state, responses) is
//! searched for every external ID, token and credential it used. A hit fails.
//! The Lambda's suites add the function's log, its invocation results and every
//! CloudFormation response with [`Sweep::function`] and [`Sweep::cfn_response`]; the
//! vendor API's add the server's output and replies with [`Sweep::text`].
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

/// What kind of text a place holds: external IDs may be in state and in the
/// outputs meant to return them, nowhere else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    /// Command output, diagnostics, plan output, HTTP responses.
    Output,
    /// Log lines (Terraform's TRACE log with the provider's lines, a server's log).
    Log,
    /// Terraform state: holds the external IDs by design (sensitive attributes are
    /// stored in state), never a credential or token.
    State,
    /// An output meant to return the external IDs: one `Data` field of a `NoEcho`
    /// CloudFormation response whose type returns them (see [`ID_OUTPUTS`]), or a
    /// successful vendor API reply that returns them (see [`ID_REPLIES`]). Holds
    /// IDs, never a credential.
    IdOutput,
}

impl Place {
    /// Where external IDs belong.
    fn holds_ids(self) -> bool {
        matches!(self, Place::State | Place::IdOutput)
    }
}

/// The CloudFormation outputs (`Data` fields) that carry external IDs by design, by
/// resource type; only in a response with `NoEcho: true`. Every other part of every
/// response (`Reason`, `PhysicalResourceId`, the other `Data` fields, any field of
/// any other type, and these fields too when `NoEcho` is not `true`) is searched.
pub(crate) const ID_OUTPUTS: &[(&str, &[&str])] = &[
    ("Custom::IdcExternalId", &["ExternalId", "PreviousExternalId", "ExternalIds"]),
    // The quick-create link carries the IDs as `param_ExternalId…` parameters.
    ("Custom::IdcBootstrapTemplate", &["TrustPolicy", "ExternalIds", "LaunchStackUrl"]),
    ("Custom::IdcVendorExternalIds", &["Current", "Pending", "All"]),
];

/// The vendor API's operations (method, path after the prefix) whose successful
/// replies return external IDs by design: the template (its trust policy), the IDs,
/// and the rotation's steps. Every other reply, and any reply of these that is not
/// 2xx, is searched.
pub(crate) const ID_REPLIES: &[(&str, &str)] = &[
    ("POST", "/bootstrap-template"),
    ("GET", "/external-id"),
    ("POST", "/external-id/rotate"),
    ("POST", "/external-id/commit"),
    ("POST", "/external-id/cancel"),
];

/// One sweep over the texts of one scenario.
pub(crate) struct Sweep {
    scenario: String,
    ids: Vec<String>,
    /// IDs given as input, which may never be rendered: not required where IDs belong.
    given_ids: Vec<String>,
    credentials: Vec<String>,
    texts: Vec<(String, Place, String)>,
    /// Marks of which the logs must hold at least one line each.
    log_marks: Vec<String>,
    /// CloudFormation responses, split by [`Sweep::check`] once every event is known.
    responses: Vec<(String, Vec<u8>)>,
    /// `RequestId` → `ResourceType` of every event the function was given.
    request_types: std::collections::HashMap<String, String>,
}

/// The provider's own log lines in Terraform's log carry this (its hclog module).
pub(crate) const PROVIDER_LOG_MARK: &str = "@module=idcbootstrap";

impl Sweep {
    /// A sweep for `scenario` (named in failures).
    pub(crate) fn new(scenario: &str) -> Sweep {
        Sweep {
            scenario: scenario.to_owned(),
            ids: Vec::new(),
            given_ids: Vec::new(),
            credentials: Vec::new(),
            texts: Vec::new(),
            log_marks: Vec::new(),
            responses: Vec::new(),
            request_types: std::collections::HashMap::new(),
        }
    }

    /// External IDs the scenario used: allowed in state only.
    pub(crate) fn external_ids<S: AsRef<str>>(&mut self, ids: &[S]) -> &mut Self {
        self.ids.extend(ids.iter().map(|s| s.as_ref().to_owned()));
        self
    }

    /// External IDs the scenario only gave as input (a property of a request that
    /// may fail before anything is rendered): allowed where IDs belong, like
    /// [`Sweep::external_ids`], but not required to be found there.
    pub(crate) fn given_ids<S: AsRef<str>>(&mut self, ids: &[S]) -> &mut Self {
        self.given_ids.extend(ids.iter().map(|s| s.as_ref().to_owned()));
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
        self.log_mark(PROVIDER_LOG_MARK);
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

    /// The logs must hold at least one line with `mark` (the program's own lines), so
    /// a log of someone else's lines only cannot pass as searched.
    pub(crate) fn log_mark(&mut self, mark: &str) -> &mut Self {
        self.log_marks.push(mark.to_owned());
        self
    }

    /// Everything the Lambda function behind `api` produced: its log (stdout and
    /// stderr, which must hold its own JSON lines) and what it reported to the
    /// Runtime API for each invocation. Its events tell [`Sweep::cfn_response`]
    /// each response's resource type.
    pub(crate) fn function(&mut self, api: &super::lambda::RuntimeApi) -> &mut Self {
        self.text("the function's log", Place::Log, &api.logs());
        self.log_mark(super::lambda::FUNCTION_LOG_MARK);
        for (event, outcome) in api.invocations() {
            if let (Some(id), Some(t)) = (event["RequestId"].as_str(), event["ResourceType"].as_str()) {
                self.request_types.insert(id.to_owned(), t.to_owned());
            }
            if let Some(outcome) = outcome {
                self.text("an invocation's result", Place::Output, &format!("{outcome:?}"));
            }
        }
        self
    }

    /// Every CloudFormation response body of the scenario (see [`Sweep::cfn_response`]);
    /// there must be at least one.
    pub(crate) fn cfn_responses(&mut self, bodies: &[Vec<u8>]) -> &mut Self {
        assert!(!bodies.is_empty(), "{}: no CloudFormation response to search", self.scenario);
        for (i, body) in bodies.iter().enumerate() {
            self.cfn_response(&format!("CloudFormation response #{i}"), body);
        }
        self
    }

    /// Everything a vendor API deployment produced: every process's output (which
    /// must hold the server's own JSON lines) and every reply its clients got, each
    /// searched unless it is one meant to return the IDs ([`ID_REPLIES`]).
    pub(crate) fn vendor_api(&mut self, dep: &super::server::Deployment) -> &mut Self {
        self.text("the server's output", Place::Log, &dep.output());
        self.log_mark(super::server::SERVER_LOG_MARK);
        for x in dep.replies() {
            let op = x.path.strip_prefix(super::server::PREFIX).unwrap_or(&x.path);
            let returns_ids = (200..300).contains(&x.reply.status)
                && ID_REPLIES.iter().any(|(m, p)| *m == x.method && *p == op);
            let place = if returns_ids { Place::IdOutput } else { Place::Output };
            let text = format!("{} {:?}\n\n{}", x.reply.status, x.reply.headers, x.reply.body);
            self.text(&format!("the reply to {} {}", x.method, x.path), place, &text);
        }
        self
    }

    /// One CloudFormation response body. Only the [`ID_OUTPUTS`] of its type (known
    /// from the event with its `RequestId`, given to [`Sweep::function`]) in a
    /// `NoEcho` response may hold external IDs; the rest is searched for them.
    pub(crate) fn cfn_response(&mut self, name: &str, body: &[u8]) -> &mut Self {
        self.responses.push((name.to_owned(), body.to_vec()));
        self
    }

    /// The responses, split into where IDs belong and the rest.
    fn response_texts(&self) -> Vec<(String, Place, String)> {
        let mut texts = Vec::new();
        for (name, body) in &self.responses {
            let Ok(serde_json::Value::Object(mut answer)) = serde_json::from_slice(body) else {
                texts.push((name.clone(), Place::Output, String::from_utf8_lossy(body).into_owned()));
                continue;
            };
            let rtype =
                answer.get("RequestId").and_then(|v| v.as_str()).and_then(|id| self.request_types.get(id));
            let outputs =
                rtype.and_then(|t| ID_OUTPUTS.iter().find(|(k, _)| k == t)).map_or(&[][..], |(_, f)| *f);
            if answer.get("NoEcho") == Some(&serde_json::Value::Bool(true))
                && let Some(serde_json::Value::Object(data)) = answer.get_mut("Data")
            {
                for field in outputs {
                    if let Some(v) = data.remove(*field) {
                        let text = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                        texts.push((format!("{name} Data.{field} (NoEcho)"), Place::IdOutput, text));
                    }
                }
            }
            texts.push((name.clone(), Place::Output, serde_json::Value::Object(answer).to_string()));
        }
        texts
    }

    /// Runs the sweep; panics naming the scenario, the place and the kind of secret.
    #[track_caller]
    pub(crate) fn check(&self) {
        let s = &self.scenario;
        let mut texts = self.texts.clone();
        texts.extend(self.response_texts());
        let texts = &texts;
        let all_ids: Vec<&String> = self.ids.iter().chain(&self.given_ids).collect();
        assert!(!all_ids.is_empty() || !self.credentials.is_empty(), "{s}: the sweep was given no secret");
        for secret in all_ids.iter().copied().chain(&self.credentials) {
            assert!(
                secret.len() >= 8,
                "{s}: a secret of {} characters is too short to search for",
                secret.len()
            );
        }
        assert!(!texts.is_empty(), "{s}: the sweep was given nothing to search");
        for (name, place, text) in texts {
            if !place.holds_ids() {
                assert!(!text.trim().is_empty(), "{s}: {name} is empty, so searching it proves nothing");
            }
        }
        for mark in &self.log_marks {
            let lines = texts
                .iter()
                .filter(|(_, p, _)| *p == Place::Log)
                .flat_map(|(_, _, t)| t.lines())
                .filter(|l| l.contains(mark.as_str()))
                .count();
            assert!(lines > 0, "{s}: the log holds none of the program's own lines ({mark})");
        }
        let states: Vec<&str> =
            texts.iter().filter(|(_, p, _)| p.holds_ids()).map(|(_, _, t)| t.as_str()).collect();
        if !states.is_empty() {
            for (i, id) in self.ids.iter().enumerate() {
                assert!(
                    states.iter().any(|t| t.contains(id.as_str())),
                    "{s}: external ID #{i} is in no state file and no output meant for it, so it is not one this run used"
                );
            }
        }
        for (name, place, text) in texts {
            for (i, id) in all_ids.iter().enumerate() {
                if !place.holds_ids() {
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

    #[test]
    fn cfn_responses_hold_ids_only_in_the_no_echo_outputs_of_their_type() {
        let id = "external-id-for-sweep-0003";
        let answer = |no_echo: bool, request: &str, data: &str, reason: &str| {
            format!(
                "{{\"Status\":\"SUCCESS\",\"RequestId\":\"{request}\",\"NoEcho\":{no_echo},\
                 \"Reason\":\"{reason}\",\"Data\":{{{data}}}}}"
            )
        };
        let sweep = |body: String| {
            let mut s = Sweep::new("t");
            s.external_ids(&[id]).credential("a-credential-0003").log_mark("own line");
            s.request_types.insert("xid".into(), "Custom::IdcExternalId".into());
            s.request_types.insert("check".into(), "Custom::IdcConnectivityCheck".into());
            s.text("log", Place::Log, "own line").cfn_response("answer", body.as_bytes());
            s
        };
        let ok = format!("\"ExternalId\":\"{id}\",\"RotationState\":\"steady\"");
        sweep(answer(true, "xid", &ok, "")).check();
        // The same ID anywhere else: another field, the reason, a response without
        // NoEcho, a type whose outputs carry no ID, an event never seen.
        let elsewhere = format!("\"ExternalId\":\"{id}\",\"Note\":\"{id}\"");
        assert!(panics(|| sweep(answer(true, "xid", &elsewhere, "")).check()));
        assert!(panics(|| sweep(answer(true, "xid", &ok, id)).check()));
        assert!(panics(|| sweep(answer(false, "xid", &ok, "")).check()));
        assert!(panics(|| sweep(answer(true, "check", &ok, "")).check()));
        assert!(panics(|| sweep(answer(true, "unknown", &ok, "")).check()));
        // A credential is allowed nowhere, an ID output included.
        let credential = "\"ExternalId\":\"a-credential-0003\"";
        assert!(panics(|| sweep(answer(true, "xid", credential, "")).check()));
        // The log must hold the program's own lines.
        assert!(panics(|| {
            let mut s = sweep(answer(true, "xid", &ok, ""));
            s.log_mark("a line nobody wrote");
            s.check();
        }));
        // An ID given only as input need not be found; one made by the run must be.
        let mut s = sweep(answer(true, "xid", &ok, ""));
        s.given_ids(&["given-as-input-0004"]).check();
        assert!(panics(|| {
            let mut s = sweep(answer(true, "xid", &ok, ""));
            s.external_ids(&["made-but-not-found-0005"]);
            s.check();
        }));
    }
}

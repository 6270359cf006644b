//! Harness for driving the real `terraform` CLI against the built provider, on any
//! Terraform version the project installs.
//!
//! Versions come from `.tools/terraform/matrix.tsv` (made by `scripts/setup.sh`);
//! without it, the `terraform` on PATH is used alone. `IDCB_TF_VERSIONS="1.11.4
//! 0.12.29"` narrows the run. Each [`Workspace`] has its own temp HOME, CLI config,
//! plugin layout for its version's loader, and a TRACE log; every command's output
//! is recorded so tests can search all of it (e.g. for a secret).

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::{built_bin, repo_root, temp_dir, tools};

/// The provider's source address and the version the local layouts claim.
pub(crate) const SOURCE: &str = "idcbootstrap/idcbootstrap";
pub(crate) const PROVIDER_VERSION: &str = env!("CARGO_PKG_VERSION");
const BINARY: &str = "terraform-provider-idcbootstrap";

/// How a Terraform version loads a provider that is not in a registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Loader {
    /// 0.12: `terraform init -plugin-dir=DIR`, `terraform-provider-NAME_vVERSION` flat in DIR.
    PluginDir,
    /// 0.13: a `filesystem_mirror` in the CLI config, then `terraform init`.
    FilesystemMirror,
    /// 0.14 and later: `dev_overrides` in the CLI config, no init.
    DevOverrides,
}

/// One Terraform CLI.
#[derive(Debug, Clone)]
pub(crate) struct Terraform {
    pub(crate) version: String,
    pub(crate) cli: PathBuf,
    pub(crate) loader: Loader,
}

impl Terraform {
    /// (major, minor, patch), for version-dependent expectations.
    pub(crate) fn semver(&self) -> (u32, u32, u32) {
        let mut it = self.version.split('.').map(|p| p.parse().unwrap_or(0));
        (it.next().unwrap_or(0), it.next().unwrap_or(0), it.next().unwrap_or(0))
    }

    /// Whether this version's core checks configuration against the schema itself
    /// (the 0.12–0.14 builds installed here do not; see scripts/TERRAFORM_VERSIONS.md).
    pub(crate) fn checks_schema(&self) -> bool {
        self.semver() >= (0, 15, 0)
    }

    /// A fresh workspace for this version.
    pub(crate) fn workspace(&self) -> Workspace {
        Workspace::new(self.clone())
    }
}

/// The matrix covers both of the provider's listeners: versions with an odd patch
/// number (0.12.29, 1.0.3 and 1.15.5 of the pinned set) reach it over TCP
/// (`IDCBOOTSTRAP_PLUGIN_NETWORK=tcp`, its listener where a platform has no Unix
/// sockets), the others, 1.11.4 included, over the Unix socket it opens by default.
pub(crate) fn plugin_network(tf: &Terraform) -> &'static str {
    if tf.semver().2 % 2 == 1 { "tcp" } else { "unix" }
}

/// Whether the run must have every Terraform version it names (`CI=true`, as
/// `.ci/run` sets): then a version that is missing fails the test that wanted it,
/// instead of the matrix shrinking without anyone noticing.
pub(crate) fn strict() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Says on the test runner's own stderr (not captured by libtest, so it shows in
/// every run) that a test ran less than its name promises; each note once.
pub(crate) fn report(note: &str) {
    use std::io::Write as _;
    static SEEN: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let mut seen = SEEN.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if !seen.iter().any(|s| s == note) {
        seen.push(note.to_owned());
        let _ = writeln!(std::io::stderr(), "note: {note}");
    }
}

/// Reports a version-specific narrowing of a scenario (a step an old build cannot do).
pub(crate) fn report_narrowing(tf: &Terraform, what: &str) {
    report(&format!("Terraform {} narrowed: {what}", tf.version));
}

/// The versions `scripts/terraform-versions.tsv` pins: what the matrix must hold.
pub(crate) fn pinned_versions() -> Vec<String> {
    let text = std::fs::read_to_string(repo_root().join("scripts/terraform-versions.tsv"))
        .expect("scripts/terraform-versions.tsv");
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split('\t').next().map(str::to_owned))
        .collect()
}

/// Every installed version (the matrix), narrowed by `IDCB_TF_VERSIONS`.
///
/// A version the matrix lists without its CLI, or one `scripts/terraform-versions.tsv`
/// pins that the matrix lacks, fails under [`strict`] and is reported otherwise. With
/// no matrix at all (outside CI), the `terraform` on PATH is used, labelled with the
/// version it reports. `IDCB_TF_VERSIONS` naming a version that is not installed fails.
pub(crate) fn versions() -> Vec<Terraform> {
    let matrix = tools().join("terraform").join("matrix.tsv");
    let mut missing = Vec::new();
    let mut all: Vec<Terraform> = match std::fs::read_to_string(&matrix) {
        Ok(text) => text
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .filter_map(|l| {
                let mut f = l.split('\t');
                let (version, cli, loader) = (f.next()?, f.next()?, f.next()?);
                let loader = match loader.trim() {
                    "plugin-dir" => Loader::PluginDir,
                    "filesystem-mirror" => Loader::FilesystemMirror,
                    _ => Loader::DevOverrides,
                };
                Some(Terraform { version: version.to_owned(), cli: PathBuf::from(cli), loader })
            })
            .filter(|t| {
                let there = t.cli.exists();
                if !there {
                    missing.push(format!(
                        "{} (matrix names {}, which does not exist)",
                        t.version,
                        t.cli.display()
                    ));
                }
                there
            })
            .collect(),
        Err(_) => Vec::new(),
    };
    if all.is_empty() && missing.is_empty() {
        assert!(!strict(), "{} is missing under CI=true: run scripts/setup.sh", matrix.display());
        report(&format!("no Terraform matrix at {}: only the terraform on PATH runs", matrix.display()));
        all.push(path_terraform());
    } else {
        for v in pinned_versions() {
            if !all.iter().any(|t| t.version == v) && !missing.iter().any(|m| m.starts_with(&format!("{v} ")))
            {
                missing
                    .push(format!("{v} (pinned in scripts/terraform-versions.tsv, absent from the matrix)"));
            }
        }
    }
    if !missing.is_empty() {
        let text = format!("Terraform versions missing: {}", missing.join("; "));
        assert!(!strict(), "{text}; run scripts/setup.sh");
        report(&format!("{text}; those versions are skipped"));
    }
    if let Ok(only) = std::env::var("IDCB_TF_VERSIONS") {
        let only: Vec<&str> = only.split([' ', ',']).filter(|s| !s.is_empty()).collect();
        for v in &only {
            assert!(
                all.iter().any(|t| t.version == *v),
                "IDCB_TF_VERSIONS names {v}, which is not installed"
            );
        }
        let left_out: Vec<&str> =
            all.iter().map(|t| t.version.as_str()).filter(|v| !only.contains(v)).collect();
        if !left_out.is_empty() {
            report(&format!("IDCB_TF_VERSIONS narrows the matrix; not run: {}", left_out.join(" ")));
        }
        all.retain(|t| only.contains(&t.version.as_str()));
    }
    all
}

/// The `terraform` on PATH, labelled with the version it reports.
fn path_terraform() -> Terraform {
    let out = Command::new("terraform").arg("version").env("CHECKPOINT_DISABLE", "1").output();
    let text = out.map(|o| String::from_utf8_lossy(&o.stdout).into_owned()).unwrap_or_default();
    let version = text
        .split_whitespace()
        .find_map(|w| w.strip_prefix('v'))
        .filter(|v| v.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .unwrap_or_else(|| {
            panic!("no Terraform: the matrix is missing and `terraform version` said {text:?}")
        })
        .to_owned();
    let loader = match version.as_str() {
        v if v.starts_with("0.12.") => Loader::PluginDir,
        v if v.starts_with("0.13.") => Loader::FilesystemMirror,
        _ => Loader::DevOverrides,
    };
    Terraform { version, cli: PathBuf::from("terraform"), loader }
}

/// The version tests use when one is enough: 1.11.4 from the matrix. Without it,
/// the `terraform` on PATH under its own version label (reported), or a failure
/// under [`strict`].
pub(crate) fn default_version() -> Terraform {
    let from_matrix = tools().join("terraform").join("1.11.4").join("terraform");
    if from_matrix.exists() {
        return Terraform { version: "1.11.4".into(), cli: from_matrix, loader: Loader::DevOverrides };
    }
    assert!(!strict(), "Terraform 1.11.4 is missing from {} under CI=true", from_matrix.display());
    let tf = path_terraform();
    report(&format!(
        "Terraform 1.11.4 is not installed; single-version tests use the terraform on PATH ({})",
        tf.version
    ));
    tf
}

/// The installed version `version`, for a test about that version alone. Missing, it
/// fails under [`strict`] and is reported as skipped otherwise (`None`).
pub(crate) fn named_version(version: &str, test: &str) -> Option<Terraform> {
    let found = versions().into_iter().find(|t| t.version == version);
    if found.is_none() {
        let narrowed = std::env::var("IDCB_TF_VERSIONS").is_ok_and(|only| !only.contains(version));
        assert!(narrowed || !strict(), "{test} needs Terraform {version}, which is not installed (CI=true)");
        report(&format!("{test} SKIPPED: Terraform {version} is not installed"));
    }
    found
}

/// The result of one command.
#[derive(Debug)]
pub(crate) struct Run {
    pub(crate) args: Vec<String>,
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Run {
    /// Panics with the whole output unless the command exited 0.
    #[track_caller]
    pub(crate) fn ok(self) -> Self {
        assert_eq!(self.code, 0, "terraform {} failed:\n{}", self.args.join(" "), self.both());
        self
    }

    /// Panics with the whole output unless the command failed.
    #[track_caller]
    pub(crate) fn failed(self) -> Self {
        assert_ne!(self.code, 0, "terraform {} should have failed:\n{}", self.args.join(" "), self.both());
        self
    }

    pub(crate) fn both(&self) -> String {
        format!("--- stdout\n{}\n--- stderr\n{}", self.stdout, self.stderr)
    }
}

/// A command started by [`Workspace::spawn`].
pub(crate) struct Spawned {
    /// The running `terraform` process.
    pub(crate) child: std::process::Child,
    out: PathBuf,
    err: PathBuf,
    args: Vec<String>,
}

/// A working directory for one Terraform version, with the provider installed the
/// way that version expects.
pub(crate) struct Workspace {
    pub(crate) tf: Terraform,
    _tmp: tempfile::TempDir,
    pub(crate) dir: PathBuf,
    home: PathBuf,
    cli_config: PathBuf,
    plugin_dir: PathBuf,
    log: PathBuf,
    env: Vec<(String, String)>,
    transcript: RefCell<Vec<String>>,
}

impl Workspace {
    fn new(tf: Terraform) -> Self {
        let tmp = temp_dir();
        let root = tmp.path().to_path_buf();
        let (dir, home, plugins) = (root.join("work"), root.join("home"), root.join("plugins"));
        for d in [&dir, &home, &plugins] {
            std::fs::create_dir_all(d).expect("create dirs");
        }
        let bin = built_bin(BINARY);
        let cli_config = root.join("cli.tfrc");
        let config = match tf.loader {
            Loader::DevOverrides => format!(
                "provider_installation {{\n  dev_overrides {{\n    \"{SOURCE}\" = \"{}\"\n  }}\n  direct {{}}\n}}\n",
                bin.parent().expect("bin dir").display()
            ),
            Loader::FilesystemMirror => {
                let d = plugins
                    .join("registry.terraform.io")
                    .join(SOURCE)
                    .join(PROVIDER_VERSION)
                    .join("linux_amd64");
                std::fs::create_dir_all(&d).expect("mirror dir");
                install(&bin, &d.join(format!("{BINARY}_v{PROVIDER_VERSION}")));
                format!(
                    "provider_installation {{\n  filesystem_mirror {{\n    path = \"{}\"\n  }}\n}}\n",
                    plugins.display()
                )
            }
            Loader::PluginDir => {
                install(&bin, &plugins.join(format!("{BINARY}_v{PROVIDER_VERSION}")));
                String::new()
            }
        };
        std::fs::write(&cli_config, config).expect("cli config");
        let env = vec![("IDCBOOTSTRAP_PLUGIN_NETWORK".to_owned(), plugin_network(&tf).to_owned())];
        Workspace {
            tf,
            dir,
            home,
            cli_config,
            plugin_dir: plugins,
            log: root.join("terraform.log"),
            env,
            _tmp: tmp,
            transcript: RefCell::new(Vec::new()),
        }
    }

    /// Sets an environment variable for every later command (and the provider).
    pub(crate) fn set_env(&mut self, k: &str, v: &str) {
        self.env.push((k.to_owned(), v.to_owned()));
    }

    /// Writes `main.tf`, with the `required_providers` block every version accepts.
    pub(crate) fn write_config(&self, body: &str) {
        let header = format!(
            "terraform {{\n  required_providers {{\n    idcbootstrap = {{\n      source = \"{SOURCE}\"\n    }}\n  }}\n}}\n\n"
        );
        std::fs::write(self.dir.join("main.tf"), header + body).expect("write main.tf");
    }

    /// Writes any file in the working directory.
    pub(crate) fn write_file(&self, name: &str, content: &str) {
        std::fs::write(self.dir.join(name), content).expect("write file");
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Starts `terraform ARGS` without waiting (for tests that interrupt it); finish
    /// it with [`Workspace::finish`].
    pub(crate) fn spawn(&self, args: &[&str]) -> Spawned {
        let n = self.transcript.borrow().len();
        let (out, err) = (self.dir.join(format!(".spawn-{n}.out")), self.dir.join(format!(".spawn-{n}.err")));
        let mut cmd = self.command(args);
        cmd.stdin(std::process::Stdio::null())
            .stdout(std::fs::File::create(&out).expect("stdout file"))
            .stderr(std::fs::File::create(&err).expect("stderr file"));
        let child = cmd.spawn().unwrap_or_else(|e| panic!("cannot run {}: {e}", self.tf.cli.display()));
        Spawned { child, out, err, args: args.iter().map(|s| (*s).to_owned()).collect() }
    }

    /// Waits for a spawned command, at most `within` (then kills it and panics: a
    /// hang guard, not a speed test); its output joins the transcript.
    pub(crate) fn finish(&self, mut s: Spawned, within: std::time::Duration) -> Run {
        let until = std::time::Instant::now() + within;
        let status = loop {
            if let Some(status) = s.child.try_wait().expect("try_wait") {
                break status;
            }
            if std::time::Instant::now() > until {
                let _ = s.child.kill();
                let _ = s.child.wait();
                panic!("terraform {} still running after {within:?}", s.args.join(" "));
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        };
        let run = Run {
            args: s.args,
            code: status.code().unwrap_or(-1),
            stdout: std::fs::read_to_string(&s.out).unwrap_or_default(),
            stderr: std::fs::read_to_string(&s.err).unwrap_or_default(),
        };
        self.transcript.borrow_mut().push(format!("$ terraform {}\n{}", run.args.join(" "), run.both()));
        run
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.tf.cli);
        cmd.args(args)
            .current_dir(&self.dir)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("TF_CLI_CONFIG_FILE", &self.cli_config)
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_IN_AUTOMATION", "1")
            .env("TF_LOG", "TRACE")
            .env("TF_LOG_PATH", &self.log);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Runs `terraform ARGS` in the workspace with the test environment.
    pub(crate) fn run(&self, args: &[&str]) -> Run {
        let mut cmd = self.command(args);
        let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {}: {e}", self.tf.cli.display()));
        let run = Run {
            args: args.iter().map(|s| (*s).to_owned()).collect(),
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        self.transcript.borrow_mut().push(format!("$ terraform {}\n{}", args.join(" "), run.both()));
        run
    }

    /// `init` where this version's loader needs it.
    pub(crate) fn init(&self) {
        match self.tf.loader {
            Loader::DevOverrides => {}
            Loader::FilesystemMirror => {
                self.run(&["init", "-input=false", "-no-color"]).ok();
            }
            Loader::PluginDir => {
                let flag = format!("-plugin-dir={}", self.plugin_dir.display());
                self.run(&["init", "-input=false", "-no-color", &flag]).ok();
            }
        }
    }

    pub(crate) fn validate(&self) -> Run {
        self.run(&["validate", "-no-color"])
    }

    /// `plan -detailed-exitcode`: 0 no changes, 2 changes, 1 error.
    pub(crate) fn plan(&self) -> Run {
        self.run(&["plan", "-input=false", "-no-color", "-detailed-exitcode"])
    }

    pub(crate) fn apply(&self) -> Run {
        self.run(&["apply", "-input=false", "-no-color", "-auto-approve"])
    }

    pub(crate) fn refresh(&self) -> Run {
        self.run(&["refresh", "-input=false", "-no-color"])
    }

    pub(crate) fn import(&self, address: &str, id: &str) -> Run {
        self.run(&["import", "-input=false", "-no-color", address, id])
    }

    pub(crate) fn destroy(&self) -> Run {
        self.run(&["destroy", "-input=false", "-no-color", "-auto-approve"])
    }

    /// `output -json`, parsed.
    pub(crate) fn outputs(&self) -> serde_json::Value {
        let r = self.run(&["output", "-json"]).ok();
        serde_json::from_str(r.stdout.trim()).unwrap_or_else(|e| panic!("output -json: {e}\n{}", r.stdout))
    }

    /// The value of output `name`.
    pub(crate) fn output(&self, name: &str) -> serde_json::Value {
        self.outputs()[name]["value"].clone()
    }

    /// `show -json`, parsed.
    pub(crate) fn show(&self) -> serde_json::Value {
        let r = self.run(&["show", "-json", "-no-color"]).ok();
        serde_json::from_str(r.stdout.trim()).unwrap_or_else(|e| panic!("show -json: {e}\n{}", r.stdout))
    }

    /// The attribute values of the managed resource at `address` (`TYPE.NAME`), from
    /// `show -json`, or from the state file on the 0.12–0.14 builds installed here,
    /// whose `show -json` crashes.
    pub(crate) fn state_values(&self, address: &str) -> Option<serde_json::Value> {
        if !self.tf.checks_schema() {
            let text = std::fs::read_to_string(self.dir.join("terraform.tfstate")).ok()?;
            let state: serde_json::Value = serde_json::from_str(&text).expect("state is JSON");
            let (ty, name) = address.split_once('.')?;
            return state["resources"].as_array()?.iter().find_map(|r| {
                (r["mode"] == "managed" && r["type"] == ty && r["name"] == name)
                    .then(|| r.pointer("/instances/0/attributes").cloned())
                    .flatten()
            });
        }
        let show = self.show();
        let resources = show.pointer("/values/root_module/resources")?.as_array()?.clone();
        resources.into_iter().find(|r| r["address"] == address).map(|r| r["values"].clone())
    }

    /// The attribute values of the managed resource at `address` (`TYPE.NAME`), read
    /// from the state file without running a command (so no value reaches the
    /// transcript the secrets sweep searches).
    pub(crate) fn state_file_values(&self, address: &str) -> Option<serde_json::Value> {
        let text = std::fs::read_to_string(self.dir.join("terraform.tfstate")).ok()?;
        let state: serde_json::Value = serde_json::from_str(&text).expect("state is JSON");
        let (ty, name) = address.split_once('.')?;
        state["resources"].as_array()?.iter().find_map(|r| {
            (r["mode"] == "managed" && r["type"] == ty && r["name"] == name)
                .then(|| r.pointer("/instances/0/attributes").cloned())
                .flatten()
        })
    }

    /// The TRACE log of every command so far (Terraform's and the provider's lines).
    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Every command's stdout and stderr so far, in order.
    pub(crate) fn transcript(&self) -> String {
        self.transcript.borrow().join("\n")
    }
}

fn install(bin: &Path, to: &Path) {
    if std::fs::hard_link(bin, to).is_err() {
        std::fs::copy(bin, to).expect("copy provider binary");
    }
}

/// Runs `scenario` once per version, each on its own thread, and reports every
/// version that failed (not just the first).
pub(crate) fn on_every_version(scenario: impl Fn(&Terraform) + Sync) {
    let versions = versions();
    assert!(!versions.is_empty(), "no Terraform version selected");
    let failures: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = versions
            .iter()
            .map(|tf| {
                let scenario = &scenario;
                (tf.version.clone(), s.spawn(move || scenario(tf)))
            })
            .collect();
        handles
            .into_iter()
            .filter_map(|(v, h)| h.join().err().map(|e| format!("Terraform {v}: {}", panic_text(&e))))
            .collect()
    });
    assert!(failures.is_empty(), "{} version(s) failed:\n\n{}", failures.len(), failures.join("\n\n"));
}

fn panic_text(e: &Box<dyn std::any::Any + Send>) -> String {
    e.downcast_ref::<String>()
        .cloned()
        .or_else(|| e.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default()
}

/// The repository root, for tests that read examples.
pub(crate) fn repo() -> PathBuf {
    repo_root()
}

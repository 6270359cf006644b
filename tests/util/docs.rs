//! Helpers for the examples and docs tests: finding example files, splicing
//! generated sections between markers, and running `terraform` with a CLI
//! configuration of the test's choosing (the shared harness in `terraform.rs`
//! always loads the provider through `dev_overrides`; a release archive must be
//! installed the way a registry-mirror user installs it).

use std::path::{Path, PathBuf};
use std::process::Command;

use super::terraform::{Run, default_version};
use super::{repo_root, temp_dir};

/// `examples/` of the repository.
pub(crate) fn examples_dir() -> PathBuf {
    repo_root().join("examples")
}

/// Every file under `dir` (recursively) whose name satisfies `keep`, sorted, skipping
/// `.terraform/` and state directories a local run may leave behind.
pub(crate) fn files_under(dir: &Path, keep: &dyn Fn(&Path) -> bool) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            let p = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            if p.is_dir() {
                if name != ".terraform" {
                    stack.push(p);
                }
            } else if keep(&p) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Every directory under `examples/` that holds `*.tf` files, relative to `examples/`.
pub(crate) fn terraform_example_dirs() -> Vec<String> {
    let root = examples_dir();
    let mut dirs: Vec<String> = files_under(&root, &|p| p.extension().is_some_and(|e| e == "tf"))
        .iter()
        .filter_map(|f| f.parent()?.strip_prefix(&root).ok().map(|d| d.to_string_lossy().into_owned()))
        .collect();
    dirs.dedup();
    dirs
}

/// Copies the top-level files of `examples/<rel>` into `to` (Terraform reads only
/// the top level of a directory; sub-directories are other configurations).
pub(crate) fn copy_example(rel: &str, to: &Path) {
    let from = examples_dir().join(rel);
    let entries = std::fs::read_dir(&from).unwrap_or_else(|e| panic!("{}: {e}", from.display()));
    for e in entries.flatten() {
        let p = e.path();
        if p.is_file() {
            std::fs::copy(&p, to.join(e.file_name())).expect("copy example file");
        }
    }
}

/// Replaces what lies between the line `begin` and the line `end` in `text` with
/// `content`. Both markers must be there exactly once, in order.
pub(crate) fn splice(text: &str, begin: &str, end: &str, content: &str) -> Result<String, String> {
    let b = find_line(text, begin).ok_or_else(|| format!("marker `{begin}` missing"))?;
    if text[b + begin.len()..].contains(&format!("\n{begin}\n")) {
        return Err(format!("marker `{begin}` appears more than once"));
    }
    let after_begin = b + begin.len() + 1;
    let e = text[after_begin..]
        .find(&format!("{end}\n"))
        .filter(|&i| i == 0 || text.as_bytes()[after_begin + i - 1] == b'\n')
        .map(|i| after_begin + i)
        .ok_or_else(|| format!("marker `{end}` missing after `{begin}`"))?;
    let mut body = content.to_owned();
    if !body.is_empty() && !body.ends_with('\n') {
        body.push('\n');
    }
    Ok(format!("{}{body}{}", &text[..after_begin], &text[e..]))
}

/// Byte offset of the line that is exactly `line`.
fn find_line(text: &str, line: &str) -> Option<usize> {
    let mut offset = 0;
    for l in text.split_inclusive('\n') {
        if l.trim_end_matches('\n') == line {
            return Some(offset);
        }
        offset += l.len();
    }
    None
}

/// Every marker pair `<!-- NAME:begin ARG -->` … `<!-- NAME:end -->` in `text`, as
/// `ARG` (possibly empty) in order of appearance.
pub(crate) fn marker_args(text: &str, name: &str) -> Vec<String> {
    let open = format!("<!-- {name}:begin");
    text.lines()
        .filter_map(|l| l.strip_prefix(&open)?.strip_suffix("-->").map(|a| a.trim().to_owned()))
        .collect()
}

/// The begin and end marker lines for `name` with `arg`.
pub(crate) fn markers(name: &str, arg: &str) -> (String, String) {
    let begin = if arg.is_empty() {
        format!("<!-- {name}:begin -->")
    } else {
        format!("<!-- {name}:begin {arg} -->")
    };
    (begin, format!("<!-- {name}:end -->"))
}

/// Compares `path` on disk with `want`; with `UPDATE_DOCS=1`, writes `want` instead.
/// Returns a complaint when they differ and nothing was written.
pub(crate) fn check_or_update(path: &Path, want: &str) -> Option<String> {
    let have = std::fs::read_to_string(path).unwrap_or_default();
    if have == want {
        return None;
    }
    if std::env::var("UPDATE_DOCS").is_ok_and(|v| v == "1") {
        std::fs::write(path, want).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        return None;
    }
    Some(format!(
        "{} is stale; run `UPDATE_DOCS=1 cargo test -p idcbootstrap-e2e -- docs:: examples::` and commit it. First difference:\n{}",
        path.display(),
        first_difference(&have, want)
    ))
}

fn first_difference(have: &str, want: &str) -> String {
    let (h, w): (Vec<&str>, Vec<&str>) = (have.lines().collect(), want.lines().collect());
    let i = h.iter().zip(&w).position(|(a, b)| a != b).unwrap_or(h.len().min(w.len()));
    format!(
        "line {}:\n  on disk:   {:?}\n  generated: {:?}",
        i + 1,
        h.get(i).copied().unwrap_or("<end of file>"),
        w.get(i).copied().unwrap_or("<end of file>")
    )
}

/// A `terraform` (1.11.4) run with its own temp HOME and the CLI configuration
/// the test gives, in a directory of its own.
pub(crate) struct CustomCli {
    _tmp: tempfile::TempDir,
    pub(crate) root: PathBuf,
    pub(crate) dir: PathBuf,
    home: PathBuf,
    config: PathBuf,
    cli: PathBuf,
}

impl CustomCli {
    /// A fresh directory tree; `cli_config` is written as the CLI configuration
    /// after `{ROOT}` in it is replaced by the tree's root.
    pub(crate) fn new(cli_config: &str) -> Self {
        let tmp = temp_dir();
        let root = tmp.path().to_path_buf();
        let (dir, home) = (root.join("work"), root.join("home"));
        for d in [&dir, &home] {
            std::fs::create_dir_all(d).expect("create dirs");
        }
        let config = root.join("cli.tfrc");
        std::fs::write(&config, cli_config.replace("{ROOT}", &root.display().to_string()))
            .expect("cli config");
        CustomCli { _tmp: tmp, root, dir, home, config, cli: default_version().cli }
    }

    /// Runs `terraform ARGS` in the work directory.
    pub(crate) fn run(&self, args: &[&str]) -> Run {
        let out = Command::new(&self.cli)
            .args(args)
            .current_dir(&self.dir)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("TF_CLI_CONFIG_FILE", &self.config)
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_IN_AUTOMATION", "1")
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", self.cli.display()));
        Run {
            args: args.iter().map(|s| (*s).to_owned()).collect(),
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splice_replaces_only_between_markers() {
        let text = "a\n<!-- x:begin -->\nold\n<!-- x:end -->\nb\n";
        let out = splice(text, "<!-- x:begin -->", "<!-- x:end -->", "new").unwrap();
        assert_eq!(out, "a\n<!-- x:begin -->\nnew\n<!-- x:end -->\nb\n");
        assert!(splice("a\n", "<!-- x:begin -->", "<!-- x:end -->", "n").is_err());
        assert_eq!(marker_args(text, "x"), [""]);
    }
}

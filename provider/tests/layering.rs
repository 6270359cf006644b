//! The provider's layering, checked from its source: the protocol layer
//! (`src/protocol/`, `src/server/`, `src/serve.rs`) and the framework traits under
//! the IdC parts name neither the core crate nor the provider's settings, and the
//! modules of `src/` import each other in one direction only (no cycle, so nothing
//! low can reach back up into `config` or the resources).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `dir` (or `dir` itself when it is a file).
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    if dir.is_file() {
        return vec![dir.to_path_buf()];
    }
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
    out
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Whether `text` holds `word` as a whole identifier (`Settings`, not `RawSettings`).
fn has_word(text: &str, word: &str) -> bool {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    text.match_indices(word).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + word.len()..].chars().next();
        !before.is_some_and(ident) && !after.is_some_and(ident)
    })
}

/// Whether `text` uses the module path `name::` (`config::x`, not `provider_config::x`).
fn has_path(text: &str, name: &str) -> bool {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let needle = format!("{name}::");
    text.match_indices(&needle).any(|(i, _)| !text[..i].chars().next_back().is_some_and(ident))
}

/// The names a file must not contain, and why.
fn violations(text: &str, settings_word: bool) -> Vec<&'static str> {
    let mut v = Vec::new();
    if has_path(text, "idcbootstrap") {
        v.push("names the core crate (`idcbootstrap::`)");
    }
    if has_path(text, "config") {
        v.push("names the provider's configuration (`config::`)");
    }
    // `type Settings = …` is the framework's associated type, implemented by a fake.
    if settings_word && has_word(&text.replace("type Settings", ""), "Settings") {
        v.push("names the provider's settings type (`Settings`)");
    }
    v
}

#[test]
fn protocol_server_and_serve_name_neither_the_core_nor_the_provider_settings() {
    let root = src();
    let mut problems = Vec::new();
    let mut files = 0;
    for dir in ["protocol", "server", "serve.rs", "framework.rs"] {
        // The framework declares the settings as an associated type of its own, so
        // only the core and `config` are checked there.
        let settings_word = dir != "framework.rs";
        for f in rust_files(&root.join(dir)) {
            files += 1;
            for why in violations(&read(&f), settings_word) {
                problems.push(format!("{}: {why}", f.strip_prefix(&root).unwrap_or(&f).display()));
            }
        }
    }
    assert!(files >= 20, "only {files} files checked: did the layout move?");
    assert!(problems.is_empty(), "layering broken:\n{}", problems.join("\n"));
}

#[test]
fn the_checks_catch_what_they_are_for() {
    assert_eq!(violations("use idcbootstrap::AttrPath;", true).len(), 1);
    assert_eq!(violations("use crate::config::Settings;", true).len(), 2);
    assert_eq!(violations("fn f(s: Arc<Settings>)", true).len(), 1);
    assert!(
        violations("RawSettings, SettingsBound, settings, terraform-provider-idcbootstrap", true).is_empty()
    );
}

/// The top-level module (`config`, `protocol`, …) of a file under `src/`.
fn module_of(root: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(root).ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (!matches!(name, "lib" | "main")).then(|| name.to_owned())
}

/// The top-level modules `text` refers to through `crate::<module>`.
fn references(text: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (i, _) in text.match_indices("crate::") {
        let rest = &text[i + "crate::".len()..];
        let name: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
        if modules.contains(&name) {
            out.insert(name);
        }
        // `use crate::{a, b::c}`
        if let Some(group) = rest.strip_prefix('{') {
            for part in group.split('}').next().unwrap_or_default().split(',') {
                let name: String =
                    part.trim().chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                if modules.contains(&name) {
                    out.insert(name);
                }
            }
        }
    }
    out
}

/// The module graph of `src/` (tests included: a test that reaches up is a cycle too).
fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    let root = src();
    let files = rust_files(&root);
    let modules: BTreeSet<String> = files.iter().filter_map(|f| module_of(&root, f)).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> =
        modules.iter().map(|m| (m.clone(), BTreeSet::new())).collect();
    for f in &files {
        let Some(m) = module_of(&root, f) else { continue };
        let refs = references(&read(f), &modules);
        graph.entry(m.clone()).or_default().extend(refs.into_iter().filter(|r| *r != m));
    }
    graph
}

/// A cycle in `graph`, if there is one.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(pos) = stack.iter().position(|n| n == node) {
            let mut cycle = stack[pos..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        stack.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, graph, stack, done) {
                return Some(c);
            }
        }
        stack.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|n| visit(n, graph, &mut Vec::new(), &mut done))
}

#[test]
fn modules_import_each_other_in_one_direction() {
    let graph = module_graph();
    for low in ["protocol", "framework", "server", "serve"] {
        assert!(graph.contains_key(low), "no module {low}: {graph:?}");
    }
    assert!(graph["config"].contains("framework"), "config implements the framework's ProviderDef");
    assert!(!graph["framework"].contains("config"), "framework must not reach back into config");
    if let Some(cycle) = find_cycle(&graph) {
        panic!("module cycle: {}", cycle.join(" → "));
    }
}

#[test]
fn cycles_are_found() {
    let g = |edges: &[(&str, &str)]| {
        let mut m: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (a, b) in edges {
            m.entry((*a).to_owned()).or_default().insert((*b).to_owned());
            m.entry((*b).to_owned()).or_default();
        }
        m
    };
    assert!(find_cycle(&g(&[("config", "framework"), ("framework", "protocol")])).is_none());
    assert_eq!(
        find_cycle(&g(&[("config", "framework"), ("framework", "config")])),
        Some(vec!["config".to_owned(), "framework".to_owned(), "config".to_owned()])
    );
    let modules: BTreeSet<String> = ["config", "framework"].iter().map(|s| (*s).to_owned()).collect();
    assert_eq!(references("use crate::{config::Ctx, framework};", &modules), modules);
}

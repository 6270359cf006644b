//! The generated parts of the docs, checked against their one source: the tables
//! come from the provider's schema as the real `terraform providers schema -json`
//! reports it, the examples from `examples/`, the error codes from the core's
//! `ErrorCode::ALL`, the CloudFormation types from `bootstrap --describe`.
//!
//! Generated sections sit between markers in the Markdown files; prose stays
//! outside them. A stale section fails the test; `UPDATE_DOCS=1` rewrites it:
//!
//! ```text
//! UPDATE_DOCS=1 cargo test -p idcbootstrap-e2e -- docs::
//! ```
//!
//! Markers (an HTML comment on a line of its own, closed by `<!-- NAME:end -->`):
//! * `<!-- schema:begin provider -->`, `<!-- schema:begin data-source TYPE -->`,
//!   `<!-- schema:begin resource TYPE -->`: argument and attribute tables.
//! * `<!-- env:begin -->`: every `IDCBOOTSTRAP_*` environment variable.
//! * `<!-- example:begin PATH -->`: the file at PATH (from the repository root).
//! * `<!-- errors:begin -->`: every error code with its summary.
//! * `<!-- cfn:begin -->`: every CloudFormation custom resource type.
//! * `<!-- function-env:begin -->`: the CloudFormation function's own variables
//!   (`bootstrap --describe-settings`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use idcbootstrap::ErrorCode;
use serde_json::Value;

use crate::util::docs::{check_or_update, files_under, marker_args, markers, splice};
use crate::util::terraform::{SOURCE, default_version};
use crate::util::{built_bin, repo_root};

const PREFIX: &str = "idcbootstrap_";

/// The provider's schema, as Terraform sees it.
fn provider_schema() -> Value {
    let ws = default_version().workspace();
    ws.write_config("provider \"idcbootstrap\" {}\n");
    let r = ws.run(&["providers", "schema", "-json"]).ok();
    let all: Value =
        serde_json::from_str(r.stdout.trim()).unwrap_or_else(|e| panic!("schema JSON: {e}\n{}", r.stdout));
    all["provider_schemas"][format!("registry.terraform.io/{SOURCE}")].clone()
}

/// The Markdown files that may hold markers: `README.md` and `docs/` without the
/// directories other parts of the project generate (`schema/`, `benchmarks/`).
fn markdown_files() -> Vec<PathBuf> {
    let docs = repo_root().join("docs");
    let mut files = files_under(&docs, &|p| {
        p.extension().is_some_and(|e| e == "md")
            && !p.starts_with(docs.join("schema"))
            && !p.starts_with(docs.join("benchmarks"))
    });
    files.push(repo_root().join("README.md"));
    files
}

fn type_name(t: &Value) -> String {
    match t {
        Value::String(s) => capitalise(s),
        Value::Array(a) if a.len() == 2 && a[0] == "object" => "Object".to_owned(),
        Value::Array(a) if a.len() == 2 => {
            let outer = a[0].as_str().unwrap_or("?");
            format!("{} of {}", capitalise(outer), type_name(&a[1]))
        }
        other => other.to_string(),
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
}

/// A description fit for one table cell: Markdown's special characters escaped
/// outside code spans (the schema's rules quote patterns such as `<partition>` and
/// `_+=,.@-`, which would otherwise turn into HTML tags or emphasis).
fn cell(s: &str) -> String {
    s.replace('\n', " ")
        .split('`')
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 {
                return part.replace('|', "\\|");
            }
            let mut out = String::with_capacity(part.len());
            for c in part.chars() {
                match c {
                    '<' => out.push_str("&lt;"),
                    '>' => out.push_str("&gt;"),
                    '|' | '_' | '*' | '[' | ']' => {
                        out.push('\\');
                        out.push(c);
                    }
                    _ => out.push(c),
                }
            }
            out
        })
        .collect::<Vec<_>>()
        .join("`")
}

/// The fields of an object type, or of the objects in a list, set or map.
fn object_fields(t: &Value) -> Option<serde_json::Map<String, Value>> {
    let a = t.as_array()?;
    match a.first()?.as_str()? {
        "object" => a.get(1)?.as_object().cloned(),
        "list" | "set" | "map" => object_fields(a.get(1)?),
        _ => None,
    }
}

/// Tables of a block's attributes: Required, Optional, Read-Only (the registry's groups).
fn schema_tables(block: &Value) -> String {
    let attrs = block["attributes"].as_object().cloned().unwrap_or_default();
    let mut groups: [(&str, Vec<String>); 3] =
        [("Required", Vec::new()), ("Optional", Vec::new()), ("Read-Only", Vec::new())];
    for (name, a) in &attrs {
        let flag = |k: &str| a[k].as_bool().unwrap_or(false);
        let g = if flag("required") {
            0
        } else if flag("optional") {
            1
        } else {
            2
        };
        let mut desc = cell(a["description"].as_str().unwrap_or(""));
        if let Some(fields) = object_fields(&a["type"]) {
            let list: Vec<String> = fields.iter().map(|(k, t)| format!("`{k}` ({})", type_name(t))).collect();
            desc.push_str(&format!(" Each element has {}.", list.join(", ")));
        }
        if flag("sensitive") {
            desc.push_str(" **Sensitive**: never shown in plans or logs.");
        }
        groups[g].1.push(format!("| `{name}` | {} | {} |", type_name(&a["type"]), desc.trim()));
    }
    assert!(
        block.get("block_types").is_none_or(|b| b.as_object().is_none_or(|o| o.is_empty())),
        "nested blocks are not rendered yet: {block}"
    );
    let mut out = String::new();
    for (title, rows) in groups {
        if rows.is_empty() {
            continue;
        }
        let _ = write!(
            out,
            "### {title}\n\n| Name | Type | Description |\n|---|---|---|\n{}\n\n",
            rows.join("\n")
        );
    }
    out.trim_end().to_owned()
}

/// The schema block a `schema:begin` marker names.
fn block_for<'a>(schema: &'a Value, arg: &str) -> Result<&'a Value, String> {
    let mut words = arg.split_whitespace();
    let found = match (words.next(), words.next()) {
        (Some("provider"), None) => schema.pointer("/provider/block"),
        (Some("data-source"), Some(t)) => schema["data_source_schemas"].get(t).map(|s| &s["block"]),
        (Some("resource"), Some(t)) => schema["resource_schemas"].get(t).map(|s| &s["block"]),
        _ => return Err(format!("bad schema marker argument `{arg}`")),
    };
    found.ok_or_else(|| format!("`{arg}` is not in the provider's schema"))
}

/// Every provider argument with its environment variable, and the CloudFormation
/// properties the function defaults from the same variable (`bootstrap --describe`'s
/// `env_var`).
fn env_table(schema: &Value, cfn: &Value) -> String {
    let attrs =
        schema.pointer("/provider/block/attributes").and_then(Value::as_object).expect("provider attributes");
    let mut out = String::from(
        "| Variable | Provider argument | Type | CloudFormation function |\n|---|---|---|---|\n",
    );
    for (name, a) in attrs {
        // The Lambda reads the same variables for the properties it defaults.
        let var = format!("IDCBOOTSTRAP_{}", name.to_ascii_uppercase());
        let mut properties: Vec<&str> = Vec::new();
        for p in cfn
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|t| t["properties"].as_array().into_iter().flatten())
        {
            if p["env_var"] == var.as_str()
                && let Some(n) = p["name"].as_str()
                && !properties.contains(&n)
            {
                properties.push(n);
            }
        }
        let lambda = if properties.is_empty() {
            String::new()
        } else {
            let list: Vec<String> = properties.iter().map(|p| format!("`{p}`")).collect();
            format!("default of {}", list.join(", "))
        };
        let _ = writeln!(
            out,
            "| `IDCBOOTSTRAP_{}` | `{name}` | {} | {lambda} |",
            name.to_ascii_uppercase(),
            type_name(&a["type"])
        );
    }
    out.push_str(
        "\nLists and maps are given as JSON (`IDCBOOTSTRAP_TAGS='{\"team\":\"platform\"}'`); an argument set in the \
         provider block wins over its variable.",
    );
    out
}

fn example(path: &str) -> Result<String, String> {
    let text =
        std::fs::read_to_string(repo_root().join(path)).map_err(|e| format!("example `{path}`: {e}"))?;
    let lang = match Path::new(path).extension().and_then(|e| e.to_str()) {
        Some("tf") => "terraform",
        Some("sh") => "shell",
        Some("yaml" | "yml") => "yaml",
        Some("json") => "json",
        _ => "",
    };
    Ok(format!("```{lang}\n{}\n```", text.trim_end()))
}

/// The error codes, each linking to its section of the guide at `guide` (relative to
/// the page; empty on the guide itself).
fn errors_table(guide: &str) -> String {
    let mut out = String::from("| Code | Summary |\n|---|---|\n");
    for c in ErrorCode::ALL {
        let _ = writeln!(out, "| [`{c}`]({guide}#{c}) | {} |", c.summary());
    }
    out.trim_end().to_owned()
}

/// `bootstrap --describe`: the Lambda's own table of types, properties and attributes.
fn cfn_types() -> Value {
    let out = Command::new(built_bin("bootstrap")).arg("--describe").output().expect("bootstrap --describe");
    assert!(out.status.success(), "bootstrap --describe: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("describe prints JSON")
}

/// `bootstrap --describe-settings`: the function's own variables.
fn function_settings() -> Value {
    let out = Command::new(built_bin("bootstrap"))
        .arg("--describe-settings")
        .output()
        .expect("bootstrap --describe-settings");
    assert!(out.status.success(), "bootstrap --describe-settings: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("describe-settings prints JSON")
}

fn function_env_table(settings: &Value) -> String {
    let mut out = String::from("| Variable | Meaning | Default |\n|---|---|---|\n");
    for v in settings.as_array().expect("a list of variables") {
        let default =
            v["default"].as_str().filter(|d| !d.is_empty()).map(|d| format!("`{d}`")).unwrap_or_default();
        let _ = writeln!(
            out,
            "| `{}` | {} | {default} |",
            v["variable"].as_str().unwrap_or("?"),
            cell(v["meaning"].as_str().unwrap_or_default())
        );
    }
    out.trim_end().to_owned()
}

fn cfn_section(types: &Value) -> String {
    let mut out = String::new();
    for t in types.as_array().expect("a list of types") {
        let name = t["type"].as_str().unwrap_or("?");
        let _ = write!(
            out,
            "## `{name}`\n\n| Property | Required | Default | Description |\n|---|---|---|---|\n| `ServiceToken` | yes |  | \
             The ARN of the idcbootstrap function (CloudFormation's own property). |\n"
        );
        for p in t["properties"].as_array().into_iter().flatten() {
            let required = if p["required"].as_bool().unwrap_or(false) { "yes" } else { "no" };
            let default =
                p["default"].as_str().filter(|d| !d.is_empty()).map(|d| format!("`{d}`")).unwrap_or_default();
            let mut desc = cell(
                &[p["description"].as_str(), p["rule"].as_str()]
                    .into_iter()
                    .flatten()
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join(" "),
            );
            if p["secret"].as_bool().unwrap_or(false) {
                desc.push_str(" **Secret**: pass it with `NoEcho` parameters.");
            }
            let _ = writeln!(
                out,
                "| `{}` | {required} | {default} | {desc} |",
                p["name"].as_str().unwrap_or("?")
            );
        }
        let settings: Vec<String> = t["settings"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s["env_var"].as_str().map(|v| format!("`{v}`")))
            .collect();
        if !settings.is_empty() {
            let _ = write!(
                out,
                "\nSet by the function's configuration only, never by a stack (a property of that name is \
                 refused): {}.\n",
                settings.join(", ")
            );
        }
        let attrs: Vec<String> = t["attributes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|a| a.as_str().map(|a| format!("`{a}`")))
            .collect();
        let _ = write!(out, "\n`Fn::GetAtt` attributes: {}.\n\n", attrs.join(", "));
    }
    out.trim_end().to_owned()
}

/// Sources computed at most once per test run.
struct Sources {
    schema: Option<Value>,
    cfn: Option<Value>,
    settings: Option<Value>,
}

impl Sources {
    fn schema(&mut self) -> &Value {
        self.schema.get_or_insert_with(provider_schema)
    }
    fn cfn(&mut self) -> &Value {
        self.cfn.get_or_insert_with(cfn_types)
    }
    fn settings(&mut self) -> &Value {
        self.settings.get_or_insert_with(function_settings)
    }
}

/// The kinds of generated section.
const MARKERS: [&str; 6] = ["schema", "env", "example", "errors", "cfn", "function-env"];

/// `text` with every generated section rendered afresh.
fn regenerate(text: &str, src: &mut Sources) -> Result<String, String> {
    let mut out = text.to_owned();
    for name in MARKERS {
        for arg in marker_args(text, name) {
            let content = match name {
                "schema" => schema_tables(block_for(src.schema(), &arg)?),
                "env" => {
                    let cfn = src.cfn().clone();
                    env_table(src.schema(), &cfn)
                }
                "example" => example(&arg)?,
                "errors" => errors_table(&arg),
                "function-env" => function_env_table(src.settings()),
                _ => cfn_section(src.cfn()),
            };
            let (b, e) = markers(name, &arg);
            out = splice(&out, &b, &e, &format!("\n{content}\n\n"))?;
        }
    }
    Ok(out)
}

/// The text of every field reaches Terraform from the core's spec, unchanged: a
/// description edited in `shared/src/spec.rs` is what `terraform providers schema`
/// serves (and so what the generated docs say, which the test above checks).
#[test]
fn spec_text_reaches_the_served_provider_schema() {
    use idcbootstrap::spec::{RESOURCES, TerraformKind};
    let schema = provider_schema();
    let mut checked = 0;
    for r in RESOURCES {
        let block = match r.terraform_kind {
            TerraformKind::Provider => &schema["provider"]["block"],
            TerraformKind::DataSource => &schema["data_source_schemas"][r.terraform]["block"],
            TerraformKind::Resource => &schema["resource_schemas"][r.terraform]["block"],
            TerraformKind::None => continue,
        };
        assert_eq!(block["description"].as_str(), Some(r.description), "{}", r.terraform);
        for f in r.fields {
            // A name that is both an input and an output is one Terraform attribute,
            // documented by the input.
            if !f.is_input() && r.fields.iter().any(|g| g.is_input() && g.name == f.name) {
                continue;
            }
            let a = &block["attributes"][f.name];
            let d = a["description"]
                .as_str()
                .unwrap_or_else(|| panic!("{}.{} is not served", r.terraform, f.name));
            assert!(d.contains(&f.doc()), "{}.{}: served {d:?}, spec {:?}", r.terraform, f.name, f.doc());
            assert_eq!(a["sensitive"].as_bool().unwrap_or(false), f.sensitive, "{}.{}", r.terraform, f.name);
            // A required field that falls back to the provider block is optional in
            // the schema and required at read.
            let required = f.presence == idcbootstrap::spec::Presence::Required && !f.fallback;
            assert_eq!(a["required"].as_bool().unwrap_or(false), required, "{}.{}", r.terraform, f.name);
            checked += 1;
        }
    }
    assert!(checked > 40, "only {checked} fields checked");
}

/// The same for CloudFormation: `bootstrap --describe`, from which
/// `docs/cloudformation.md` is generated, says what the spec says for every
/// property and attribute of every `Custom::` type.
#[test]
fn spec_text_reaches_bootstrap_describe() {
    use idcbootstrap::spec::{Presence, RESOURCES};
    let types = cfn_types();
    let mut checked = 0;
    for r in RESOURCES {
        let Some(name) = r.cloudformation else { continue };
        let t = types
            .as_array()
            .and_then(|a| a.iter().find(|t| t["type"] == name))
            .unwrap_or_else(|| panic!("{name} is not in bootstrap --describe"));
        for f in r.fields {
            let Some(cfn) = f.cfn else { continue };
            // An input the function takes from its configuration only is described
            // as a setting, under its variable.
            let setting = t["settings"].as_array().and_then(|a| a.iter().find(|s| s["core_field"] == f.name));
            if let Some(s) = setting {
                assert!(f.is_input(), "{name}.{cfn}: only inputs are settings");
                assert_eq!(s["description"].as_str(), Some(f.description), "{name}.{cfn}");
                assert_eq!(s["env_var"].as_str(), Some(f.env_var().as_str()), "{name}.{cfn}");
                let properties = t["properties"].as_array().into_iter().flatten();
                assert!(properties.clone().all(|p| p["name"] != cfn), "{name}.{cfn} is also a property");
                checked += 1;
                continue;
            }
            let list = if f.is_input() { &t["properties"] } else { &t["attribute_docs"] };
            let p = list
                .as_array()
                .and_then(|a| a.iter().find(|p| p["name"] == cfn))
                .unwrap_or_else(|| panic!("{name}.{cfn} is not described"));
            assert_eq!(p["description"].as_str(), Some(f.description), "{name}.{cfn}");
            assert_eq!(p["secret"].as_bool(), Some(f.sensitive), "{name}.{cfn}");
            if f.is_input() {
                // The function may append where a default comes from.
                let rule = p["rule"].as_str().unwrap_or_default();
                assert!(rule.starts_with(f.rule.unwrap_or_default()), "{name}.{cfn}: {rule:?}");
                let required = f.presence == Presence::Required && !f.fallback;
                assert_eq!(p["required"].as_bool(), Some(required), "{name}.{cfn}");
            }
            checked += 1;
        }
    }
    assert!(checked > 30, "only {checked} fields checked");
}

#[test]
fn generated_sections_match_their_sources() {
    let mut src = Sources { schema: None, cfn: None, settings: None };
    let mut problems = Vec::new();
    let mut sections = 0;
    for f in markdown_files() {
        let text = std::fs::read_to_string(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        sections += MARKERS.iter().map(|n| marker_args(&text, n).len()).sum::<usize>();
        match regenerate(&text, &mut src) {
            Ok(want) => problems.extend(check_or_update(&f, &want)),
            Err(e) => problems.push(format!("{}: {e}", f.display())),
        }
    }
    assert!(sections >= 8, "only {sections} generated sections found: the markers went missing");
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

#[test]
fn every_resource_and_data_source_has_a_page_with_its_schema() {
    let schema = provider_schema();
    let mut missing = Vec::new();
    for (kind, dir, key) in [
        ("data-source", "data-sources", "data_source_schemas"),
        ("resource", "resources", "resource_schemas"),
    ] {
        let types = schema[key].as_object().cloned().unwrap_or_default();
        assert!(!types.is_empty(), "the provider serves no {key}");
        for t in types.keys() {
            let page =
                repo_root().join("docs").join(dir).join(format!("{}.md", t.trim_start_matches(PREFIX)));
            let want = markers("schema", &format!("{kind} {t}")).0;
            let ok = std::fs::read_to_string(&page).is_ok_and(|text| text.lines().any(|l| l == want));
            if !ok {
                missing.push(format!("{} with the line `{want}`", page.display()));
            }
        }
    }
    assert!(missing.is_empty(), "pages missing:\n{}", missing.join("\n"));
}

#[test]
fn troubleshooting_guide_explains_every_error_code() {
    let path = repo_root().join("docs/guides/troubleshooting.md");
    let text = std::fs::read_to_string(&path).expect("docs/guides/troubleshooting.md");
    let headings: Vec<&str> =
        text.lines().filter_map(|l| l.strip_prefix("### `")?.strip_suffix('`')).collect();
    let codes: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(headings, codes, "one `### `code`` section per ErrorCode::ALL entry, in that order");
    // Each section says what to do, not only what happened.
    for code in codes {
        let section = text.split(&format!("### `{code}`")).nth(1).unwrap();
        let section = section.split("\n### ").next().unwrap();
        assert!(section.contains("**What to do:**"), "section `{code}` has no **What to do:** paragraph");
    }
}

#[test]
fn relative_links_in_the_docs_resolve() {
    let mut broken = Vec::new();
    for f in markdown_files() {
        let text = std::fs::read_to_string(&f).unwrap();
        for target in text.split("](").skip(1).filter_map(|s| s.split(')').next()) {
            let path = target.split('#').next().unwrap_or("");
            if path.is_empty() || path.contains("://") || path.starts_with("mailto:") {
                continue;
            }
            if !f.parent().unwrap().join(path).exists() {
                broken.push(format!("{}: {target}", f.display()));
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn terraform_snippets_in_the_docs_are_fmt_clean() {
    let ws = default_version().workspace();
    let dir = ws.path("snippets");
    std::fs::create_dir_all(&dir).unwrap();
    let mut n = 0;
    for f in markdown_files() {
        let text = std::fs::read_to_string(&f).unwrap();
        for (i, block) in text.split("```terraform\n").skip(1).enumerate() {
            let code = block.split("\n```").next().unwrap();
            let name = format!(
                "{}-{i}.tf",
                f.strip_prefix(repo_root()).unwrap().display().to_string().replace('/', "_")
            );
            std::fs::write(dir.join(name), format!("{code}\n")).unwrap();
            n += 1;
        }
    }
    assert!(n >= 5, "only {n} terraform snippets found");
    let r = ws.run(&["fmt", "-check", "-diff", "-no-color", &dir.display().to_string()]);
    assert_eq!(r.code, 0, "terraform fmt would change these snippets:\n{}", r.both());
}

#[test]
fn cloudformation_reference_lists_every_attribute() {
    let text = std::fs::read_to_string(repo_root().join("docs/cloudformation.md")).unwrap();
    let mut documented: Vec<(String, String)> = text
        .lines()
        .filter_map(|l| {
            let mut cells = l.split('|').map(str::trim).skip(1);
            let (t, a) = (cells.next()?, cells.next()?);
            let t = t.strip_prefix("`Custom::")?.strip_suffix('`')?;
            Some((format!("Custom::{t}"), a.trim_matches('`').to_owned()))
        })
        .collect();
    let mut served: Vec<(String, String)> = cfn_types()
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| {
            let name = t["type"].as_str().unwrap().to_owned();
            t["attributes"]
                .as_array()
                .unwrap()
                .iter()
                .map(move |a| (name.clone(), a.as_str().unwrap().to_owned()))
        })
        .collect();
    documented.sort();
    served.sort();
    assert_eq!(
        documented, served,
        "the attribute table in docs/cloudformation.md differs from `bootstrap --describe`"
    );
}

/// The pages the Terraform Registry publishes (`index.md`, `resources/`,
/// `data-sources/`, `guides/`) link only to each other: the registry serves no
/// other file, so a relative link to `docs/cloudformation.md` or `examples/` would
/// break there. Anything else is an absolute link to the repository, and the file
/// it names must exist in this tree.
#[test]
fn registry_pages_link_only_inside_the_registry_or_to_the_repository() {
    let docs = repo_root().join("docs");
    let registry = ["index.md", "resources", "data-sources", "guides"].map(|p| docs.join(p));
    // The workspace's `repository`, as the crates publish it.
    let manifest = std::fs::read_to_string(repo_root().join("Cargo.toml")).unwrap();
    let url = manifest
        .lines()
        .find_map(|l| l.strip_prefix("repository = \""))
        .and_then(|l| l.strip_suffix('"'))
        .expect("Cargo.toml's [workspace.package] names the repository");
    let repository = format!("{url}/blob/main/");
    let mut broken = Vec::new();
    for f in markdown_files().into_iter().filter(|f| registry.iter().any(|r| f.starts_with(r))) {
        let text = std::fs::read_to_string(&f).unwrap();
        for target in text.split("](").skip(1).filter_map(|s| s.split(')').next()) {
            let path = target.split('#').next().unwrap_or("");
            if let Some(file) = path.strip_prefix(&repository) {
                if !repo_root().join(file).exists() {
                    broken.push(format!("{}: {target} (no such file in the repository)", f.display()));
                }
                continue;
            }
            if path.is_empty() || path.contains("://") || path.starts_with("mailto:") {
                continue;
            }
            let resolved = f.parent().unwrap().join(path);
            let resolved = resolved.canonicalize().unwrap_or(resolved);
            if !registry.iter().any(|r| r.canonicalize().is_ok_and(|r| resolved.starts_with(r))) {
                broken.push(format!(
                    "{}: {target} (outside the registry's pages: link {repository}…)",
                    f.display()
                ));
            }
        }
    }
    assert!(broken.is_empty(), "links the Terraform Registry cannot serve:\n{}", broken.join("\n"));
}

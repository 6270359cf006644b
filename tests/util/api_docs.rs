//! `docs/api.md` from the vendor API's OpenAPI document (`docs/openapi.json`, which
//! `idcbootstrap-server openapi` prints): one section per endpoint (headers,
//! request body, responses) and one per schema, in the document's words. Nothing
//! in the page is typed by hand, so it cannot drift from what the server serves.

use std::fmt::Write as _;

use serde_json::{Map, Value};

const METHODS: [&str; 7] = ["get", "put", "post", "delete", "patch", "head", "options"];

/// Markdown reference of the OpenAPI document `doc`.
pub(crate) fn render(doc: &Value) -> String {
    let mut out = String::new();
    let info = &doc["info"];
    let title = info["title"].as_str().unwrap_or("API");
    let _ = writeln!(out, "# {title} reference\n");
    let _ = writeln!(
        out,
        "<!-- Generated from docs/openapi.json (`idcbootstrap-server openapi`) by tests/server_docs.rs; do not edit.\n     \
         Regenerate: UPDATE_DOCS=1 cargo test -p idcbootstrap-e2e --test e2e server_docs:: -->\n"
    );
    if let Some(d) = info["description"].as_str() {
        let _ = writeln!(out, "{}\n", d.trim());
    }
    let _ = writeln!(
        out,
        "OpenAPI {} document, API version {}: `docs/openapi.json`, also served at `/openapi.json`.\n",
        doc["openapi"].as_str().unwrap_or("?"),
        info["version"].as_str().unwrap_or("?")
    );

    let schemes = doc["components"]["securitySchemes"].as_object().cloned().unwrap_or_default();
    if !schemes.is_empty() {
        let _ = writeln!(out, "## Authentication\n");
        for (name, s) in &schemes {
            let kind = match (s["type"].as_str(), s["scheme"].as_str(), s["in"].as_str(), s["name"].as_str())
            {
                (Some("http"), Some(scheme), ..) => format!("HTTP `{}`", capitalise(scheme)),
                (Some("apiKey"), _, Some(loc), Some(n)) => format!("API key in {loc} `{n}`"),
                (Some(t), ..) => t.to_owned(),
                _ => "?".to_owned(),
            };
            let _ =
                writeln!(out, "* `{name}`: {kind}. {}", one_line(s["description"].as_str().unwrap_or("")));
        }
        out.push('\n');
    }

    let ops = operations(doc);
    let _ = writeln!(out, "## Endpoints\n");
    let _ = writeln!(out, "| Method | Path | Summary | Authentication |\n|---|---|---|---|");
    for (path, method, op) in &ops {
        let _ = writeln!(
            out,
            "| `{}` | [`{path}`](#{}) | {} | {} |",
            method.to_uppercase(),
            anchor(&format!("{} {path}", method.to_uppercase())),
            cell(op["summary"].as_str().unwrap_or("")),
            auth_of(doc, op)
        );
    }
    out.push('\n');

    for (path, method, op) in &ops {
        let _ = writeln!(out, "### {} {path}\n", method.to_uppercase());
        if let Some(s) = op["summary"].as_str() {
            let _ = writeln!(out, "{}\n", s.trim());
        }
        if let Some(d) = op["description"].as_str() {
            let _ = writeln!(out, "{}\n", d.trim());
        }
        let _ = writeln!(out, "Authentication: {}.\n", auth_of(doc, op));
        let params: Vec<Value> = op["parameters"].as_array().cloned().unwrap_or_default();
        if !params.is_empty() {
            let _ =
                writeln!(out, "| Parameter | In | Type | Required | Description |\n|---|---|---|---|---|");
            for p in params {
                let p = resolve(doc, &p);
                let _ = writeln!(
                    out,
                    "| `{}` | {} | {} | {} | {} |",
                    p["name"].as_str().unwrap_or("?"),
                    p["in"].as_str().unwrap_or("?"),
                    type_of(&p["schema"]),
                    yes_no(p["required"].as_bool().unwrap_or(false)),
                    cell(&describe(doc, &p["schema"], p["description"].as_str()))
                );
            }
            out.push('\n');
        }
        if let Some(body) = op.get("requestBody") {
            let body = resolve(doc, body);
            let content = body["content"].as_object().cloned().unwrap_or_default();
            for (media, c) in &content {
                let _ = writeln!(
                    out,
                    "Request body ({}`{media}`): {}.\n",
                    if body["required"].as_bool().unwrap_or(false) { "required, " } else { "optional, " },
                    type_of(&c["schema"])
                );
            }
        }
        let responses = op["responses"].as_object().cloned().unwrap_or_default();
        if !responses.is_empty() {
            let _ = writeln!(out, "| Status | Meaning | Body |\n|---|---|---|");
            for (status, r) in &responses {
                let r = resolve(doc, r);
                let body = r["content"]
                    .as_object()
                    .and_then(|c| c.values().next())
                    .map(|c| type_of(&c["schema"]))
                    .unwrap_or_else(|| "none".to_owned());
                let _ = writeln!(
                    out,
                    "| {status} | {} | {body} |",
                    cell(r["description"].as_str().unwrap_or(""))
                );
            }
            out.push('\n');
        }
    }

    let schemas = doc["components"]["schemas"].as_object().cloned().unwrap_or_default();
    if !schemas.is_empty() {
        let _ = writeln!(out, "## Schemas\n");
        for (name, schema) in &schemas {
            let _ = writeln!(out, "### {name}\n");
            if let Some(d) = schema["description"].as_str() {
                let _ = writeln!(out, "{}\n", d.trim());
            }
            write_schema(&mut out, doc, schema);
        }
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

/// Every operation as (path, method, operation), in the document's path order,
/// methods in the usual order.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().cloned().unwrap_or_default() {
        for m in METHODS {
            if let Some(op) = item.get(m) {
                ops.push((path.clone(), m.to_owned(), op.clone()));
            }
        }
    }
    ops
}

fn write_schema(out: &mut String, doc: &Value, schema: &Value) {
    let props = schema["properties"].as_object().cloned().unwrap_or_default();
    if props.is_empty() {
        let _ = writeln!(out, "Type: {}. {}\n", type_of(schema), cell(&rules(schema, true)));
        return;
    }
    let required: Vec<&str> = schema["required"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let _ = writeln!(out, "| Field | Type | Required | Description |\n|---|---|---|---|");
    for (field, p) in &props {
        let _ = writeln!(
            out,
            "| `{field}` | {} | {} | {} |",
            type_of(p),
            yes_no(required.contains(&field.as_str())),
            cell(&describe(doc, p, None))
        );
    }
    out.push('\n');
}

/// A schema's description (or `fallback`) followed by its rules.
fn describe(doc: &Value, schema: &Value, fallback: Option<&str>) -> String {
    let own = schema["description"].as_str().or(fallback).unwrap_or("");
    let own = if own.is_empty() {
        // A field that is only a reference takes the referenced schema's description.
        first_ref(schema)
            .and_then(|r| lookup(doc, r))
            .and_then(|s| s["description"].as_str().map(str::to_owned))
    } else {
        Some(own.to_owned())
    };
    let own = own.unwrap_or_default();
    // Descriptions written from the core's field spec state the default already.
    let r = rules(schema, !own.contains("Default"));
    match (own.trim(), r.as_str()) {
        ("", r) => r.to_owned(),
        (d, "") => d.to_owned(),
        (d, r) => format!("{d} {r}"),
    }
}

/// The constraints JSON Schema states beside the type.
fn rules(schema: &Value, with_default: bool) -> String {
    let mut r = Vec::new();
    if let Some(e) = schema["enum"].as_array() {
        let vals: Vec<String> = e
            .iter()
            .map(|v| format!("`{}`", v.as_str().map_or_else(|| v.to_string(), str::to_owned)))
            .collect();
        r.push(format!("One of {}.", vals.join(", ")));
    }
    if let Some(p) = schema["pattern"].as_str() {
        r.push(format!("Pattern `{p}`."));
    }
    for (k, what) in [
        ("minLength", "Length ≥"),
        ("maxLength", "Length ≤"),
        ("minimum", "Minimum"),
        ("maximum", "Maximum"),
        ("minItems", "Items ≥"),
        ("maxItems", "Items ≤"),
    ] {
        if let Some(n) = schema.get(k).filter(|v| v.is_number()) {
            r.push(format!("{what} {n}."));
        }
    }
    if let Some(d) = schema.get("default").filter(|_| with_default) {
        r.push(format!("Default `{d}`."));
    }
    r.join(" ")
}

fn first_ref(schema: &Value) -> Option<&str> {
    if let Some(r) = schema["$ref"].as_str() {
        return Some(r);
    }
    ["allOf", "anyOf", "oneOf"]
        .iter()
        .find_map(|k| schema[*k].as_array()?.iter().find_map(|s| s["$ref"].as_str()))
}

fn lookup<'a>(doc: &'a Value, r: &str) -> Option<&'a Value> {
    doc.pointer(r.strip_prefix('#')?)
}

/// A `$ref` replaced by what it points at (one level).
fn resolve(doc: &Value, v: &Value) -> Value {
    match v["$ref"].as_str() {
        Some(r) => lookup(doc, r).cloned().unwrap_or(Value::Null),
        None => v.clone(),
    }
}

/// A short type: a link for a named schema, `array of X`, `X or null`, `string (uuid)`.
fn type_of(schema: &Value) -> String {
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.rsplit('/').next().unwrap_or(r);
        return format!("[{name}](#{})", anchor(name));
    }
    for k in ["oneOf", "anyOf"] {
        if let Some(alts) = schema[k].as_array() {
            return alts.iter().map(type_of).collect::<Vec<_>>().join(" or ");
        }
    }
    if let Some(all) = schema["allOf"].as_array()
        && all.len() == 1
    {
        return type_of(&all[0]);
    }
    let types: Vec<String> = match &schema["type"] {
        Value::String(t) => vec![t.clone()],
        Value::Array(a) => a.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        _ if schema.get("const").is_some() => return format!("`{}`", schema["const"]),
        _ if schema.get("properties").is_some() => vec!["object".to_owned()],
        _ => return "any".to_owned(),
    };
    types
        .iter()
        .map(|t| match t.as_str() {
            "array" => format!("array of {}", type_of(&schema["items"])),
            "object" => match schema.get("additionalProperties") {
                Some(ap) if ap.is_object() => format!("map of {}", type_of(ap)),
                _ => "object".to_owned(),
            },
            other => match schema["format"].as_str() {
                Some(f) => format!("{other} ({f})"),
                None => other.to_owned(),
            },
        })
        .collect::<Vec<_>>()
        .join(" or ")
}

/// How an operation authenticates: its own `security`, else the document's.
fn auth_of(doc: &Value, op: &Value) -> String {
    let sec = op.get("security").or_else(|| doc.get("security"));
    let Some(reqs) = sec.and_then(Value::as_array) else { return "none".to_owned() };
    let names: Vec<String> = reqs
        .iter()
        .filter_map(Value::as_object)
        .filter(|m| !m.is_empty())
        .map(|m: &Map<String, Value>| m.keys().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(" + "))
        .collect();
    if names.is_empty() { "none".to_owned() } else { names.join(" or ") }
}

/// GitHub's heading anchor: lower case, spaces to `-`, punctuation dropped.
fn anchor(heading: &str) -> String {
    heading
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Text fit for one table cell: one line, `|` escaped, `<`/`>` outside code spans
/// as entities.
fn cell(s: &str) -> String {
    one_line(s)
        .split('`')
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 {
                part.replace('|', "\\|")
            } else {
                part.replace('|', "\\|").replace('<', "&lt;").replace('>', "&gt;")
            }
        })
        .collect::<Vec<_>>()
        .join("`")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_a_small_document() {
        let doc = json!({
            "openapi": "3.1.0",
            "info": { "title": "Demo", "version": "1", "description": "A demo." },
            "paths": { "/v1/x": { "post": {
                "summary": "Make an x",
                "security": [{ "bearer": [] }],
                "parameters": [{ "name": "X-Tenant-ID", "in": "header", "required": true,
                                 "schema": { "type": "string", "format": "uuid" } }],
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/X" } } } },
                "responses": { "200": { "description": "made", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/X" } } } },
                               "401": { "description": "no <token>" } }
            } } },
            "components": {
                "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
                "schemas": { "X": { "type": "object", "required": ["id"], "properties": {
                    "id": { "type": "string", "pattern": "^[0-9]{12}$", "description": "The id | pipe" },
                    "tags": { "type": ["array", "null"], "items": { "type": "string" } }
                } } }
            }
        });
        let md = render(&doc);
        assert!(md.starts_with("# Demo reference\n"), "{md}");
        assert!(md.contains("| `POST` | [`/v1/x`](#post-v1x) | Make an x | `bearer` |"), "{md}");
        assert!(md.contains("### POST /v1/x\n"), "{md}");
        assert!(md.contains("| `X-Tenant-ID` | header | string (uuid) | yes |"), "{md}");
        assert!(md.contains("Request body (required, `application/json`): [X](#x)."), "{md}");
        assert!(md.contains("| 401 | no &lt;token&gt; | none |"), "{md}");
        assert!(md.contains("| `id` | string | yes | The id \\| pipe Pattern `^[0-9]{12}$`. |"), "{md}");
        assert!(md.contains("| `tags` | array of string or null | no |"), "{md}");
        assert!(md.ends_with('\n') && !md.ends_with("\n\n"));
    }
}

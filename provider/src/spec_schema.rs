//! The tfplugin5 schema of every block this provider serves, built from the core's
//! declaration of it ([`idcbootstrap::spec`]): names, types, presence, secrecy and
//! text come from there and nowhere else, so the provider, the Lambda, the vendor API
//! and `docs/` say the same thing. Built once per block (each caller keeps it in a
//! `LazyLock`).
//!
//! What is Terraform's own is decided here, once for every field:
//!
//! * a duration is a string (`2m`, `90s`), an integer a number, a list of objects a
//!   `list(object)`;
//! * a required field that falls back to the provider block is optional (it is
//!   required when read, after the fallback), and its description ends with where it
//!   falls back to;
//! * a name that is both an input and an output is one attribute, the input's;
//! * a provider argument that data sources and resources fall back to says so.

use idcbootstrap::spec::{self, Field, Presence, ResourceSpec, TerraformKind};

use crate::protocol::schema::{Attribute, Schema};
use crate::protocol::value::Type;

/// The block of `r`, at schema version 0 (a caller with stored state sets its own).
pub(crate) fn schema(r: &ResourceSpec) -> Schema {
    let attributes = r
        .fields
        .iter()
        .filter(|f| f.is_input() || !r.fields.iter().any(|g| g.is_input() && g.name == f.name))
        .map(|f| attribute(r, f))
        .collect();
    Schema::new(r.description, attributes)
}

/// The cty type Terraform sees for a spec type.
pub(crate) fn cty(t: spec::Type) -> Type {
    match t {
        spec::Type::String | spec::Type::Uuid | spec::Type::Duration => Type::String,
        spec::Type::Integer => Type::Number,
        spec::Type::Bool => Type::Bool,
        spec::Type::StringList => Type::List(Box::new(Type::String)),
        spec::Type::StringMap => Type::Map(Box::new(Type::String)),
        spec::Type::ObjectList(fields) => Type::List(Box::new(Type::Object(
            fields.iter().map(|f| (f.name.to_owned(), cty(f.ty))).collect(),
        ))),
    }
}

fn attribute(r: &ResourceSpec, f: &Field) -> Attribute {
    let provider = r.terraform_kind == TerraformKind::Provider;
    let falls_back = f.fallback && !provider;
    let (required, optional, computed) = match f.presence {
        Presence::Required if !falls_back && !provider => (true, false, false),
        Presence::Required | Presence::Optional => (false, true, false),
        Presence::OptionalComputed => (false, true, true),
        Presence::Computed => (false, false, true),
    };
    let mut description = f.doc();
    if falls_back {
        description.push_str(&format!(" Falls back to the provider's `{}`.", f.name));
    }
    if provider && falls_back_here(f.name) {
        description
            .push_str(&format!(" Data sources and resources that leave `{}` out use this value.", f.name));
    }
    Attribute {
        name: f.name,
        ty: cty(f.ty),
        description: description.into(),
        required,
        optional,
        computed,
        sensitive: f.sensitive,
    }
}

/// Whether a data source or resource falls back to the provider argument `name`.
fn falls_back_here(name: &str) -> bool {
    spec::RESOURCES.iter().any(|r| {
        matches!(r.terraform_kind, TerraformKind::DataSource | TerraformKind::Resource)
            && r.field(name).is_some_and(|f| f.fallback)
    })
}

#[cfg(test)]
mod tests {
    use std::fmt::Write;

    use super::*;

    /// One line per attribute: name, type, flags. Attribute names and types are
    /// the contract with every state Terraform has stored: renaming or retyping one
    /// breaks it, so this listing is pinned in `tests/fixtures/schema-shape.txt`.
    fn shape(name: &str, s: &Schema, out: &mut String) {
        let _ = writeln!(out, "{name} v{}", s.version);
        let mut attrs: Vec<&Attribute> = s.attributes.iter().collect();
        attrs.sort_by_key(|a| a.name);
        for a in attrs {
            let flags: String = [(a.required, 'r'), (a.optional, 'o'), (a.computed, 'c'), (a.sensitive, 's')]
                .iter()
                .filter(|(on, _)| *on)
                .map(|(_, c)| *c)
                .collect();
            let _ = writeln!(out, "  {} {} {flags}", a.name, a.ty.to_json());
        }
    }

    #[test]
    fn served_attribute_names_types_and_flags_stay_what_states_were_written_with() {
        let reg = crate::registry();
        let mut out = String::new();
        shape("provider", reg.provider.schema(), &mut out);
        for d in &reg.data_sources {
            shape(d.type_name(), d.schema(), &mut out);
        }
        for r in &reg.resources {
            shape(r.type_name(), r.schema(), &mut out);
        }
        let want = include_str!("../tests/fixtures/schema-shape.txt");
        assert_eq!(out, want, "the served schema changed shape:\n{out}");
    }

    #[test]
    fn descriptions_are_the_spec_text_with_generated_sentences() {
        let s = schema(&spec::TEMPLATE);
        let role = s.attributes.iter().find(|a| a.name == "role_name").unwrap();
        let f = spec::TEMPLATE.field("role_name").unwrap();
        assert_eq!(role.description, format!("{} Falls back to the provider's `role_name`.", f.doc()));
        assert!(role.optional && role.computed, "the input wins over the output of the same name");
        let tpa = s.attributes.iter().find(|a| a.name == "trusted_principal_arn").unwrap();
        assert!(tpa.optional && !tpa.required, "required at read, after the provider fallback");
        let p = schema(&spec::PROVIDER);
        let region = p.attributes.iter().find(|a| a.name == "region").unwrap();
        assert!(
            region
                .description
                .ends_with("Data sources and resources that leave `region` out use this value.")
        );
        assert_eq!(s.description, spec::TEMPLATE.description);
    }

    #[test]
    fn spec_types_map_to_terraform_types() {
        assert_eq!(cty(spec::Type::Duration), Type::String);
        assert_eq!(cty(spec::Type::Integer), Type::Number);
        let steps = schema(&spec::CONNECTIVITY).attributes.into_iter().find(|a| a.name == "steps").unwrap();
        let object = Type::Object(
            [
                ("step", Type::String),
                ("ok", Type::Bool),
                ("code", Type::String),
                ("message", Type::String),
                ("duration_ms", Type::Number),
            ]
            .into_iter()
            .map(|(n, t)| (n.to_owned(), t))
            .collect(),
        );
        assert_eq!(steps.ty, Type::List(Box::new(object)));
    }
}

//! The rendered artifacts, parsed back with independent parsers (serde-saphyr for
//! YAML, the `hcl` crate for HCL), carry exactly the request's values and the same
//! policy documents as `trust_policy_json` and `permissions_policy_json`.

mod common;

use std::collections::BTreeMap;

use common::{check_cfn, check_hcl, matrix, rendered};
use idcbootstrap::{ExternalId, RawTemplateRequest};
use proptest::prelude::*;
use serde_json::Value;

fn parse_yaml(text: &str) -> Value {
    serde_saphyr::from_str(text).unwrap_or_else(|e| panic!("YAML does not parse: {e}\n{text}"))
}

#[test]
fn policy_documents_are_the_same_in_every_rendering() {
    for (name, raw) in matrix() {
        let (req, out) = rendered(&raw);
        check_cfn(&parse_yaml(&out.cloudformation_yaml), &req, &out);
        check_hcl(&out.terraform_hcl, &req, &out);
        eprintln!("{name}: ok");
    }
}

#[test]
fn rendering_is_deterministic() {
    for (name, raw) in matrix() {
        let (_, a) = rendered(&raw);
        let (_, b) = rendered(&raw);
        assert_eq!(a, b, "{name}");
    }
}

/// Characters IAM tag keys and values allow, weighted towards the troublesome ones.
fn tag_text(max: usize) -> impl Strategy<Value = String> {
    let words = prop_oneof![
        Just("yes".to_owned()),
        Just("on".to_owned()),
        Just("No".to_owned()),
        Just("null".to_owned()),
        Just("0123".to_owned()),
        Just("2024-01-01".to_owned()),
        Just("1e3".to_owned()),
        Just("12:30".to_owned()),
        Just("- ".to_owned()),
        Just(": ".to_owned()),
        Just("@".to_owned()),
        Just("=".to_owned()),
        Just(" ".to_owned()),
        Just("\u{2028}".to_owned()),
        Just("\u{3000}".to_owned()),
        Just("é".to_owned()),
        Just("\u{1100}\u{1161}\u{11a8}".to_owned()),
        Just("東京".to_owned()),
        "[a-zA-Z0-9_.:/=+@-]{1,6}",
        "\\PC{1,3}".prop_filter("tag characters only", |s: &String| s.chars().all(tag_char)),
    ];
    prop::collection::vec(words, 0..6).prop_map(move |parts| {
        let s: String = parts.concat();
        s.chars().take(max).collect()
    })
}

/// IAM's tag pattern, `[\p{L}\p{Z}\p{N}_.:/=+\-@]`, independently of the validator.
fn tag_char(c: char) -> bool {
    static RE: std::sync::LazyLock<regex::Regex> =
        std::sync::LazyLock::new(|| regex::Regex::new(r"^[\p{L}\p{Z}\p{N}_.:/=+\-@]$").unwrap());
    RE.is_match(c.encode_utf8(&mut [0; 4]))
}

/// IAM paths allow any printable ASCII: quotes, `${`, `%{`, backslashes, `#`.
fn role_path() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            Just("${x}".to_owned()),
            Just("%{if}".to_owned()),
            Just("$${".to_owned()),
            Just("\"".to_owned()),
            Just("\\".to_owned()),
            Just("'".to_owned()),
            Just("#".to_owned()),
            Just(": ".replace(' ', "")),
            "[!-~]{1,5}",
        ],
        0..5,
    )
    .prop_map(|parts| {
        let inner = parts.concat();
        if inner.is_empty() { "/".to_owned() } else { format!("/{inner}/") }
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn tricky_values_survive_yaml_and_hcl(
        tags in prop::collection::btree_map(tag_text(128).prop_filter("non-empty key", |k| !k.is_empty()
            && !k.to_ascii_lowercase().starts_with("aws:")), tag_text(256), 0..6),
        path in role_path(),
        rotating in any::<bool>(),
    ) {
        let mut raw: RawTemplateRequest = common::base("aws", "eu-west-1", "admin");
        raw.tags = Some(tags);
        raw.role_path = Some(path);
        if rotating {
            raw.external_ids = Some(vec![ExternalId::new(common::ID_CURRENT), ExternalId::new(common::ID_PREVIOUS)]);
        }
        let tags_ok = raw.tags.as_ref().map(|t: &BTreeMap<String, String>| t.len()).unwrap_or(0);
        let (req, out) = rendered(&raw);
        prop_assert_eq!(req.tags().len(), tags_ok);
        check_cfn(&parse_yaml(&out.cloudformation_yaml), &req, &out);
        check_hcl(&out.terraform_hcl, &req, &out);
    }
}

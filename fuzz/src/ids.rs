//! Attribute paths and external IDs: parsing, display and their round trips.

use idcbootstrap::external_id::{self, ExternalId, ExternalIdSet};
use idcbootstrap::{AttrPath, Detail};

use crate::assert_no_echo;

const VOCABULARY: &str =
    concat!(include_str!("../../shared/src/external_id.rs"), include_str!("../../shared/src/error.rs"));

/// A path parses back from its display form to itself; serde agrees. (Attribute
/// names are shown as they are, control characters included: `parse` accepts any
/// character in them, and only map keys are quoted.)
pub fn attr_path(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let Some(p) = AttrPath::parse(s) else { return };
    let shown = p.to_string();
    assert_eq!(AttrPath::parse(&shown).as_ref(), Some(&p), "display form does not parse back to the path");
    let json = serde_json::to_string(&p).expect("a path serializes");
    assert_eq!(serde_json::from_str::<AttrPath>(&json).ok().as_ref(), Some(&p), "serde round trip");
}

/// The same string with every character replaced by one of the same class (allowed
/// in an ID or not): what an error may depend on.
fn mask(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || "_+=,.@:/-".contains(c) { 'a' } else { ' ' }).collect()
}

fn check_detail_is_shape_only(d: &Detail, s: &str) {
    let masked = ExternalId::parse(d.field.clone(), &mask(s)).expect_err("the masked value is refused too");
    assert_eq!(
        (&d.rule, &d.message),
        (&masked.rule, &masked.message),
        "the error depends on the value's content"
    );
    assert_no_echo("external ID error", &d.message, &[s.to_owned()], VOCABULARY, &[]);
}

/// External-ID parsing: a valid ID is kept as given and redacted everywhere; an
/// invalid one is refused with a message that depends only on its shape. The
/// same for the rotation keeper and for a trusted list (IDs separated by spaces).
pub fn external_id_parse(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let path = AttrPath::field("external_ids").index(0);
    match ExternalId::parse(path, s) {
        Ok(id) => {
            assert_eq!(id.expose(), s);
            assert_eq!(format!("{id:?}"), "ExternalId(<redacted>)");
            assert_eq!(format!("{id}"), "<redacted>");
            let json = serde_json::to_string(&id).expect("serializes");
            assert_eq!(serde_json::from_str::<ExternalId>(&json).expect("deserializes"), id);
        }
        Err(d) => check_detail_is_shape_only(&d, s),
    }
    if let Err(d) = external_id::rotation_keeper(AttrPath::field("rotation"), Some(s)) {
        assert_no_echo("rotation keeper error", &d.message, &[s.to_owned()], VOCABULARY, &[]);
    }
    let ids: Vec<ExternalId> = s.split(' ').map(ExternalId::new).collect();
    let pieces: Vec<String> = s.split(' ').map(str::to_owned).collect();
    match ExternalIdSet::from_list(&AttrPath::field("external_ids"), &ids) {
        Ok(set) => {
            assert_eq!(set.all(), ids, "a trusted list does not come back as given");
            assert!(!format!("{set:?}").contains("ExternalId(\""), "Debug of a set shows an ID");
        }
        Err(e) => {
            let text = format!("{e} {e:?} {}", serde_json::to_string(&e).unwrap_or_default());
            assert_no_echo("trusted-list error", &text, &pieces, VOCABULARY, &[]);
        }
    }
}

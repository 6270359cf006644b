//! External IDs: the confused-deputy guard on the trust role. Generated from a
//! CSPRNG, never logged: `Debug` and `Display` redact.
//!
//! Rotation is a plain state machine over [`ExternalIdSet`]:
//! steady (`current`) → [`ExternalIdSet::rotate`] → rotating (`current` + `previous`,
//! both trusted) → [`ExternalIdSet::retire_previous`] → steady (the new ID only).
//! The vendor switches to the new ID while both are trusted, then the old one is
//! retired; at no point is an ID that is still in use dropped.
//!
//! Front-ends that describe the wanted state declaratively (Terraform's
//! `rotation`/`retire_previous`, CloudFormation's `Rotation`/`RetirePrevious`) ask
//! [`plan_rotation`] which step to take, so both refuse the same changes with the
//! same message. The vendor API drives the same set imperatively (rotate, then
//! [`ExternalIdSet::retire_previous`] to commit or
//! [`ExternalIdSet::cancel_rotation`] to cancel).

use std::borrow::Cow;
use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::{Detail, Error, ErrorCode, Result};
use crate::path::AttrPath;

/// Shortest external ID STS accepts.
pub const MIN_LEN: usize = 2;
/// Longest external ID STS accepts.
pub const MAX_LEN: usize = 1224;
/// Longest `rotation` keeper value.
pub const MAX_ROTATION_LEN: usize = 256;
/// Length of a generated external ID: 32 base62 characters carry 190 bits.
pub const GENERATED_LEN: usize = 32;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A secret external ID. Serializes as the plain string (it must reach the wire),
/// but `Debug` and `Display` print `<redacted>`; use [`ExternalId::expose`] to read it.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ExternalId(String);

/// STS's `ExternalId` alphabet: `[\w+=,.@:/-]`.
fn is_external_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '+' | '=' | ',' | '.' | '@' | ':' | '/' | '-')
}

impl ExternalId {
    /// Wraps a value without validating it (validation happens in
    /// [`crate::TemplateRequest::validate`] or [`ExternalId::parse`]).
    pub fn new(value: impl Into<String>) -> Self {
        ExternalId(value.into())
    }

    /// Validates `s` as an external ID: 2 to 1224 characters of `[\w+=,.@:/-]`.
    ///
    /// # Errors
    ///
    /// A [`Detail`] at `path` with rule `length` or `pattern`. The message never
    /// contains the value.
    pub fn parse(path: AttrPath, s: &str) -> Result<ExternalId, Detail> {
        let n = s.chars().count();
        if !(MIN_LEN..=MAX_LEN).contains(&n) {
            return Err(Detail::new(
                path,
                "length",
                format!("an external ID must be {MIN_LEN} to {MAX_LEN} characters, got {n}"),
            ));
        }
        if let Some(pos) = s.chars().position(|c| !is_external_id_char(c)) {
            return Err(Detail::new(
                path,
                "pattern",
                format!(
                    "an external ID may contain only letters, digits and _+=,.@:/- \
                     (character {} is not allowed; the value is not shown because it is secret)",
                    pos + 1
                ),
            ));
        }
        Ok(ExternalId(s.to_owned()))
    }

    /// A new external ID of [`GENERATED_LEN`] base62 characters from the operating
    /// system's CSPRNG (about 190 bits), drawn by rejection sampling so every
    /// character is uniform.
    ///
    /// # Errors
    ///
    /// `internal` if the operating system's random source fails.
    pub fn generate() -> Result<ExternalId> {
        let mut out = String::with_capacity(GENERATED_LEN);
        let mut buf = [0u8; 64];
        while out.len() < GENERATED_LEN {
            getrandom::fill(&mut buf).map_err(|e| {
                Error::new(ErrorCode::Internal, format!("the operating system's random source failed: {e}"))
            })?;
            for c in buf.iter().filter_map(|&b| base62_symbol(b)) {
                if out.len() == GENERATED_LEN {
                    break;
                }
                out.push(c);
            }
        }
        Ok(ExternalId(out))
    }

    /// The secret value. Callers must not log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// The base62 symbol a random byte stands for, or `None` for a byte the sampler
/// rejects. 248 = 4 × 62: each symbol has exactly four bytes below it, while the eight
/// bytes from 248 up would give the first eight symbols a fifth one (25% more often).
fn base62_symbol(b: u8) -> Option<char> {
    (b < 248).then(|| char::from(BASE62[usize::from(b % 62)]))
}

impl fmt::Debug for ExternalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ExternalId(<redacted>)")
    }
}

impl fmt::Display for ExternalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl JsonSchema for ExternalId {
    fn schema_name() -> Cow<'static, str> {
        "ExternalId".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "minLength": MIN_LEN,
            "maxLength": MAX_LEN,
            "pattern": "^[\\w+=,.@:/-]*$",
            "description": "A secret external ID (sts:ExternalId); never logged."
        })
    }
}

/// The prefix every environment variable an import may read must have:
/// `terraform import ADDRESS env:IDCBOOTSTRAP_EXTERNAL_ID_VENDOR` reads
/// `IDCBOOTSTRAP_EXTERNAL_ID_VENDOR`. Any other name is refused, so an import (which a
/// configuration change can trigger with an `import {}` block and a mere `plan`)
/// cannot copy another secret of the provider's environment, such as
/// `AWS_SECRET_ACCESS_KEY`, into state.
pub const IMPORT_ENV_PREFIX: &str = "IDCBOOTSTRAP_EXTERNAL_ID_";

/// The environment variable an import ID of the form `env:NAME` names, or `None`
/// when the import ID is the external ID itself.
///
/// # Errors
///
/// `Some(Err)` with a [`Detail`] (root path, rule `env_prefix`) when `NAME` does not
/// start with [`IMPORT_ENV_PREFIX`], has nothing after it, or holds a character
/// other than `A-Z`, `0-9` and `_`. The message does not repeat the name.
pub fn import_env_var(import_id: &str) -> Option<Result<&str, Detail>> {
    let name = import_id.strip_prefix("env:")?;
    let ok = name.strip_prefix(IMPORT_ENV_PREFIX).is_some_and(|rest| {
        !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
    });
    Some(if ok {
        Ok(name)
    } else {
        Err(Detail::new(
            AttrPath::root(),
            "env_prefix",
            format!(
                "an `env:NAME` import ID may only name a variable whose name is {IMPORT_ENV_PREFIX} followed by \
                 capital letters, digits or underscores (for example {IMPORT_ENV_PREFIX}VENDOR), so that an import \
                 cannot read other secrets from the provider's environment"
            ),
        ))
    })
}

/// Generates a new external ID. Shorthand for [`ExternalId::generate`].
///
/// # Errors
///
/// `internal` if the operating system's random source fails.
pub fn generate() -> Result<ExternalId> {
    ExternalId::generate()
}

/// Where a set of external IDs is in its rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RotationState {
    /// One trusted ID.
    Steady,
    /// Two trusted IDs: the new `current` and the `previous` one, still in use.
    Rotating,
}

/// The trusted external IDs of one role: always a `current`, and a `previous` while
/// rotating. Both are trusted by the rendered trust policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ExternalIdSet {
    /// The ID the vendor should use.
    pub current: ExternalId,
    /// The ID being rotated out, still trusted until retired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<ExternalId>,
}

impl ExternalIdSet {
    /// A steady set holding `current`.
    pub fn new(current: ExternalId) -> Self {
        ExternalIdSet { current, previous: None }
    }

    /// A steady set with a freshly generated ID.
    ///
    /// # Errors
    ///
    /// `internal` if the random source fails.
    pub fn generate() -> Result<Self> {
        Ok(ExternalIdSet::new(ExternalId::generate()?))
    }

    /// Rebuilds a set from a trusted list, current first (the `external_ids` wire form).
    ///
    /// # Errors
    ///
    /// `invalid_input` at `path` (rule `count`, `distinct`, `length` or `pattern`)
    /// if the list does not hold 1 or 2 distinct valid IDs.
    pub fn from_list(path: &AttrPath, ids: &[ExternalId]) -> Result<Self> {
        let count = || {
            Error::invalid_input(vec![Detail::new(
                path.clone(),
                "count",
                format!("must hold 1 or 2 external IDs, got {}", ids.len()),
            )])
        };
        let mut details = Vec::new();
        for (i, id) in ids.iter().enumerate() {
            if let Err(d) = ExternalId::parse(path.index(i), id.expose()) {
                details.push(d);
            }
        }
        if !details.is_empty() {
            return Err(Error::invalid_input(details));
        }
        match ids {
            [current] => Ok(ExternalIdSet::new(current.clone())),
            [current, previous] if current == previous => Err(Error::invalid_input(vec![Detail::new(
                path.index(1),
                "distinct",
                "must differ from the current external ID",
            )])),
            [current, previous] => {
                Ok(ExternalIdSet { current: current.clone(), previous: Some(previous.clone()) })
            }
            _ => Err(count()),
        }
    }

    /// Steady or rotating.
    pub fn state(&self) -> RotationState {
        if self.previous.is_some() { RotationState::Rotating } else { RotationState::Steady }
    }

    /// Starts a rotation to a freshly generated ID: the current ID becomes `previous`
    /// and stays trusted.
    ///
    /// # Errors
    ///
    /// `invalid_input` on `external_ids` (rule `rotation`) while already rotating;
    /// `internal` if the random source fails.
    pub fn rotate(&mut self) -> Result<()> {
        self.ensure_steady()?;
        let new = ExternalId::generate()?;
        self.rotate_to(new)
    }

    /// Starts a rotation to `new` (e.g. an ID the vendor chose).
    ///
    /// # Errors
    ///
    /// `invalid_input` on `external_ids` (rule `rotation`) while already rotating,
    /// because a third ID would drop a still-trusted one; rule `distinct` if `new`
    /// equals the current ID.
    pub fn rotate_to(&mut self, new: ExternalId) -> Result<()> {
        self.ensure_steady()?;
        if new == self.current {
            return Err(Error::invalid_input(vec![Detail::new(
                AttrPath::field("external_ids").index(0),
                "distinct",
                "the new external ID must differ from the current one",
            )]));
        }
        let old = std::mem::replace(&mut self.current, new);
        self.previous = Some(old);
        Ok(())
    }

    /// Ends a rotation: the previous ID stops being trusted. Returns it (or `None`
    /// when steady, which makes retiring idempotent).
    pub fn retire_previous(&mut self) -> Option<ExternalId> {
        self.previous.take()
    }

    /// Abandons a rotation: the new ID is dropped and the previous one, which
    /// never stopped being trusted, is current again. Returns the dropped ID (or
    /// `None` when steady, which makes cancelling idempotent).
    pub fn cancel_rotation(&mut self) -> Option<ExternalId> {
        let previous = self.previous.take()?;
        Some(std::mem::replace(&mut self.current, previous))
    }

    /// Every trusted ID, current first.
    pub fn all(&self) -> Vec<ExternalId> {
        let mut v = Vec::with_capacity(2);
        v.push(self.current.clone());
        v.extend(self.previous.iter().cloned());
        v
    }

    fn ensure_steady(&self) -> Result<()> {
        if self.previous.is_some() {
            return Err(Error::invalid_input(vec![Detail::new(
                AttrPath::field("external_ids"),
                "rotation",
                "a rotation is already in progress: retire the previous external ID first \
                 (once the vendor uses the current one), then rotate again",
            )]));
        }
        Ok(())
    }
}

/// The step a declarative change asks for; see [`plan_rotation`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RotationStep {
    /// Nothing changes.
    Keep,
    /// Start a rotation: a new current ID, the old one kept as previous.
    Rotate,
    /// End a rotation: the previous ID stops being trusted.
    Retire,
}

/// The `rotation` keeper as the rotation machine sees it: `None` when unset or
/// empty, which are the same.
///
/// # Errors
///
/// A [`Detail`] at `path`, rule `length`, when it is longer than
/// [`MAX_ROTATION_LEN`] characters.
pub fn rotation_keeper(path: AttrPath, value: Option<&str>) -> std::result::Result<Option<&str>, Detail> {
    match value {
        None | Some("") => Ok(None),
        Some(v) if v.chars().count() > MAX_ROTATION_LEN => Err(Detail::new(
            path,
            "length",
            format!("rotation: must be at most {MAX_ROTATION_LEN} characters"),
        )),
        Some(v) => Ok(Some(v)),
    }
}

/// Decides the step for a change of the wanted state, the one rule every
/// declarative front-end follows:
///
/// * `rotation` going from one value to another starts a rotation; from unset (or
///   empty) to a value only records it, so importing or adding the keeper later
///   does not rotate.
/// * `retire_previous = true` retires the previous ID, if there is one.
/// * Both in one change is refused: the ID that was current a moment ago is the one
///   the vendor uses now, and retiring in the same change would drop it.
/// * Rotating while a previous ID is still trusted is refused: a third ID would
///   drop one that may still be in use.
///
/// `set` is the stored set; `prior`/`wanted` are the keeper values (see
/// [`rotation_keeper`]). Nothing is changed here: the caller applies the step.
///
/// # Errors
///
/// `invalid_input` with rule `rotation` on the fields `rotation` and (for the
/// first refusal) `retire_previous`. The messages name those fields in snake_case;
/// a front-end with other names translates them.
pub fn plan_rotation(
    set: &ExternalIdSet,
    prior: Option<&str>,
    wanted: Option<&str>,
    retire_previous: bool,
) -> Result<RotationStep> {
    let rotate = matches!((prior, wanted), (Some(a), Some(b)) if a != b);
    if rotate && retire_previous {
        let msg = "rotation and retire_previous cannot change together: the external ID that is current now is \
                   the one the vendor uses, and retiring in the change that starts a rotation would drop it. Set \
                   retire_previous to false together with the new rotation, and to true in a later change, once \
                   the vendor uses the new ID";
        return Err(Error::invalid_input(vec![
            Detail::new(AttrPath::field("rotation"), "rotation", msg),
            Detail::new(AttrPath::field("retire_previous"), "rotation", msg),
        ]));
    }
    if rotate {
        if set.previous.is_some() {
            return Err(Error::invalid_input(vec![Detail::new(
                AttrPath::field("rotation"),
                "rotation",
                "a rotation is already in progress: set retire_previous to true (once the vendor uses the \
                 current external ID) and apply, then change rotation again",
            )]));
        }
        return Ok(RotationStep::Rotate);
    }
    if retire_previous && set.previous.is_some() {
        return Ok(RotationStep::Retire);
    }
    Ok(RotationStep::Keep)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> ExternalId {
        ExternalId::new(s)
    }

    #[test]
    fn generated_ids_are_valid_long_and_distinct() {
        let a = ExternalId::generate().unwrap();
        let b = ExternalId::generate().unwrap();
        assert_eq!(a.expose().len(), GENERATED_LEN);
        assert!(a.expose().bytes().all(|c| c.is_ascii_alphanumeric()));
        assert!(ExternalId::parse(AttrPath::root(), a.expose()).is_ok());
        assert_ne!(a, b);
    }

    #[test]
    fn generated_ids_use_the_whole_alphabet_roughly_evenly() {
        let mut counts = [0u32; 62];
        for _ in 0..400 {
            for c in ExternalId::generate().unwrap().expose().bytes() {
                let i = BASE62.iter().position(|&b| b == c).unwrap();
                counts[i] += 1;
            }
        }
        // 12800 draws, 206 expected per symbol; a broken sampler leaves symbols out
        // or doubles some.
        assert!(counts.iter().all(|&n| (100..=330).contains(&n)), "{counts:?}");
        // Without the rejection of bytes 248..=255 the first eight symbols ('0'..'7')
        // come up 5/256 of the time instead of 1/62: 2000 of 12800 draws instead of
        // 1652 (standard deviation about 38). 1826 sits 4.6 deviations from both.
        let first_eight: u32 = counts[..8].iter().sum();
        assert!(first_eight < 1826, "the first eight symbols are favoured: {first_eight} of 12800");
    }

    /// The acceptance rule itself: over every byte value, each symbol comes from
    /// exactly four bytes, and the eight bytes that would bias it are rejected.
    #[test]
    fn sampler_maps_every_byte_value_to_symbols_uniformly() {
        let mut per_symbol = std::collections::BTreeMap::new();
        let mut rejected = Vec::new();
        for b in 0..=255u8 {
            match base62_symbol(b) {
                Some(c) => *per_symbol.entry(c).or_insert(0) += 1,
                None => rejected.push(b),
            }
        }
        assert_eq!(per_symbol.len(), 62);
        assert!(per_symbol.values().all(|&n| n == 4), "{per_symbol:?}");
        assert_eq!(rejected, (248..=255).collect::<Vec<u8>>());
    }

    #[test]
    fn import_env_var_only_reads_the_documented_prefix() {
        assert!(import_env_var("plain-external-id-0001").is_none());
        assert_eq!(
            import_env_var("env:IDCBOOTSTRAP_EXTERNAL_ID_VENDOR"),
            Some(Ok("IDCBOOTSTRAP_EXTERNAL_ID_VENDOR"))
        );
        assert_eq!(
            import_env_var("env:IDCBOOTSTRAP_EXTERNAL_ID_A_2"),
            Some(Ok("IDCBOOTSTRAP_EXTERNAL_ID_A_2"))
        );
        for bad in [
            "env:AWS_SECRET_ACCESS_KEY",
            "env:HOME",
            "env:",
            "env:IDCBOOTSTRAP_EXTERNAL_ID_",
            "env:IDCBOOTSTRAP_EXTERNAL_ID_vendor",
            "env:IDCBOOTSTRAP_EXTERNAL_ID_X=Y",
            "env:IDCBOOTSTRAP_STS_ENDPOINT",
            "env:idcbootstrap_external_id_vendor",
        ] {
            let d = import_env_var(bad).unwrap().unwrap_err();
            assert_eq!(d.rule, "env_prefix", "{bad}");
            assert!(d.field.is_root());
            assert!(!d.message.contains("AWS_SECRET") && !d.message.contains("vendor"), "{}", d.message);
        }
    }

    #[test]
    fn debug_and_display_redact() {
        let secret = id("s3cr3t-value");
        assert!(!format!("{secret:?}").contains("s3cr3t"));
        assert!(!format!("{secret}").contains("s3cr3t"));
        let set = ExternalIdSet { current: secret.clone(), previous: Some(id("other-s3cr3t")) };
        assert!(!format!("{set:?}").contains("s3cr3t"));
        assert_eq!(serde_json::to_value(&secret).unwrap(), "s3cr3t-value");
    }

    #[test]
    fn parse_rejects_without_echoing_the_value() {
        let cases = [("Q", "length"), ("has space-secret", "pattern"), ("ü-secret", "pattern")];
        for (value, rule) in cases {
            let d = ExternalId::parse(AttrPath::field("external_ids").index(0), value).unwrap_err();
            assert_eq!(d.rule, rule, "{value}");
            assert!(!d.message.contains(value), "{}", d.message);
            assert_eq!(d.field.to_string(), "external_ids[0]");
        }
        let long = "a".repeat(MAX_LEN + 1);
        assert_eq!(ExternalId::parse(AttrPath::root(), &long).unwrap_err().rule, "length");
        assert!(ExternalId::parse(AttrPath::root(), &"a".repeat(MAX_LEN)).is_ok());
        assert!(ExternalId::parse(AttrPath::root(), "ab+=,.@:/-_Z9").is_ok());
    }

    #[test]
    fn rotation_keeps_previous_id_trusted() {
        let mut set = ExternalIdSet::new(id("old-id"));
        assert_eq!(set.state(), RotationState::Steady);
        set.rotate_to(id("new-id")).unwrap();
        assert_eq!(set.state(), RotationState::Rotating);
        assert_eq!(set.all(), vec![id("new-id"), id("old-id")]);
    }

    #[test]
    fn retiring_returns_to_steady_with_only_the_new_id() {
        let mut set = ExternalIdSet::new(id("old-id"));
        set.rotate().unwrap();
        let new = set.current.clone();
        assert_eq!(set.retire_previous(), Some(id("old-id")));
        assert_eq!(set.state(), RotationState::Steady);
        assert_eq!(set.all(), vec![new]);
        assert_eq!(set.retire_previous(), None, "retiring twice is harmless");
    }

    #[test]
    fn rotating_while_rotating_is_refused_and_drops_nothing() {
        let mut set = ExternalIdSet::new(id("first"));
        set.rotate_to(id("second")).unwrap();
        let before = set.clone();
        let err = set.rotate_to(id("third")).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidInput);
        assert_eq!(err.details[0].rule, "rotation");
        assert!(err.message.contains("retire"), "{}", err.message);
        assert_eq!(set, before);
        assert!(set.rotate().is_err());
        assert_eq!(set, before);
    }

    #[test]
    fn plan_rotation_table() {
        use RotationStep::{Keep, Retire, Rotate};
        let steady = ExternalIdSet::new(id("a1"));
        let mut rotating = steady.clone();
        rotating.rotate_to(id("b2")).unwrap();
        // (set, prior, wanted, retire) -> step or refused fields
        type Row<'a> =
            (&'a ExternalIdSet, Option<&'a str>, Option<&'a str>, bool, Result<RotationStep, Vec<&'a str>>);
        let rows: [Row<'_>; 10] = [
            (&steady, None, None, false, Ok(Keep)),
            (&steady, None, Some("1"), false, Ok(Keep)),
            (&steady, Some("1"), None, false, Ok(Keep)),
            (&steady, Some("1"), Some("2"), false, Ok(Rotate)),
            (&steady, Some("1"), Some("1"), true, Ok(Keep)),
            (&rotating, Some("2"), Some("2"), true, Ok(Retire)),
            (&rotating, Some("2"), Some("3"), false, Err(vec!["rotation"])),
            // The case that once dropped the ID in use: retire stayed true from the
            // last rotation while the next one starts.
            (&steady, Some("2"), Some("3"), true, Err(vec!["rotation", "retire_previous"])),
            (&rotating, Some("2"), Some("3"), true, Err(vec!["rotation", "retire_previous"])),
            (&rotating, Some("2"), Some("2"), false, Ok(Keep)),
        ];
        for (set, prior, wanted, retire, want) in rows {
            let got = plan_rotation(set, prior, wanted, retire)
                .map_err(|e| e.details.iter().map(|d| d.field.to_string()).collect::<Vec<_>>());
            let want = want.map_err(|v| v.into_iter().map(str::to_owned).collect::<Vec<_>>());
            assert_eq!(got, want, "{prior:?} -> {wanted:?}, retire {retire}, {:?}", set.state());
        }
    }

    #[test]
    fn rotation_keeper_rule() {
        let p = || AttrPath::field("rotation");
        assert_eq!(rotation_keeper(p(), Some("")), Ok(None));
        assert_eq!(rotation_keeper(p(), None), Ok(None));
        assert_eq!(rotation_keeper(p(), Some("x")), Ok(Some("x")));
        let long = "r".repeat(MAX_ROTATION_LEN + 1);
        assert_eq!(rotation_keeper(p(), Some(&long)).unwrap_err().rule, "length");
    }

    #[test]
    fn cancel_restores_the_previous_id() {
        let mut set = ExternalIdSet::new(id("old-id"));
        set.rotate_to(id("new-id")).unwrap();
        assert_eq!(set.cancel_rotation(), Some(id("new-id")));
        assert_eq!(set, ExternalIdSet::new(id("old-id")));
        assert_eq!(set.cancel_rotation(), None);
    }

    #[test]
    fn rotating_to_the_same_id_is_refused() {
        let mut set = ExternalIdSet::new(id("same"));
        assert_eq!(set.rotate_to(id("same")).unwrap_err().details[0].rule, "distinct");
        assert_eq!(set.state(), RotationState::Steady);
    }

    #[test]
    fn from_list_round_trips_all() {
        for list in [vec![id("aa")], vec![id("aa"), id("bb")]] {
            assert_eq!(ExternalIdSet::from_list(&AttrPath::field("x"), &list).unwrap().all(), list);
        }
        let p = AttrPath::field("external_ids");
        assert_eq!(ExternalIdSet::from_list(&p, &[]).unwrap_err().details[0].rule, "count");
        assert_eq!(
            ExternalIdSet::from_list(&p, &[id("aa"), id("aa")]).unwrap_err().details[0].rule,
            "distinct"
        );
        assert_eq!(
            ExternalIdSet::from_list(&p, &[id("aa"), id("bb"), id("cc")]).unwrap_err().details[0].rule,
            "count"
        );
    }
}

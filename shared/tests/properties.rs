//! Properties of the core that hold for every input, checked on random ones: the
//! rotation machine never drops an ID it was not asked to drop, external IDs parse
//! back as given and are refused without being echoed, and attribute paths survive
//! display and parse. (Coverage-guided fuzzing of the same code is in `fuzz/`.)

use idcbootstrap::external_id::{
    self, ExternalId, ExternalIdSet, RotationState, RotationStep, plan_rotation,
};
use idcbootstrap::{AttrPath, ErrorCode};
use proptest::prelude::*;

/// Strings from the external-ID alphabet, 2 to 64 characters.
fn valid_id() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_+=,.@:/-]{2,64}"
}

#[derive(Debug, Clone)]
enum Op {
    RotateTo(String),
    Rotate,
    Retire,
    Cancel,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![valid_id().prop_map(Op::RotateTo), Just(Op::Rotate), Just(Op::Retire), Just(Op::Cancel),]
}

fn check_set(set: &ExternalIdSet) {
    let all = set.all();
    assert!(!all.is_empty() && all.len() <= 2);
    assert_eq!(all[0], set.current);
    assert_eq!(set.state() == RotationState::Rotating, set.previous.is_some());
    if let Some(p) = &set.previous {
        assert_ne!(p, &set.current, "current and previous are the same");
    }
}

proptest! {
    /// Whatever is asked, in any order: at most two IDs, the two distinct, and an ID
    /// stops being trusted only when retire or cancel hands it back.
    #[test]
    fn rotation_never_drops_an_id_it_was_not_asked_to(start in valid_id(), ops in prop::collection::vec(op(), 0..24)) {
        let mut set = ExternalIdSet::new(ExternalId::new(start));
        for op in ops {
            let before = set.clone();
            let dropped = match op {
                Op::RotateTo(id) => {
                    let id = ExternalId::new(id);
                    match set.rotate_to(id.clone()) {
                        Ok(()) => {
                            prop_assert!(before.previous.is_none(), "rotated while rotating");
                            prop_assert_eq!(&set.current, &id);
                            prop_assert_eq!(set.previous.as_ref(), Some(&before.current));
                        }
                        Err(e) => {
                            prop_assert_eq!(e.code, ErrorCode::InvalidInput);
                            prop_assert!(before.previous.is_some() || id == before.current);
                            prop_assert_eq!(&set, &before, "a refused rotation changed the set");
                        }
                    }
                    None
                }
                Op::Rotate => {
                    if set.rotate().is_err() {
                        prop_assert!(before.previous.is_some());
                        prop_assert_eq!(&set, &before);
                    } else {
                        prop_assert_eq!(set.previous.as_ref(), Some(&before.current));
                    }
                    None
                }
                Op::Retire => {
                    let r = set.retire_previous();
                    prop_assert_eq!(&r, &before.previous);
                    prop_assert_eq!(&set.current, &before.current);
                    r
                }
                Op::Cancel => {
                    let r = set.cancel_rotation();
                    if before.previous.is_some() {
                        prop_assert_eq!(r.as_ref(), Some(&before.current));
                        prop_assert_eq!(Some(&set.current), before.previous.as_ref());
                    } else {
                        prop_assert_eq!(&set, &before);
                    }
                    r
                }
            };
            check_set(&set);
            for id in before.all() {
                prop_assert!(set.all().contains(&id) || dropped.as_ref() == Some(&id), "an ID vanished");
            }
        }
    }

    /// `plan_rotation` never asks for a step the machine would refuse, and refuses
    /// rotating and retiring together.
    #[test]
    fn plan_rotation_agrees_with_the_machine(
        rotating in any::<bool>(),
        prior in prop::option::of("[a-c]{0,1}"),
        wanted in prop::option::of("[a-c]{0,1}"),
        retire in any::<bool>(),
    ) {
        let mut set = ExternalIdSet::new(ExternalId::new("current-id"));
        if rotating {
            set.rotate_to(ExternalId::new("next-id")).unwrap();
        }
        let prior = prior.as_deref().filter(|s| !s.is_empty());
        let wanted = wanted.as_deref().filter(|s| !s.is_empty());
        let changes = matches!((prior, wanted), (Some(a), Some(b)) if a != b);
        match plan_rotation(&set, prior, wanted, retire) {
            Ok(RotationStep::Rotate) => {
                prop_assert!(changes && !retire && !rotating);
                prop_assert!(set.clone().rotate().is_ok());
            }
            Ok(RotationStep::Retire) => prop_assert!(retire && rotating && !changes),
            Ok(RotationStep::Keep) => prop_assert!(!(changes || (retire && rotating))),
            Err(e) => {
                prop_assert!(changes && (retire || rotating));
                prop_assert!(e.details.iter().all(|d| d.rule == "rotation"));
            }
        }
    }

    /// A valid ID parses to itself, serializes as itself, and is redacted in Debug
    /// and Display.
    #[test]
    fn valid_ids_round_trip(s in valid_id()) {
        let id = ExternalId::parse(AttrPath::field("external_ids").index(0), &s).unwrap();
        prop_assert_eq!(id.expose(), s.as_str());
        prop_assert_eq!(format!("{id:?}"), "ExternalId(<redacted>)");
        prop_assert_eq!(format!("{id}"), "<redacted>");
        let json = serde_json::to_string(&id).unwrap();
        prop_assert_eq!(serde_json::from_str::<ExternalId>(&json).unwrap(), id);
    }

    /// An invalid ID is refused with a message that never holds the value.
    #[test]
    fn invalid_ids_are_refused_without_echo(prefix in "[a-z]{8,20}", bad in "[^A-Za-z0-9_+=,.@:/-]", suffix in "[a-z]{0,20}") {
        let s = format!("{prefix}{bad}{suffix}");
        let d = ExternalId::parse(AttrPath::field("external_ids").index(0), &s).unwrap_err();
        prop_assert_eq!(d.rule.as_str(), "pattern");
        prop_assert!(!d.message.contains(&prefix), "{}", d.message);
        prop_assert!(!d.message.contains(&s));
    }

    /// A trusted list of one or two distinct IDs comes back from a set as given.
    #[test]
    fn trusted_lists_round_trip(a in valid_id(), b in prop::option::of(valid_id())) {
        let mut list = vec![ExternalId::new(a)];
        list.extend(b.map(ExternalId::new));
        match ExternalIdSet::from_list(&AttrPath::field("external_ids"), &list) {
            Ok(set) => prop_assert_eq!(set.all(), list),
            Err(e) => prop_assert!(list.len() == 2 && list[0] == list[1] && e.details[0].rule == "distinct"),
        }
    }

    /// Rotation keepers over the limit are refused without echo; others pass as given.
    #[test]
    fn rotation_keeper_is_bounded(s in "[a-z]{0,300}") {
        match external_id::rotation_keeper(AttrPath::field("rotation"), Some(&s)) {
            Ok(v) => prop_assert_eq!(v, Some(s.as_str()).filter(|s| !s.is_empty())),
            Err(d) => {
                prop_assert!(s.chars().count() > external_id::MAX_ROTATION_LEN);
                prop_assert!(!d.message.contains(&s));
            }
        }
    }

    /// Any path built from steps displays as a string that parses back to it.
    #[test]
    fn paths_display_and_parse_round_trip(
        first in "[a-z_][a-z0-9_]{0,12}",
        steps in prop::collection::vec(
            prop_oneof![
                "[a-z_][a-z0-9_]{0,12}".prop_map(|s| (0u8, s, 0usize)),
                any::<usize>().prop_map(|i| (1u8, String::new(), i)),
                any::<String>().prop_map(|k| (2u8, k, 0usize)),
            ],
            0..6,
        ),
    ) {
        let mut p = AttrPath::root().attr(first);
        for (kind, s, i) in steps {
            p = match kind {
                0 => p.attr(s),
                1 => p.index(i),
                _ => p.key(s),
            };
        }
        let shown = p.to_string();
        prop_assert_eq!(AttrPath::parse(&shown), Some(p.clone()), "{}", shown);
        let json = serde_json::to_string(&p).unwrap();
        prop_assert_eq!(serde_json::from_str::<AttrPath>(&json).unwrap(), p);
    }
}

//! `idcbootstrap_external_id` as a sequence of creates, updates and deletes, planned
//! and applied as Terraform does, checked against what the rotation rule allows: no
//! ID stops being trusted unless it was retired, apply keeps every planned value,
//! and a refused change changes nothing.

use idcbootstrap_provider::fuzz::{self as hook, Decoded, Outcome, Setting};

use crate::assert_no_echo;

const TYPE_NAME: &str = "idcbootstrap_external_id";

/// What `Debug` of a state shows besides values: attribute names and value kinds.
const DEBUG_WORDS: &str = "Object({\"all\": List([String(<32 chars>)]), \"current\": Null, \"id\": Unknown, \
                           \"previous\": Bool(true), \"retire_previous\": Map, \"rotation\": Number, \"rotation_state\"})";

/// The trusted IDs of a state, current first; panics unless the state is coherent.
pub fn check_external_id_state(s: &Decoded) -> Vec<String> {
    let current = s.attr_str("current").expect("a state has a current ID").to_owned();
    let previous = s.attr_str("previous").map(str::to_owned);
    let mut want = vec![current.clone()];
    want.extend(previous.clone());
    let all: Vec<String> =
        s.attr_strings("all").expect("`all` is a list of IDs").into_iter().map(str::to_owned).collect();
    assert_eq!(all, want, "`all` is not current then previous");
    assert_ne!(Some(&current), previous.as_ref(), "current and previous are the same ID");
    let state = if previous.is_some() { "rotating" } else { "steady" };
    assert_eq!(s.attr_str("rotation_state"), Some(state), "rotation_state");
    assert_no_echo("Debug of a state", &format!("{s:?}"), &all, DEBUG_WORDS, &[]);
    all
}

fn rotation(b: u8) -> Setting<String> {
    let v = |i: u8| match i % 6 {
        0 => String::new(),
        1..=4 => format!("r{}", i % 6),
        _ => "r".repeat(257),
    };
    match b % 4 {
        0 => Setting::Null,
        1 => Setting::UnknownThen(v(b >> 2)),
        _ => Setting::Known(v(b >> 2)),
    }
}

fn retire(b: u8) -> Setting<bool> {
    match b % 5 {
        0 => Setting::Null,
        1 => Setting::Known(false),
        2 | 3 => Setting::Known(true),
        _ => Setting::UnknownThen(b & 0x80 != 0),
    }
}

fn known<T: Clone>(s: &Setting<T>) -> Option<T> {
    match s {
        Setting::Null => None,
        Setting::Known(v) | Setting::UnknownThen(v) => Some(v.clone()),
    }
}

/// Each step takes two bytes. The first: bits 0-2 the operation (0 delete, 1 store
/// and reload, else plan and apply), bits 3-4 how `rotation` is set (null, unknown
/// at plan, known), bits 5-7 its value. The second: `retire_previous`.
pub fn external_id_sequence(data: &[u8]) {
    let mut state: Option<Decoded> = None;
    for op in data.chunks(2).take(64) {
        let (a, b) = (op[0], op.get(1).copied().unwrap_or(0));
        match a % 8 {
            0 => {
                if let Some(s) = state.take() {
                    assert!(hook::external_id_delete(&s), "delete failed");
                }
            }
            1 => {
                // Refresh: the stored state goes through the upgrader as Terraform
                // stores it (JSON, current version) and comes back the same.
                if let Some(s) = &state {
                    let up = hook::upgrade(TYPE_NAME, 1, &hook::state_json(s));
                    assert_eq!(
                        up.state.as_ref(),
                        Some(s),
                        "state changed through storage:\n{}",
                        up.diagnostics
                    );
                }
            }
            _ => step(&mut state, rotation(a >> 3), retire(b)),
        }
    }
}

fn step(state: &mut Option<Decoded>, rot: Setting<String>, ret: Setting<bool>) {
    let prior = state.clone();
    let prior_ids = prior.as_ref().map(check_external_id_state).unwrap_or_default();
    let wanted_rotation = known(&rot).filter(|r| !r.is_empty());
    let prior_rotation =
        prior.as_ref().and_then(|p| p.attr_str("rotation")).filter(|r| !r.is_empty()).map(str::to_owned);
    let retiring = known(&ret) == Some(true);
    match hook::external_id_step(prior.as_ref(), rot, ret) {
        Outcome::Refused(diags) => {
            assert_no_echo("a refusal", &diags, &prior_ids, "", &[]);
            // The state stays as it was.
        }
        Outcome::Applied { planned, state: new } => {
            let mismatches = planned.planned_mismatches(&new);
            assert!(mismatches.is_empty(), "apply changed planned attributes {mismatches:?}");
            let ids = check_external_id_state(&new);
            assert!(new.attr_str("id").is_some_and(|i| !i.is_empty()), "a state without an id");
            if let Some(p) = &prior {
                assert_eq!(new.attr_str("id"), p.attr_str("id"), "an update changed the resource id");
                let rotated = matches!((&prior_rotation, &wanted_rotation), (Some(x), Some(y)) if x != y);
                for (i, id) in prior_ids.iter().enumerate() {
                    let retired = i == 1 && retiring && !rotated;
                    assert!(retired || ids.contains(id), "an ID stopped being trusted without being retired");
                }
                if rotated {
                    assert!(prior_ids.len() == 1 && !retiring, "a rotation the rule refuses was applied");
                    assert_eq!(ids.len(), 2, "a rotation did not keep the previous ID");
                    assert_eq!(ids[1], prior_ids[0], "the previous ID is not the one that was current");
                } else {
                    assert_eq!(ids[0], prior_ids[0], "the current ID changed without a rotation");
                }
            }
            *state = Some(new);
        }
    }
}

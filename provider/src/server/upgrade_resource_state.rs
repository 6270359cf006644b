//! UpgradeResourceState: stored JSON state (any schema version this provider ever
//! wrote) becomes msgpack of the current schema.

use super::{SettingsBound, unknown_type};
use crate::framework::{Diagnostics, Registry};
use crate::protocol::{diagnostics_to_proto, encode_dynamic, tfplugin5 as pb};

pub(super) fn handle<S: SettingsBound>(
    reg: &Registry<S>,
    req: pb::upgrade_resource_state::Request,
) -> pb::upgrade_resource_state::Response {
    let Some(res) = reg.resource(&req.type_name) else {
        return pb::upgrade_resource_state::Response {
            diagnostics: diagnostics_to_proto(unknown_type("resource", &req.type_name)),
            ..Default::default()
        };
    };
    let mut diags = Diagnostics::default();
    let mut resp = pb::upgrade_resource_state::Response::default();
    let raw = req.raw_state.unwrap_or_default();
    if raw.json.is_empty() {
        if !raw.flatmap.is_empty() {
            diags.error(
                "Unsupported state format",
                "The stored state is in the flatmap format of Terraform 0.11 and older, which this provider never wrote.",
            );
        }
    } else if let Some(v) = res.upgrade(req.version, &raw.json, &mut diags) {
        resp.upgraded_state = encode_dynamic(&v, &res.schema().object_type(), &mut diags);
    }
    resp.diagnostics = diagnostics_to_proto(diags);
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::test_support::*;

    fn upgrade<S: SettingsBound>(
        reg: &Registry<S>,
        type_name: &str,
        version: i64,
        json: &str,
    ) -> pb::upgrade_resource_state::Response {
        handle(
            reg,
            pb::upgrade_resource_state::Request {
                type_name: type_name.into(),
                version,
                raw_state: Some(pb::RawState { json: json.as_bytes().to_vec(), ..Default::default() }),
            },
        )
    }

    #[test]
    fn current_version_json_becomes_msgpack() {
        let r = upgrade(&fake_registry(), THING, 1, r#"{"name":"a","id":"id-a"}"#);
        assert!(r.diagnostics.is_empty(), "{:?}", errors(&r.diagnostics));
        assert_eq!(decode(r.upgraded_state.as_ref(), &fake_type(THING)), fake_thing("a", true));
    }

    #[test]
    fn an_unknown_version_is_refused_by_default() {
        let r = upgrade(&fake_registry(), THING, 0, r#"{"name":"a"}"#);
        assert!(r.upgraded_state.is_none());
        assert!(errors(&r.diagnostics)[0].starts_with("Unsupported state version"), "{:?}", r.diagnostics);
    }

    #[test]
    fn flatmap_state_is_refused() {
        let r = handle(
            &fake_registry(),
            pb::upgrade_resource_state::Request {
                type_name: THING.into(),
                version: 1,
                raw_state: Some(pb::RawState {
                    flatmap: [("id".into(), "x".into())].into(),
                    ..Default::default()
                }),
            },
        );
        assert!(errors(&r.diagnostics)[0].contains("flatmap"));
    }

    #[test]
    fn external_id_state_of_version_0_is_upgraded_to_1_and_a_newer_one_refused() {
        let reg = crate::registry();
        let ty = reg.resource("idcbootstrap_external_id").unwrap().schema().object_type();
        let v0 = r#"{"id":"eid-abc","rotation":"1","current":"cur-0001","previous":"prev-0001"}"#;
        let r = upgrade(&reg, "idcbootstrap_external_id", 0, v0);
        assert!(r.diagnostics.is_empty(), "{:?}", errors(&r.diagnostics));
        let s = decode(r.upgraded_state.as_ref(), &ty);
        assert_eq!(s.get("rotation_state").as_str(), Some("rotating"));
        assert_eq!(s.get("id").as_str(), Some("eid-abc"));
        let r = upgrade(&reg, "idcbootstrap_external_id", 2, v0);
        assert!(r.upgraded_state.is_none());
        assert!(errors(&r.diagnostics)[0].contains("schema version 2"), "{:?}", r.diagnostics);
    }
}

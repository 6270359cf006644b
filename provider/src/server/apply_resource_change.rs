//! ApplyResourceChange: carries out a plan; a null planned state is a destroy.

use super::{ProviderService, SettingsBound, unknown_type};
use crate::framework::Diagnostics;
use crate::protocol::{decode_or_diag, diagnostics_to_proto, encode_dynamic, tfplugin5 as pb};

pub(super) async fn handle<S: SettingsBound>(
    svc: &ProviderService<S>,
    req: pb::apply_resource_change::Request,
) -> pb::apply_resource_change::Response {
    let Some(res) = svc.registry.resource(&req.type_name) else {
        return pb::apply_resource_change::Response {
            diagnostics: diagnostics_to_proto(unknown_type("resource", &req.type_name)),
            ..Default::default()
        };
    };
    let ctx = svc.ctx(None);
    let ty = res.schema().object_type();
    let mut diags = Diagnostics::default();
    let mut resp =
        pb::apply_resource_change::Response { private: req.planned_private.clone(), ..Default::default() };
    let decoded = (|| {
        let prior = decode_or_diag(req.prior_state.as_ref(), &ty, "prior state", &mut diags)?;
        let planned = decode_or_diag(req.planned_state.as_ref(), &ty, "planned state", &mut diags)?;
        let config = decode_or_diag(req.config.as_ref(), &ty, "configuration", &mut diags)?;
        Some((prior, planned, config))
    })();
    if let Some((prior, planned, config)) = decoded {
        tracing::trace!(
            create = prior.is_null(),
            destroy = planned.is_null(),
            prior_msgpack_len = req.prior_state.as_ref().map_or(0, |d| d.msgpack.len()),
            prior_json_len = req.prior_state.as_ref().map_or(0, |d| d.json.len()),
            "applying"
        );
        if planned.is_null() {
            if res.delete(&ctx, &prior, &mut diags).await {
                resp.new_state = req.planned_state;
            } else {
                // Still there: keep it in state.
                resp.new_state = req.prior_state;
            }
        } else {
            match res.apply(&ctx, &prior, &planned, &config, &mut diags).await {
                Some(new) => resp.new_state = encode_dynamic(&new, &ty, &mut diags),
                // Nothing changed: an update keeps the prior state, a failed create leaves none.
                None => resp.new_state = req.prior_state,
            }
        }
    }
    resp.diagnostics = diagnostics_to_proto(diags);
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::value::Value;
    use crate::server::test_support::*;

    fn apply(prior: &Value, planned: &Value) -> pb::apply_resource_change::Response {
        let ty = fake_type(THING);
        block_on(handle(
            &fake_service(),
            pb::apply_resource_change::Request {
                type_name: THING.into(),
                prior_state: dv(prior, &ty),
                planned_state: dv(planned, &ty),
                config: dv(planned, &ty),
                planned_private: b"private".to_vec(),
                ..Default::default()
            },
        ))
    }

    #[test]
    fn create_returns_the_new_state_and_keeps_private_data() {
        let r = apply(&Value::Null, &fake_thing("a", false));
        assert!(r.diagnostics.is_empty(), "{:?}", errors(&r.diagnostics));
        assert_eq!(decode(r.new_state.as_ref(), &fake_type(THING)), fake_thing("a", true));
        assert_eq!(r.private, b"private");
    }

    #[test]
    fn update_returns_the_applied_state() {
        let r = apply(&fake_thing("a", true), &fake_thing("b", false));
        assert!(r.diagnostics.is_empty(), "{:?}", errors(&r.diagnostics));
        assert_eq!(decode(r.new_state.as_ref(), &fake_type(THING)), fake_thing("b", true));
    }

    #[test]
    fn a_failed_update_hands_back_the_prior_state_with_the_diagnostic() {
        let prior = fake_thing("a", true);
        let r = apply(&prior, &fake_thing("fail", false));
        assert_eq!(errors(&r.diagnostics), ["Apply failed: fake: the remote end refused"]);
        assert_eq!(
            decode(r.new_state.as_ref(), &fake_type(THING)),
            prior,
            "Terraform keeps what it gets back"
        );
    }

    #[test]
    fn a_failed_create_leaves_no_state() {
        let r = apply(&Value::Null, &fake_thing("fail", false));
        assert_eq!(errors(&r.diagnostics).len(), 1);
        assert_eq!(decode(r.new_state.as_ref(), &fake_type(THING)), Value::Null);
    }

    #[test]
    fn delete_plans_null_and_a_failed_delete_keeps_the_object() {
        let r = apply(&fake_thing("a", true), &Value::Null);
        assert!(r.diagnostics.is_empty(), "{:?}", errors(&r.diagnostics));
        assert_eq!(decode(r.new_state.as_ref(), &fake_type(THING)), Value::Null);

        let prior = fake_thing("undeletable", true);
        let r = apply(&prior, &Value::Null);
        assert_eq!(errors(&r.diagnostics), ["Delete failed: fake: still in use"]);
        assert_eq!(decode(r.new_state.as_ref(), &fake_type(THING)), prior, "still there: kept in state");
    }

    #[test]
    fn unknown_types_and_undecodable_values_are_diagnostics() {
        let r = block_on(handle(
            &fake_service(),
            pb::apply_resource_change::Request { type_name: "fake_nope".into(), ..Default::default() },
        ));
        assert_eq!(errors(&r.diagnostics).len(), 1);
        let r = block_on(handle(
            &fake_service(),
            pb::apply_resource_change::Request {
                type_name: THING.into(),
                planned_state: Some(pb::DynamicValue { msgpack: vec![0xa1, b'x'], json: vec![] }),
                ..Default::default()
            },
        ));
        assert!(errors(&r.diagnostics)[0].contains("Invalid value from Terraform"), "{:?}", r.diagnostics);
        assert!(r.new_state.is_none());
    }
}

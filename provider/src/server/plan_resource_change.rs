//! PlanResourceChange: create, update, or (proposed null) destroy.

use super::{ProviderService, SettingsBound, unknown_type};
use crate::framework::Diagnostics;
use crate::protocol::{decode_or_diag, diagnostics_to_proto, encode_dynamic, path_to_proto, tfplugin5 as pb};

pub(super) fn handle<S: SettingsBound>(
    svc: &ProviderService<S>,
    req: pb::plan_resource_change::Request,
) -> pb::plan_resource_change::Response {
    let Some(res) = svc.registry.resource(&req.type_name) else {
        return pb::plan_resource_change::Response {
            diagnostics: diagnostics_to_proto(unknown_type("resource", &req.type_name)),
            ..Default::default()
        };
    };
    let ctx = svc.ctx(req.client_capabilities.as_ref());
    let ty = res.schema().object_type();
    let mut diags = Diagnostics::default();
    let mut resp = pb::plan_resource_change::Response {
        planned_private: req.prior_private.clone(),
        ..Default::default()
    };
    let decoded = (|| {
        let prior = decode_or_diag(req.prior_state.as_ref(), &ty, "prior state", &mut diags)?;
        let proposed =
            decode_or_diag(req.proposed_new_state.as_ref(), &ty, "proposed new state", &mut diags)?;
        let config = decode_or_diag(req.config.as_ref(), &ty, "configuration", &mut diags)?;
        Some((prior, proposed, config))
    })();
    if let Some((prior, proposed, config)) = decoded {
        if proposed.is_null() {
            // Destroy: nothing to decide.
            resp.planned_state = req.proposed_new_state;
        } else if let Some(planned) = res.plan(&ctx, &prior, &proposed, &config, &mut diags)
            && !diags.has_errors()
        {
            resp.planned_state = encode_dynamic(&planned.state, &ty, &mut diags);
            resp.requires_replace = planned.requires_replace.iter().map(path_to_proto).collect();
        }
    }
    resp.diagnostics = diagnostics_to_proto(diags);
    resp
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::protocol::value::Value;
    use crate::server::test_support::*;

    fn plan(prior: &Value, config: &Value) -> pb::plan_resource_change::Response {
        let ty = fake_type(THING);
        handle(
            &fake_service(),
            pb::plan_resource_change::Request {
                type_name: THING.into(),
                prior_state: dv(prior, &ty),
                proposed_new_state: dv(config, &ty),
                config: dv(config, &ty),
                prior_private: b"kept".to_vec(),
                ..Default::default()
            },
        )
    }

    #[test]
    fn create_plans_unknowns_and_an_update_names_what_forces_replacement() {
        let r = plan(&Value::Null, &fake_thing("a", false));
        assert!(r.diagnostics.is_empty(), "{:?}", errors(&r.diagnostics));
        let planned = decode(r.planned_state.as_ref(), &fake_type(THING));
        assert!(planned.get("id").is_unknown());
        assert!(r.requires_replace.is_empty());
        assert_eq!(r.planned_private, b"kept");

        let r = plan(&fake_thing("a", true), &fake_thing("b", false));
        assert_eq!(r.requires_replace.len(), 1);
        assert_eq!(
            r.requires_replace[0].steps[0].selector,
            Some(pb::attribute_path::step::Selector::AttributeName("name".into()))
        );
    }

    #[test]
    fn destroy_plans_null_without_asking_the_resource() {
        let r = plan(&fake_thing("refused", true), &Value::Null);
        assert!(r.diagnostics.is_empty());
        assert_eq!(decode(r.planned_state.as_ref(), &fake_type(THING)), Value::Null);
    }

    #[test]
    fn a_refused_plan_has_no_planned_state() {
        let r = plan(&fake_thing("a", true), &fake_thing("refused", false));
        assert!(r.planned_state.is_none());
        assert_eq!(diag_paths(&r.diagnostics), [Some("name".to_owned())]);
    }

    #[test]
    fn the_real_external_id_plans_unknown_ids_on_create() {
        let svc = real_service();
        let ty = svc.registry.resource("idcbootstrap_external_id").unwrap().schema().object_type();
        let config = Value::Object(BTreeMap::from([("rotation".to_owned(), Value::string("1"))]));
        let r = handle(
            &svc,
            pb::plan_resource_change::Request {
                type_name: "idcbootstrap_external_id".into(),
                prior_state: dv(&Value::Null, &ty),
                proposed_new_state: dv(&config, &ty),
                config: dv(&config, &ty),
                ..Default::default()
            },
        );
        assert!(r.diagnostics.is_empty(), "{:?}", errors(&r.diagnostics));
        let planned = decode(r.planned_state.as_ref(), &ty);
        assert!(planned.get("current").is_unknown());
        assert_eq!(planned.get("rotation").as_str(), Some("1"));
    }
}

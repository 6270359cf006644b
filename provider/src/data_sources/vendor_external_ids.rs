//! `data "idcbootstrap_vendor_external_ids"`: the external IDs the vendor issued to
//! this tenant (`GET external-id`), read on every plan, so a rotation the vendor starts
//! reaches the role's trust policy at the customer's next apply without anyone copying
//! an ID. `all` (current, then pending) feeds `idcbootstrap_template.external_ids`.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use idcbootstrap::spec;

use crate::config::{Ctx, Settings};
use crate::framework::{BoxFuture, DataSource, Diagnostics, ReadOutcome, Schema, Value};
use crate::resources::vendor::{self, Access};

pub(crate) const TYPE_NAME: &str = "idcbootstrap_vendor_external_ids";

static SCHEMA: LazyLock<Schema> = LazyLock::new(|| crate::spec_schema::schema(&spec::VENDOR_EXTERNAL_IDS));

pub(crate) struct VendorExternalIds;

impl DataSource<Settings> for VendorExternalIds {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> &Schema {
        &SCHEMA
    }

    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {
        // No arguments: everything comes from the provider block and the API.
    }

    fn read<'a>(
        &'a self,
        ctx: &'a Ctx,
        _config: &'a Value,
        diags: &'a mut Diagnostics,
    ) -> BoxFuture<'a, Option<ReadOutcome>> {
        Box::pin(read(ctx, diags))
    }
}

async fn read(ctx: &Ctx, diags: &mut Diagnostics) -> Option<ReadOutcome> {
    let client = match vendor::client(ctx, TYPE_NAME, diags) {
        Access::Ready(c) => c,
        Access::Unknown(_) if ctx.deferral_allowed => return Some(ReadOutcome::DeferProviderConfigUnknown),
        Access::Unknown(u) => {
            vendor::unknown_settings(TYPE_NAME, &u, diags);
            return None;
        }
        Access::Failed => return None,
    };
    let ids = vendor::call(ctx, diags, "GET external-id", &SCHEMA, client.external_ids()).await?;
    tracing::debug!(rotating = ids.pending.is_some(), "read the vendor's external IDs");
    let state = BTreeMap::from([
        ("id".to_owned(), Value::string(client.tenant_id())),
        ("current".to_owned(), Value::string(ids.current.clone())),
        ("pending".to_owned(), Value::opt_string(ids.pending.clone())),
        ("all".to_owned(), Value::List(ids.all().into_iter().map(Value::string).collect())),
    ]);
    Some(ReadOutcome::Read(Value::Object(state)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::VendorApi;
    use crate::resources::vendor::tests::{TENANT, ctx_with, stand_in};

    const CURRENT: &str = "6f1c2d4e-aaaa-4bbb-8ccc-1234567890ab";
    const PENDING: &str = "0e9d8c7b-1111-4222-8333-ba0987654321";

    fn run(vendor: VendorApi, deferral: bool) -> (Option<ReadOutcome>, Diagnostics) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let mut c = ctx_with(vendor);
        c.deferral_allowed = deferral;
        let mut d = Diagnostics::default();
        let out = rt.block_on(read(&c, &mut d));
        (out, d)
    }

    #[test]
    fn reads_current_pending_and_all_in_order() {
        let body = format!(r#"{{"external_id":"{CURRENT}","external_id_pending":"{PENDING}"}}"#);
        let (vendor, seen) = stand_in(vec![(200, body)]);
        let (out, d) = run(vendor, false);
        let Some(ReadOutcome::Read(s)) = out else { panic!("{d:?}") };
        assert_eq!(s.get("id").as_str(), Some(TENANT));
        assert_eq!(s.get("current").as_str(), Some(CURRENT));
        assert_eq!(s.get("pending").as_str(), Some(PENDING));
        assert_eq!(s.get("all"), &Value::List(vec![Value::string(CURRENT), Value::string(PENDING)]));
        assert_eq!(seen.lock().unwrap()[0].0, "GET /v1/integrations/aws-identity-center/external-id");

        let (vendor, _) =
            stand_in(vec![(200, format!(r#"{{"external_id":"{CURRENT}","external_id_pending":null}}"#))]);
        let (out, _) = run(vendor, false);
        let Some(ReadOutcome::Read(s)) = out else { panic!() };
        assert!(s.get("pending").is_null());
        assert_eq!(s.get("all"), &Value::List(vec![Value::string(CURRENT)]));
    }

    #[test]
    fn an_api_error_fails_the_read_with_its_code() {
        let (vendor, _) = stand_in(vec![(
            401,
            r#"{"code":"unauthenticated","message":"unknown token","details":{},"notices":[]}"#.into(),
        )]);
        let (out, d) = run(vendor, false);
        assert!(out.is_none());
        let x = d.iter().next().unwrap();
        assert!(x.summary.contains("unauthenticated") && x.summary.contains("HTTP 401"), "{}", x.summary);
        assert!(x.detail.contains("`api_token` (IDCBOOTSTRAP_API_TOKEN)"), "{}", x.detail);
    }

    #[test]
    fn without_settings_it_says_which_and_with_unknown_ones_it_defers() {
        let (out, d) = run(VendorApi::default(), false);
        assert!(out.is_none());
        assert!(d.iter().any(|x| x.summary == "Vendor API not configured"));

        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let (_tx, stop) = tokio::sync::watch::channel(false);
        let settings = Settings { unknown: vec!["api_token"], ..Default::default() };
        let mut c = Ctx { settings: std::sync::Arc::new(settings), stop, deferral_allowed: true };
        let mut d = Diagnostics::default();
        assert!(matches!(rt.block_on(read(&c, &mut d)), Some(ReadOutcome::DeferProviderConfigUnknown)));
        c.deferral_allowed = false;
        assert!(rt.block_on(read(&c, &mut d)).is_none() && d.has_errors());
    }
}

//! `Custom::IdcVendorExternalIds`: the external IDs the vendor issued to this
//! tenant, read from the vendor's API (`GET external-id`), for the template's
//! `ExternalIds`. The CloudFormation side of the Terraform data source
//! `idcbootstrap_vendor_external_ids`.
//!
//! Create and Update read; Delete has nothing to remove and makes no call. Every
//! attribute carries an external ID, so the answer is `NoEcho`. CloudFormation calls
//! a custom resource only when a property changes: changing `Refresh` is how a stack
//! reads the IDs again after the vendor rotates or commits.
//!
//! The physical ID names the tenant (`<tenant>#vendor-external-ids`): another
//! tenant is another resource (a replacement); a rotation is an update.

use std::collections::BTreeMap;
use std::sync::Arc;

use idcbootstrap::{AttrPath, ErrorCode, spec};
use tokio::time::Instant;

use super::TableResource;
use super::properties::{Defaults, Table, invalid_message};
use super::vendor::{self, VENDOR_SLACK};
use crate::config::ConfigError;
use crate::event::{Request, RequestKind};
use crate::handler::{Failure, PropertyDetail, Success};

/// Properties and attributes: the spec's vendor-IDs fields and the API settings.
pub(crate) const TABLE: Table =
    Table::new(&spec::VENDOR_EXTERNAL_IDS, spec::VENDOR_EXTERNAL_IDS_CLOUDFORMATION_ONLY);

/// Longest `Refresh`: it is only compared, never used.
const MAX_REFRESH: usize = 256;

/// The handler of `Custom::IdcVendorExternalIds`, with the function's `IDCBOOTSTRAP_*` defaults of the
/// API settings.
///
/// # Errors
///
/// A variable that is set but not a value of its field's type.
pub(crate) fn from_env(get: &dyn Fn(&str) -> Option<String>) -> Result<TableResource, ConfigError> {
    TableResource::from_env(TABLE, get, |defaults, request, guard_at| {
        Box::pin(run(defaults, request, guard_at))
    })
}

/// The physical ID of the IDs of `tenant`.
pub(crate) fn physical_id(tenant: &str) -> String {
    format!("{tenant}#vendor-external-ids")
}

async fn run(
    defaults: Arc<Defaults>,
    request: Arc<Request>,
    guard_at: Option<Instant>,
) -> Result<Success, Failure> {
    if request.kind == RequestKind::Delete {
        // A read owns nothing: whatever the properties are now, no call.
        return Ok(Success {
            physical_resource_id: request.physical_resource_id().unwrap_or_default().to_owned(),
            data: BTreeMap::new(),
            no_echo: true,
        });
    }
    let mut d = TABLE.decode(&request.properties, &defaults);
    if d.string("refresh").is_some_and(|r| r.len() > MAX_REFRESH) {
        d.details.push(PropertyDetail {
            property: TABLE.property_path(&AttrPath::field("refresh")),
            rule: "length".into(),
            message: format!("must be at most {MAX_REFRESH} characters"),
        });
    }
    let client = vendor::client(&TABLE, &mut d);
    d.merge(None)?;
    let Some(client) = client else {
        return Err(Failure::new(ErrorCode::InvalidInput, invalid_message(0)));
    };
    let read = client.external_ids();
    let ids = match guard_at.and_then(|g| g.checked_sub(VENDOR_SLACK)) {
        Some(by) => tokio::time::timeout_at(by, read).await.map_err(|_| {
            Failure::new(
                ErrorCode::Timeout,
                "the vendor API did not answer GET external-id before the function's deadline",
            )
        })?,
        None => read.await,
    }
    .map_err(|e| vendor::failure(&TABLE, "GET external-id", &e))?;
    let mut data = BTreeMap::new();
    for attribute in TABLE.attributes() {
        let value = match attribute.name {
            "current" => ids.current.clone(),
            "pending" => ids.pending.clone().unwrap_or_default(),
            "all" => ids.all().join(","),
            other => {
                return Err(Failure::new(
                    ErrorCode::Internal,
                    format!("no value for the attribute of {other}"),
                ));
            }
        };
        data.insert(attribute.cfn.unwrap_or(attribute.name).to_owned(), value);
    }
    tracing::info!(pending = ids.pending.is_some(), "read the vendor's external IDs");
    Ok(Success { physical_resource_id: physical_id(client.tenant_id()), data, no_echo: true })
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::event::ReplyTo;

    fn request(kind: RequestKind, props: Value) -> Request {
        Request {
            kind,
            reply: ReplyTo {
                response_url: "http://127.0.0.1:1/".into(),
                stack_id: "s".into(),
                request_id: "r".into(),
                logical_resource_id: "Ids".into(),
                physical_resource_id: (kind != RequestKind::Create).then(|| "p".to_owned()),
                kind: Some(kind),
            },
            resource_type: TABLE.resource_type().into(),
            properties: serde_json::from_value(props).unwrap(),
            old_properties: None,
        }
    }

    #[test]
    fn the_table_is_the_spec() {
        let props: Vec<&str> = TABLE.properties().filter_map(|f| f.cfn).collect();
        assert_eq!(props, ["ApiUrl", "TenantId", "ApiToken", "Refresh"]);
        let attributes: Vec<&str> = TABLE.attributes().filter_map(|f| f.cfn).collect();
        assert_eq!(attributes, ["Current", "Pending", "All"]);
        assert_eq!(TABLE.resource_type(), "Custom::IdcVendorExternalIds");
    }

    #[tokio::test]
    async fn bad_properties_fail_naming_each_and_delete_makes_no_call() {
        let props =
            json!({"ApiUrl": "not a url", "ApiToken": "tok3n-never-shown", "Refresh": "x".repeat(300)});
        let f = run(Arc::default(), Arc::new(request(RequestKind::Create, props.clone())), None)
            .await
            .unwrap_err();
        assert_eq!(f.code, ErrorCode::InvalidInput);
        let mut named: Vec<&str> = f.details.iter().map(|d| d.property.as_str()).collect();
        named.sort_unstable();
        assert_eq!(named, ["ApiUrl", "Refresh", "TenantId"], "{f:?}");
        assert!(!f.reason().contains("tok3n-never-shown"));
        let ok = run(Arc::default(), Arc::new(request(RequestKind::Delete, props)), None).await.unwrap();
        assert_eq!(ok.physical_resource_id, "p");
    }
}

//! `Custom::IdcVendorRegistration`: registers the trust role with the vendor
//! (`PUT config`) and, with `Test`, has the vendor test it (`POST test`), waiting
//! out IAM propagation. The CloudFormation side of the Terraform resource
//! `idcbootstrap_vendor_registration`.
//!
//! * Create and Update: the role ARN, instance ARN and region are checked with the
//!   core's rules first (every problem at once, by property), then saved; a failed
//!   test fails the resource with the vendor's code (`sts_assume_role_failed`, ...).
//!   A Create whose test fails puts back what the vendor held before, so nothing is
//!   half-applied; a failed Update is put back by CloudFormation's rollback, an
//!   Update to the old properties.
//! * Delete: `DELETE config`, only when the vendor still holds the role this
//!   resource registered. A registration that was never made (a failed Create, a
//!   physical ID that is not this tenant's) is deleted without a call.
//! * The physical ID names the tenant (`<tenant>#vendor-registration`): the vendor
//!   keeps one registration per tenant, so another tenant is a replacement and the
//!   old tenant's registration is deleted after the new one is made.
//!
//! `ExternalIds` is never sent: it is there so a rotation changes a property, and
//! CloudFormation registers and tests the role again with the new trust policy.
//! It also says which IDs the role trusts: when the vendor holds one it lacks (the
//! rollback of a failed rotation step: the role is back to the old IDs while the
//! vendor's new one is still pending), the vendor's test could only fail, and
//! failing would leave the stack stuck in `UPDATE_ROLLBACK_FAILED`; the role is
//! registered without the test, and a warning says so.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use idcbootstrap::spec::Field;
use idcbootstrap::{AttrPath, Detail, ErrorCode};
use idcbootstrap_vendor_client::{Registration, VendorClient};
use tokio::time::Instant;

use super::TableResource;
use super::properties::{Defaults, Table, invalid_message};
use super::vendor::{self, VENDOR_SLACK};
use crate::config::ConfigError;
use crate::event::{Request, RequestKind};
use crate::handler::{Failure, Success};

/// Properties and attributes: the spec's registration fields and the API settings.
pub(crate) const TABLE: Table = Table::new(
    &idcbootstrap::spec::VENDOR_REGISTRATION,
    idcbootstrap::spec::VENDOR_REGISTRATION_CLOUDFORMATION_ONLY,
);

/// Most entries of `ExternalIds` (the role trusts one, or two while rotating).
const MAX_EXTERNAL_IDS: usize = 2;

/// The handler of `Custom::IdcVendorRegistration`, with the function's `IDCBOOTSTRAP_*` defaults of the
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

/// The physical ID of the registration of `tenant`.
pub(crate) fn physical_id(tenant: &str) -> String {
    format!("{tenant}#vendor-registration")
}

/// What Create and Update need, decoded and checked (`Debug` shows no token).
#[derive(Debug)]
struct Wanted {
    client: VendorClient,
    registration: Registration,
    test: bool,
    propagation_timeout: Duration,
    /// `ExternalIds`: the IDs the role was rendered with, if the stack says.
    external_ids: Option<Vec<String>>,
}

/// A field's spec default, parsed as the property would be.
fn spec_default(name: &str) -> Option<&'static str> {
    TABLE.properties().find(|f: &&'static Field| f.name == name).and_then(|f| f.default)
}

fn decode(request: &Request, defaults: &Defaults) -> Result<Wanted, Failure> {
    let mut d = TABLE.decode(&request.properties, defaults);
    let raw = Registration {
        role_arn: d.string("role_arn").unwrap_or_default(),
        sso_instance_arn: d.string("sso_instance_arn").unwrap_or_default(),
        region: d.string("region").unwrap_or_default(),
    };
    let mut problems = check_registration(&raw);
    // A property that failed decoding is reported once, as decoding found it.
    problems.retain(|p| {
        let property = TABLE.property_path(&p.field);
        !d.details.iter().any(|x| x.property == property)
    });
    d.details.extend(problems.iter().map(|p| TABLE.translate_detail(p)));
    if d.string_list("external_ids").is_some_and(|ids| ids.len() > MAX_EXTERNAL_IDS) {
        d.details.push(TABLE.translate_detail(&Detail::new(
            AttrPath::field("external_ids"),
            "count",
            format!("lists at most {MAX_EXTERNAL_IDS} external IDs (current and pending)"),
        )));
    }
    let client = vendor::client(&TABLE, &mut d);
    d.merge(None)?;
    let client = client.ok_or_else(|| Failure::new(ErrorCode::InvalidInput, invalid_message(0)))?;
    let test = d
        .boolean("test")
        .or_else(|| spec_default("test").map(|t| t.eq_ignore_ascii_case("true")))
        .unwrap_or(true);
    let seconds = d
        .integer("propagation_timeout")
        .and_then(|n| u64::try_from(n).ok())
        .or_else(|| {
            spec_default("propagation_timeout").and_then(idcbootstrap::parse::duration).map(|d| d.as_secs())
        })
        .unwrap_or(120);
    let external_ids = d.string_list("external_ids").filter(|ids| !ids.is_empty());
    Ok(Wanted {
        client,
        registration: raw,
        test,
        propagation_timeout: Duration::from_secs(seconds),
        external_ids,
    })
}

/// The vendor's rules for a registration (the core's one rule set, the same the
/// API and the provider apply): every field required.
fn check_registration(r: &Registration) -> Vec<Detail> {
    fn present(s: &str) -> Option<&str> {
        Some(s).filter(|s| !s.trim().is_empty())
    }
    idcbootstrap::registration::validate_registration(
        present(&r.sso_instance_arn),
        present(&r.role_arn),
        present(&r.region),
        &[],
    )
}

/// `fut`, cut off `VENDOR_SLACK` before the deadline guard with this type's own
/// `timeout` (naming the call), so CloudFormation learns which call ran out.
async fn before_guard<T>(
    guard_at: Option<Instant>,
    what: &str,
    fut: impl Future<Output = Result<T, Failure>>,
) -> Result<T, Failure> {
    match guard_at {
        Some(g) => {
            let by = g.checked_sub(VENDOR_SLACK).unwrap_or_else(Instant::now);
            tokio::time::timeout_at(by, fut).await.unwrap_or_else(|_| {
                Err(Failure::new(
                    ErrorCode::Timeout,
                    format!(
                        "{what} did not finish before the function's deadline; lower PropagationTimeout or raise the \
                         function's timeout"
                    ),
                ))
            })
        }
        None => fut.await,
    }
}

async fn run(
    defaults: Arc<Defaults>,
    request: Arc<Request>,
    guard_at: Option<Instant>,
) -> Result<Success, Failure> {
    if request.kind == RequestKind::Delete {
        return delete(&request, &defaults, guard_at).await;
    }
    let w = decode(&request, &defaults)?;
    let client = &w.client;
    let failure =
        |what: &'static str| move |e: idcbootstrap_vendor_client::Error| vendor::failure(&TABLE, what, &e);

    // What the vendor held before a Create, to put back if the new role fails its test.
    let previous = if request.kind == RequestKind::Create {
        let read = async { client.get_config().await.map_err(failure("GET config")) };
        Some(before_guard(guard_at, "GET config", read).await?.registration())
    } else {
        None
    };
    let put = async { client.put_config(&w.registration).await.map_err(failure("PUT config")) };
    let saved = before_guard(guard_at, "PUT config", put).await?;
    tracing::info!(configured = saved.configured, "registered the role with the vendor");

    if w.test && !role_trusts_every_vendor_id(&w, guard_at).await? {
        // The vendor would test an ID the role was not rendered with, and fail. This
        // is the rollback of a rotation step that failed (the role is back to the
        // IDs before it, the vendor still holds the pending one), or a stack update
        // that did not read the vendor's IDs again: failing it would leave the
        // stack unable to roll back. Registered, not tested.
        tracing::warn!(
            "the vendor holds an external ID that ExternalIds (the IDs the role was rendered with) lacks: \
             registered without the vendor's test; update the stack with a new VendorIdsRevision to test it"
        );
    } else if w.test {
        let timeout = match guard_at {
            // Room for the last test and the answer inside the deadline.
            Some(g) => {
                let left = g.saturating_duration_since(Instant::now()).saturating_sub(VENDOR_SLACK * 2);
                w.propagation_timeout.min(left)
            }
            None => w.propagation_timeout,
        };
        let test = async { client.test(timeout).await.map_err(failure("POST test")) };
        match before_guard(guard_at, "the vendor's test (POST test)", test).await {
            Ok(report) => {
                tracing::info!(
                    attempts = report.attempts,
                    steps = report.steps.len(),
                    "the vendor's test passed"
                );
            }
            Err(f) => {
                if let Some(previous) = previous {
                    put_back(client, previous, guard_at).await;
                }
                return Err(f);
            }
        }
    }

    let mut data = BTreeMap::new();
    for attribute in TABLE.attributes() {
        let value = match attribute.name {
            "configured" => saved.configured.to_string(),
            other => {
                return Err(Failure::new(
                    ErrorCode::Internal,
                    format!("no value for the attribute of {other}"),
                ));
            }
        };
        data.insert(attribute.cfn.unwrap_or(attribute.name).to_owned(), value);
    }
    // Role and instance ARNs and a flag: nothing secret.
    Ok(Success { physical_resource_id: physical_id(client.tenant_id()), data, no_echo: false })
}

/// Whether every ID the vendor would test with is one the role was rendered with
/// (`ExternalIds`); true when the stack does not say.
async fn role_trusts_every_vendor_id(w: &Wanted, guard_at: Option<Instant>) -> Result<bool, Failure> {
    let Some(rendered) = &w.external_ids else { return Ok(true) };
    let read =
        async { w.client.external_ids().await.map_err(|e| vendor::failure(&TABLE, "GET external-id", &e)) };
    let held = before_guard(guard_at, "GET external-id", read).await?;
    Ok(held.all().iter().all(|id| rendered.contains(id)))
}

/// After a Create whose test failed: what the vendor held before (or nothing). Best
/// effort; the failure reported is the test's.
async fn put_back(client: &VendorClient, previous: Option<Registration>, guard_at: Option<Instant>) {
    let undo = async {
        match &previous {
            Some(p) => client.put_config(p).await.map(|_| ()),
            None => client.delete_config().await,
        }
        .map_err(|e| vendor::failure(&TABLE, "undo", &e))
    };
    if let Err(f) = before_guard(guard_at, "undoing the registration", undo).await {
        tracing::warn!(reason = %f.reason(), "could not put back the vendor's previous registration");
    }
}

async fn delete(
    request: &Request,
    defaults: &Defaults,
    guard_at: Option<Instant>,
) -> Result<Success, Failure> {
    let physical = request.physical_resource_id().unwrap_or_default().to_owned();
    let done = Success { physical_resource_id: physical.clone(), data: BTreeMap::new(), no_echo: false };
    let w = match decode(request, defaults) {
        Ok(w) => w,
        Err(f) => {
            // Properties that never passed cannot have registered anything.
            tracing::info!(reason = %f.reason(), "nothing to deregister: the properties were never valid");
            return Ok(done);
        }
    };
    if physical != physical_id(w.client.tenant_id()) {
        tracing::info!("nothing to deregister: this registration was never made");
        return Ok(done);
    }
    let client = &w.client;
    let work = async {
        let held = client.get_config().await.map_err(|e| vendor::failure(&TABLE, "GET config", &e))?;
        match held.role_arn.as_deref() {
            Some(role) if held.configured && role == w.registration.role_arn => {
                client.delete_config().await.map_err(|e| vendor::failure(&TABLE, "DELETE config", &e))?;
                tracing::info!("deregistered the role");
            }
            Some(_) if held.configured => {
                tracing::info!("the vendor holds another role for this tenant now: left in place");
            }
            _ => tracing::info!("nothing to deregister: the vendor holds no role"),
        }
        Ok(())
    };
    before_guard(guard_at, "deregistering (DELETE config)", work).await.map(|()| done)
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
                logical_resource_id: "Registration".into(),
                physical_resource_id: (kind != RequestKind::Create)
                    .then(|| "Registration-not-created".to_owned()),
                kind: Some(kind),
            },
            resource_type: TABLE.resource_type().into(),
            properties: serde_json::from_value(props).unwrap(),
            old_properties: None,
        }
    }

    fn good() -> Value {
        json!({
            "ApiUrl": "http://127.0.0.1:9",
            "TenantId": "2489e9ad-2ee2-4e00-8ec9-32d5f69181c0",
            "ApiToken": "tok3n-never-shown",
            "RoleArn": "arn:aws:iam::123456789012:role/idcbootstrap/IdcBootstrapTrustRole",
            "SsoInstanceArn": "arn:aws:sso:::instance/ssoins-1234567890abcdef",
            "Region": "eu-west-1",
            "ExternalIds": ["a-current-id", "a-pending-id"],
        })
    }

    fn props_of(f: &Failure) -> Vec<(&str, &str)> {
        f.details.iter().map(|d| (d.property.as_str(), d.rule.as_str())).collect()
    }

    #[test]
    fn the_table_is_the_spec() {
        let props: Vec<&str> = TABLE.properties().filter_map(|f| f.cfn).collect();
        assert_eq!(
            props,
            [
                "RoleArn",
                "SsoInstanceArn",
                "Region",
                "Test",
                "PropagationTimeout",
                "ApiUrl",
                "TenantId",
                "ApiToken",
                "ExternalIds"
            ]
        );
        let attributes: Vec<&str> = TABLE.attributes().filter_map(|f| f.cfn).collect();
        assert_eq!(attributes, ["Configured"]);
    }

    #[test]
    fn good_properties_decode_with_the_spec_defaults() {
        let w = decode(&request(RequestKind::Create, good()), &Defaults::default()).unwrap();
        assert!(w.test);
        assert_eq!(w.propagation_timeout, Duration::from_secs(120));
        assert_eq!(w.registration.region, "eu-west-1");
        let mut props = good();
        props["Test"] = json!("false");
        props["PropagationTimeout"] = json!("30");
        let w = decode(&request(RequestKind::Update, props), &Defaults::default()).unwrap();
        assert_eq!((w.test, w.propagation_timeout), (false, Duration::from_secs(30)));
    }

    #[test]
    fn every_problem_names_its_property_and_no_secret() {
        let mut props = good();
        props["RoleArn"] = json!("arn:aws-cn:iam::123456789012:role/x");
        props["Region"] = json!("mars-1");
        props["Test"] = json!("maybe");
        props["ExternalIds"] = json!(["a1", "b2", "c3"]);
        props["Bogus"] = json!("x");
        props.as_object_mut().unwrap().remove("SsoInstanceArn");
        let f = decode(&request(RequestKind::Create, props), &Defaults::default()).unwrap_err();
        assert_eq!(f.code, ErrorCode::InvalidInput);
        let mut got = props_of(&f);
        got.sort_unstable();
        assert_eq!(
            got,
            [
                ("Bogus", "unknown"),
                ("ExternalIds", "count"),
                ("Region", "region"),
                ("SsoInstanceArn", "required"),
                ("Test", "boolean"),
            ],
            "{f:?}"
        );
        let reason = f.reason();
        assert!(!reason.contains("tok3n-never-shown") && !reason.contains("a1"), "{reason}");

        let mut props = good();
        props["RoleArn"] = json!("arn:aws-cn:iam::123456789012:role/x");
        let f = decode(&request(RequestKind::Create, props), &Defaults::default()).unwrap_err();
        assert_eq!(props_of(&f), [("RoleArn", "partition")]);
        assert!(f.details[0].message.contains("SsoInstanceArn"), "{}", f.details[0].message);
    }

    #[tokio::test]
    async fn delete_of_a_registration_never_made_makes_no_call() {
        // The API URL refuses connections: any call would fail the Delete's work.
        let ok = run(Arc::default(), Arc::new(request(RequestKind::Delete, good())), None).await.unwrap();
        assert_eq!(ok.physical_resource_id, "Registration-not-created");
        let ok =
            run(Arc::default(), Arc::new(request(RequestKind::Delete, json!({"RoleArn": "nope"}))), None)
                .await
                .unwrap();
        assert!(ok.data.is_empty());
    }
}

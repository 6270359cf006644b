//! What `Custom::IdcVendorExternalIds` and `Custom::IdcVendorRegistration` share:
//! a client of the vendor's API built from the `ApiUrl`, `TenantId` and `ApiToken`
//! properties (or the function's `IDCBOOTSTRAP_API_URL`, `_TENANT_ID`, `_API_TOKEN`),
//! and the API's errors in the function's error model.
//!
//! The client is the shared one (`idcbootstrap-vendor-client`), the same the Terraform
//! provider uses: same requests, same retries, same error codes. The token arrives
//! resolved from a Secrets Manager dynamic reference; it is handed to the client
//! only, which sends it as a sensitive header, and no attribute, reason or log line
//! of these types carries it.

use std::sync::OnceLock;
use std::time::Duration;

use idcbootstrap::{AttrPath, ErrorCode};
use idcbootstrap_vendor_client::{self as client, Options, Roots, VendorClient};

use super::properties::{Decoded, Table};
use crate::handler::{Failure, PropertyDetail};

/// How long before the deadline guard a vendor call must have answered, so that the
/// answer is this type's own (with the API's code) and not the guard's `timeout`.
pub(crate) const VENDOR_SLACK: Duration = Duration::from_millis(1500);

/// Mozilla's roots, compiled in (as for the response to CloudFormation): the
/// function reads no trust store at start-up.
fn roots() -> Roots {
    static DER: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    Roots::Der(
        DER.get_or_init(|| {
            webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().map(|c| c.as_ref().to_vec()).collect()
        })
        .clone(),
    )
}

/// The client of the tenant the properties name, or `None` with a detail per
/// missing or malformed setting (recorded in `d`, by property). The token is never
/// quoted.
pub(crate) fn client(table: &Table, d: &mut Decoded) -> Option<VendorClient> {
    let before = d.details.len();
    let mut setting = |field: &'static str, check: fn(&str) -> Result<(), client::Error>| {
        let property = table.property_path(&AttrPath::field(field));
        if d.details.iter().any(|x| x.property == property) {
            return None; // already refused while decoding
        }
        let Some(value) = d.string(field).filter(|v| !v.trim().is_empty()) else {
            let var = format!("IDCBOOTSTRAP_{}", field.to_ascii_uppercase());
            d.details.push(PropertyDetail {
                property,
                rule: "required".into(),
                message: format!("is required (or the function's {var})"),
            });
            return None;
        };
        // The token is checked as it came: a space in it is an error, never trimmed away.
        let checked = if field == "api_token" { value.as_str() } else { value.trim() };
        match check(checked) {
            Ok(()) => Some(value),
            Err(e) => {
                d.details.extend(error_details(table, &e));
                None
            }
        }
    };
    let url = setting("api_url", |u| client::check_api_url(u).map(|_| ()));
    let tenant = setting("tenant_id", client::check_tenant_id);
    let token = setting("api_token", client::check_token);
    let (Some(url), Some(tenant), Some(token)) = (url, tenant, token) else { return None };
    // The function's token goes only to the function's API: a stack that names its
    // own ApiUrl could otherwise have the function send its bearer token to any host.
    let (url_property, token_property) = (
        table.property_path(&AttrPath::field("api_url")),
        table.property_path(&AttrPath::field("api_token")),
    );
    if d.took_env_default(&token_property) && !d.took_env_default(&url_property) {
        d.details.push(PropertyDetail {
            property: token_property,
            rule: "required".into(),
            message: format!(
                "is required when the stack sets {url_property}: the function's IDCBOOTSTRAP_API_TOKEN is sent \
                 only to its own IDCBOOTSTRAP_API_URL"
            ),
        });
        return None;
    }
    if d.details.len() > before {
        return None;
    }
    let options = Options {
        roots: roots(),
        user_agent: concat!("idcbootstrap-cfn-resource/", env!("CARGO_PKG_VERSION")).to_owned(),
        ..Options::default()
    };
    match VendorClient::with_options(&url, &tenant, &token, options) {
        Ok(c) => Some(c),
        Err(e) => {
            d.details.extend(error_details(table, &e));
            None
        }
    }
}

/// The API's `details.fields` (or the client setting at fault), by property.
fn error_details(table: &Table, e: &client::Error) -> Vec<PropertyDetail> {
    let fields = e.fields();
    if fields.is_empty() {
        return e
            .field()
            .map(|f| PropertyDetail {
                property: table.property_path(&AttrPath::root().attr(f)),
                rule: if e.code() == "invalid_input" { "invalid".into() } else { e.code().to_owned() },
                message: table.translate_message(e.message()),
            })
            .into_iter()
            .collect();
    }
    fields
        .into_iter()
        .map(|f| PropertyDetail {
            property: AttrPath::parse(&f.field).map_or_else(
                || table.property_path(&AttrPath::root().attr(f.field.clone())),
                |p| table.property_path(&p),
            ),
            rule: f.rule,
            message: table.translate_message(&f.message),
        })
        .collect()
}

/// The API's error as this function's failure. The code is the product's own when
/// the API's is one of them (the check's codes, `invalid_input`, `not_configured`,
/// ...); otherwise the closest, with the API's code and HTTP status in the message:
/// a refused token (401 `unauthenticated`) or a token of another tenant (403
/// `tenant_mismatch`) is `invalid_input` naming `ApiToken` (and `TenantId`), a rate
/// limit `throttled`, anything else `internal`. `what` says which call failed.
pub(crate) fn failure(table: &Table, what: &str, e: &client::Error) -> Failure {
    let status = e.status().map(|s| format!(", HTTP {s}")).unwrap_or_default();
    let api = format!("the vendor API's {what} failed ({}{status})", e.code());
    let credentials = e.credential_settings();
    let (code, mut details) = if !credentials.is_empty() {
        let rule = e.code().to_owned();
        let message = table.translate_message(e.message());
        let details = credentials
            .iter()
            .map(|f| PropertyDetail {
                property: table.property_path(&AttrPath::field(f)),
                rule: rule.clone(),
                message: message.clone(),
            })
            .collect();
        (ErrorCode::InvalidInput, details)
    } else {
        let code = ErrorCode::from_wire(e.code()).unwrap_or(match e.code() {
            "rate_limited" => ErrorCode::Throttled,
            "not_found" => ErrorCode::NotConfigured,
            _ => ErrorCode::Internal,
        });
        let details = if code == ErrorCode::InvalidInput { error_details(table, e) } else { Vec::new() };
        (code, details)
    };
    details.dedup();
    let message = if code == ErrorCode::InvalidInput && !details.is_empty() {
        format!("{api}: {}", super::properties::invalid_message(details.len()))
    } else {
        format!("{api}: {}", table.translate_message(e.message()))
    };
    let mut message = message;
    for n in e.notices() {
        message.push_str("; ");
        message.push_str(&table.translate_message(n));
    }
    Failure { code, message, details }
}

#[cfg(test)]
mod tests {
    use serde_json::{Map, Value, json};

    use super::*;
    use crate::resources::properties::Defaults;
    use crate::resources::vendor_registration::TABLE;

    fn decoded(props: Value) -> Decoded {
        let props: Map<String, Value> = serde_json::from_value(props).unwrap();
        TABLE.decode(&props, &Defaults::default())
    }

    #[test]
    fn missing_and_bad_settings_name_their_properties_and_never_the_token() {
        let mut d = decoded(json!({"ApiUrl": "ftp://x", "ApiToken": "s3cr3t token"}));
        assert!(client(&TABLE, &mut d).is_none());
        let props: Vec<(&str, &str)> =
            d.details.iter().map(|x| (x.property.as_str(), x.rule.as_str())).collect();
        assert_eq!(props, [("ApiUrl", "invalid"), ("TenantId", "required"), ("ApiToken", "invalid")]);
        assert!(!format!("{:?}", d.details).contains("s3cr3t"));
        let mut d = decoded(json!({
            "ApiUrl": "ftp://x",
            "TenantId": "2489e9ad-2ee2-4e00-8ec9-32d5f69181c0",
            "ApiToken": "s3cr3t",
        }));
        assert!(client(&TABLE, &mut d).is_none());
        assert_eq!(d.details[0].property, "ApiUrl");
        let mut d = decoded(json!({
            "ApiUrl": "https://api.vendor.example",
            "TenantId": "2489e9ad-2ee2-4e00-8ec9-32d5f69181c0",
            "ApiToken": "s3cr3t token",
        }));
        assert!(client(&TABLE, &mut d).is_none());
        assert_eq!(d.details[0].property, "ApiToken");
        assert!(!format!("{:?}", d.details).contains("s3cr3t"));
        let mut d = decoded(json!({
            "ApiUrl": "https://api.vendor.example/",
            "TenantId": "2489e9ad-2ee2-4e00-8ec9-32d5f69181c0",
            "ApiToken": "s3cr3t",
        }));
        assert!(client(&TABLE, &mut d).is_some() && d.details.is_empty());
    }

    #[test]
    fn the_functions_token_never_goes_to_a_url_the_stack_names() {
        let env = |pairs: &[(&str, &str)]| {
            let pairs: Vec<(String, String)> =
                pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
            TABLE.env_defaults(&move |k| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())).unwrap()
        };
        let tenant = "2489e9ad-2ee2-4e00-8ec9-32d5f69181c0";
        let defaults = env(&[
            ("IDCBOOTSTRAP_API_URL", "https://api.vendor.example"),
            ("IDCBOOTSTRAP_TENANT_ID", tenant),
            ("IDCBOOTSTRAP_API_TOKEN", "functions-s3cr3t"),
        ]);
        let props = |v: Value| -> Map<String, Value> { serde_json::from_value(v).unwrap() };
        // The stack's own URL with the function's token: refused, naming ApiToken.
        let mut d = TABLE.decode(&props(json!({"ApiUrl": "https://attacker.example"})), &defaults);
        assert!(client(&TABLE, &mut d).is_none());
        assert_eq!(d.details.len(), 1);
        assert_eq!((d.details[0].property.as_str(), d.details[0].rule.as_str()), ("ApiToken", "required"));
        assert!(!format!("{:?}", d.details).contains("functions-s3cr3t"));
        // The stack's own URL with its own token, or everything from the function: fine.
        let mut d =
            TABLE.decode(&props(json!({"ApiUrl": "https://other.example", "ApiToken": "stacks"})), &defaults);
        assert!(client(&TABLE, &mut d).is_some() && d.details.is_empty());
        let mut d = TABLE.decode(&Map::new(), &defaults);
        assert!(client(&TABLE, &mut d).is_some() && d.details.is_empty());
    }
}

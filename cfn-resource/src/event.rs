//! Decoding CloudFormation custom-resource requests. Plumbing: knows nothing of
//! IAM Identity Center.
//!
//! The typed shapes come from `aws_lambda_events` (feature `cloudformation`). An
//! event that does not fit them is salvaged as far as possible: if it still names
//! where and how to answer (`ResponseURL`, `StackId`, `RequestId`,
//! `LogicalResourceId`), the function answers FAILED instead of leaving the stack
//! waiting.

use aws_lambda_events::event::cloudformation::CloudFormationCustomResourceRequest as Typed;
use serde_json::{Map, Value};

/// Which lifecycle call this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RequestKind {
    Create,
    Update,
    Delete,
}

impl RequestKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            RequestKind::Create => "Create",
            RequestKind::Update => "Update",
            RequestKind::Delete => "Delete",
        }
    }
}

/// Where and to whom the answer goes: the fields CloudFormation wants echoed.
/// Its `Debug` leaves out the response URL's query, which holds a signature.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct ReplyTo {
    pub(crate) response_url: String,
    pub(crate) stack_id: String,
    pub(crate) request_id: String,
    pub(crate) logical_resource_id: String,
    /// Present on Update and Delete.
    pub(crate) physical_resource_id: Option<String>,
    /// `None` when the event was too malformed to tell.
    pub(crate) kind: Option<RequestKind>,
}

/// A well-formed request, as a resource handler sees it. Its `Debug` names the
/// properties without their values, which may hold external IDs and tokens.
#[derive(Clone, PartialEq)]
pub(crate) struct Request {
    pub(crate) kind: RequestKind,
    pub(crate) reply: ReplyTo,
    pub(crate) resource_type: String,
    /// `ResourceProperties` (an empty map if CloudFormation sent none).
    pub(crate) properties: Map<String, Value>,
    /// `OldResourceProperties`, on Update only.
    pub(crate) old_properties: Option<Map<String, Value>>,
}

impl Request {
    /// The current physical ID (Update, Delete).
    pub(crate) fn physical_resource_id(&self) -> Option<&str> {
        self.reply.physical_resource_id.as_deref()
    }
}

impl std::fmt::Debug for ReplyTo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let url = self.response_url.split(['?', '#']).next().unwrap_or_default();
        f.debug_struct("ReplyTo")
            .field("response_url", &format_args!("{url}?…"))
            .field("stack_id", &self.stack_id)
            .field("request_id", &self.request_id)
            .field("logical_resource_id", &self.logical_resource_id)
            .field("physical_resource_id", &self.physical_resource_id)
            .field("kind", &self.kind)
            .finish()
    }
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names = |m: &Map<String, Value>| m.keys().cloned().collect::<Vec<_>>();
        f.debug_struct("Request")
            .field("kind", &self.kind)
            .field("reply", &self.reply)
            .field("resource_type", &self.resource_type)
            .field("properties", &names(&self.properties))
            .field("old_properties", &self.old_properties.as_ref().map(names))
            .finish()
    }
}

/// An event that is not a well-formed custom-resource request.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Malformed {
    /// How to answer, if the event still says.
    pub(crate) reply: Option<ReplyTo>,
    /// Why it was rejected (never echoes property values).
    pub(crate) reason: String,
}

/// Properties that CloudFormation itself adds to every custom resource; they are
/// not the resource's own and are ignored by the property decoders.
pub(crate) const RESERVED_PROPERTIES: [&str; 2] = ["ServiceToken", "ServiceTimeout"];

/// Decodes an invocation payload.
pub(crate) fn decode(payload: Value) -> Result<Request, Box<Malformed>> {
    let salvage = salvage(&payload);
    let typed: Typed = match serde_json::from_value(payload) {
        Ok(t) => t,
        Err(e) => {
            return Err(Box::new(Malformed {
                reply: salvage,
                reason: format!("not a CloudFormation custom-resource request: {}", describe_serde_error(&e)),
            }));
        }
    };
    let (kind, reply, resource_type, properties, old_properties) = match typed {
        Typed::Create(r) => (
            RequestKind::Create,
            ReplyTo {
                response_url: r.response_url,
                stack_id: r.stack_id,
                request_id: r.request_id,
                logical_resource_id: r.logical_resource_id,
                physical_resource_id: None,
                kind: Some(RequestKind::Create),
            },
            r.resource_type,
            r.resource_properties,
            None,
        ),
        Typed::Update(r) => (
            RequestKind::Update,
            ReplyTo {
                response_url: r.response_url,
                stack_id: r.stack_id,
                request_id: r.request_id,
                logical_resource_id: r.logical_resource_id,
                physical_resource_id: Some(r.physical_resource_id),
                kind: Some(RequestKind::Update),
            },
            r.resource_type,
            r.resource_properties,
            Some(r.old_resource_properties),
        ),
        Typed::Delete(r) => (
            RequestKind::Delete,
            ReplyTo {
                response_url: r.response_url,
                stack_id: r.stack_id,
                request_id: r.request_id,
                logical_resource_id: r.logical_resource_id,
                physical_resource_id: Some(r.physical_resource_id),
                kind: Some(RequestKind::Delete),
            },
            r.resource_type,
            r.resource_properties,
            None,
        ),
        // The enum is non-exhaustive; a future request type is answered, not dropped.
        _ => {
            return Err(Box::new(Malformed { reply: salvage, reason: "unsupported RequestType".to_owned() }));
        }
    };
    let malformed = |what: &str| Box::new(Malformed { reply: Some(reply.clone()), reason: what.to_owned() });
    if reply.response_url.is_empty() {
        return Err(Box::new(Malformed { reply: None, reason: "ResponseURL is empty".to_owned() }));
    }
    let properties = as_object(properties).ok_or_else(|| malformed("ResourceProperties is not an object"))?;
    let old_properties = match old_properties {
        None => None,
        Some(v) => Some(as_object(v).ok_or_else(|| malformed("OldResourceProperties is not an object"))?),
    };
    Ok(Request { kind, reply, resource_type, properties, old_properties })
}

fn as_object(v: Value) -> Option<Map<String, Value>> {
    match v {
        Value::Object(m) => Some(m),
        Value::Null => Some(Map::new()),
        _ => None,
    }
}

/// serde's messages name the missing or mistyped field, which helps; but "invalid
/// type: string `...`" quotes the value, which could be a secret, so every
/// backtick-quoted value in an `invalid` message is dropped.
fn describe_serde_error(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    let msg = msg.split(" at line").next().unwrap_or(&msg);
    if !msg.starts_with("invalid") {
        return msg.to_owned();
    }
    let mut out = String::with_capacity(msg.len());
    let mut quoted = false;
    for c in msg.chars() {
        if c == '`' {
            quoted = !quoted;
        } else if !quoted {
            out.push(c);
        }
    }
    out.replace(" ,", ",").replace("  ", " ")
}

/// Pulls the reply fields out of any JSON object, whatever else is wrong with it.
fn salvage(payload: &Value) -> Option<ReplyTo> {
    let obj = payload.as_object()?;
    let s = |k: &str| obj.get(k).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned);
    Some(ReplyTo {
        response_url: s("ResponseURL")?,
        stack_id: s("StackId")?,
        request_id: s("RequestId")?,
        logical_resource_id: s("LogicalResourceId")?,
        physical_resource_id: s("PhysicalResourceId"),
        kind: match obj.get("RequestType").and_then(Value::as_str) {
            Some("Create") => Some(RequestKind::Create),
            Some("Update") => Some(RequestKind::Update),
            Some("Delete") => Some(RequestKind::Delete),
            _ => None,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Value {
        let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        serde_json::from_str(&text).unwrap()
    }

    /// Deserialize, serialize, deserialize, compare: the fixture survives the typed
    /// model unchanged, so no field CloudFormation sends is silently dropped.
    fn round_trip(name: &str) -> Typed {
        let original = fixture(name);
        let typed: Typed = serde_json::from_value(original.clone()).unwrap();
        let again: Typed = serde_json::from_value(serde_json::to_value(&typed).unwrap()).unwrap();
        assert_eq!(typed, again, "{name}");
        typed
    }

    const FIXTURES: [&str; 6] = [
        "template-create.json",
        "template-update.json",
        "template-delete.json",
        "external-id-create.json",
        "external-id-update-rotation.json",
        "external-id-delete.json",
    ];

    #[test]
    fn debug_of_a_request_shows_no_property_value_and_no_signature() {
        let mut event = fixture("external-id-update-rotation.json");
        event["ResourceProperties"]["Rotation"] = Value::from("Zq3vDebugSecret");
        event["OldResourceProperties"]["Rotation"] = Value::from("Zq3vOldDebugSecret");
        event["ResponseURL"] = Value::from("https://b.s3.amazonaws.com/x?X-Amz-Signature=SigSecret");
        let req = decode(event).unwrap();
        let debug = format!("{req:?} {req:#?}");
        assert!(debug.contains("Rotation"), "the guard: names are shown");
        for secret in ["Zq3vDebugSecret", "Zq3vOldDebugSecret", "SigSecret"] {
            assert!(!debug.contains(secret), "{secret} in {debug}");
        }
    }

    #[test]
    fn fixtures_round_trip_and_decode() {
        for name in FIXTURES {
            round_trip(name);
            let req = decode(fixture(name)).unwrap_or_else(|m| panic!("{name}: {m:?}"));
            assert!(req.reply.response_url.starts_with("https://"), "{name}");
            assert!(
                req.properties.contains_key("ServiceToken"),
                "{name}: ServiceToken is sent as a property"
            );
            match req.kind {
                RequestKind::Create => assert!(req.physical_resource_id().is_none()),
                RequestKind::Update => {
                    assert!(req.physical_resource_id().is_some());
                    assert!(req.old_properties.is_some());
                }
                RequestKind::Delete => assert!(req.physical_resource_id().is_some()),
            }
        }
    }

    #[test]
    fn properties_arrive_as_strings() {
        let req = decode(fixture("template-create.json")).unwrap();
        assert_eq!(req.resource_type, "Custom::IdcBootstrapTemplate");
        assert_eq!(req.properties["MaxSessionDuration"], Value::from("3600"));
        assert!(req.properties["ExternalIds"].is_array());
        assert!(req.properties["Tags"].is_object());
    }

    #[test]
    fn update_carries_old_properties() {
        let req = decode(fixture("external-id-update-rotation.json")).unwrap();
        assert_eq!(req.kind, RequestKind::Update);
        let old = req.old_properties.unwrap();
        assert_ne!(old.get("Rotation"), req.properties.get("Rotation"));
    }

    #[test]
    fn missing_request_type_is_salvaged() {
        let mut v = fixture("template-create.json");
        v.as_object_mut().unwrap().remove("RequestType");
        let m = decode(v).unwrap_err();
        let reply = m.reply.expect("reply fields are all there");
        assert_eq!(reply.logical_resource_id, "Template");
        assert_eq!(reply.kind, None);
        assert!(m.reason.contains("RequestType"), "{}", m.reason);
    }

    #[test]
    fn unknown_request_type_is_salvaged_without_kind() {
        let mut v = fixture("template-delete.json");
        v["RequestType"] = Value::from("Upsert");
        let m = decode(v).unwrap_err();
        assert!(m.reply.is_some());
        assert!(m.reason.contains("Upsert"), "{}", m.reason);
    }

    #[test]
    fn missing_response_url_cannot_be_answered() {
        let mut v = fixture("template-create.json");
        v.as_object_mut().unwrap().remove("ResponseURL");
        assert_eq!(decode(v).unwrap_err().reply, None);
        assert_eq!(decode(Value::from("just a string")).unwrap_err().reply, None);
        assert_eq!(decode(Value::Null).unwrap_err().reply, None);
    }

    #[test]
    fn non_object_properties_are_malformed_but_answerable() {
        let mut v = fixture("template-create.json");
        v["ResourceProperties"] = Value::from("oops");
        let m = decode(v).unwrap_err();
        assert!(m.reply.is_some());
        assert!(m.reason.contains("ResourceProperties"));
    }

    #[test]
    fn wrong_typed_field_does_not_echo_values() {
        let mut v = fixture("external-id-create.json");
        v["RequestId"] = Value::from(12345);
        let m = decode(v).unwrap_err();
        assert!(!m.reason.contains("12345"), "{}", m.reason);
    }
}

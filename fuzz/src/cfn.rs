//! The Lambda's CloudFormation plumbing: event decoding, and the response body it
//! answers with (valid JSON, at most 4096 bytes, whatever it is given).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::assert_no_echo;
use crate::event::{ReplyTo, decode};
use crate::response::{CfnResponse, MAX_BODY, Status};

const VOCABULARY: &str = concat!(
    include_str!("../../cfn-resource/src/event.rs"),
    include_str!("../../cfn-resource/src/response.rs")
);

/// Encodes `r` and checks the body: JSON, within the limit, and the same answer
/// when it already fitted.
fn check_encoding(r: &CfnResponse) -> Value {
    let body = r.encode();
    assert!(body.len() <= MAX_BODY, "a response body of {} bytes", body.len());
    let v: Value = serde_json::from_slice(&body).expect("the response body is JSON");
    assert!(matches!(v["Status"].as_str(), Some("SUCCESS" | "FAILED")), "Status {}", v["Status"]);
    if let Ok(full) = serde_json::to_vec(r)
        && full.len() <= MAX_BODY
    {
        assert_eq!(body, full, "a response that fits was changed");
    }
    if v["Status"] == "SUCCESS" {
        assert_eq!(r.status, Status::Success, "a FAILED answer became SUCCESS");
    }
    v
}

/// Every string value inside the resource properties of an event.
fn property_strings(payload: &Value) -> Vec<String> {
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) => out.push(s.clone()),
            Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            Value::Object(m) => m.values().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for k in ["ResourceProperties", "OldResourceProperties"] {
        walk(&payload[k], &mut out);
    }
    out
}

/// Everything else the event says, which an answer may echo: the reply fields,
/// the resource type and every key.
fn public_strings(payload: &Value) -> Vec<String> {
    fn keys(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Array(a) => a.iter().for_each(|x| keys(x, out)),
            Value::Object(m) => m.iter().for_each(|(k, x)| {
                out.push(k.clone());
                keys(x, out);
            }),
            _ => {}
        }
    }
    let mut out = Vec::new();
    keys(payload, &mut out);
    if let Some(m) = payload.as_object() {
        for (k, v) in m {
            if !k.ends_with("ResourceProperties")
                && let Some(s) = v.as_str()
            {
                out.push(s.to_owned());
            }
        }
    }
    out
}

/// A JSON invocation payload: decoded, then answered as the Lambda answers (FAILED
/// with the reason for a malformed event that still says where to answer; SUCCESS
/// with the properties as `Data`, and FAILED with a long reason, for a good one).
pub fn cfn_event(data: &[u8]) {
    let Ok(payload) = serde_json::from_slice::<Value>(data) else { return };
    let secrets = property_strings(&payload);
    let public = public_strings(&payload);
    match decode(payload) {
        Err(m) => {
            assert_no_echo("malformed-event reason", &m.reason, &secrets, VOCABULARY, &public);
            if let Some(reply) = &m.reply {
                let pid = reply.physical_resource_id.clone().unwrap_or_else(|| "failed-create".into());
                let r = CfnResponse::new(reply, Status::Failed, pid).with_reason(m.reason.clone());
                check_encoding(&r);
            }
        }
        Ok(req) => {
            assert!(!req.reply.response_url.is_empty());
            let pid = req.physical_resource_id().unwrap_or("created").to_owned();
            let mut ok = CfnResponse::new(&req.reply, Status::Success, pid.clone());
            ok.data = req.properties.iter().map(|(k, v)| (k.clone(), v.to_string())).collect();
            check_encoding(&ok);
            let reason = format!("invalid_input: {}", "x".repeat(5000));
            check_encoding(&CfnResponse::new(&req.reply, Status::Failed, pid).with_reason(reason));
        }
    }
}

/// A response built from raw fields (NUL-separated: status, reason, physical ID,
/// stack ID, request ID, logical ID, then `Data` keys and values alternately).
pub fn cfn_response(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut parts = text.split('\0');
    let mut next = || parts.next().unwrap_or_default().to_owned();
    let status = if next().starts_with('S') { Status::Success } else { Status::Failed };
    let reason = next();
    let reply = |physical: String| ReplyTo {
        response_url: "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/x".into(),
        stack_id: String::new(),
        request_id: String::new(),
        logical_resource_id: String::new(),
        physical_resource_id: Some(physical),
        kind: None,
    };
    let physical = next();
    let mut reply = reply(physical.clone());
    reply.stack_id = next();
    reply.request_id = next();
    reply.logical_resource_id = next();
    let mut r = CfnResponse::new(&reply, status, physical);
    if !reason.is_empty() {
        r = r.with_reason(reason);
    }
    let rest: Vec<String> = parts.map(str::to_owned).collect();
    r.data = rest
        .chunks(2)
        .map(|kv| (kv[0].clone(), kv.get(1).cloned().unwrap_or_default()))
        .collect::<BTreeMap<_, _>>();
    r.no_echo = r.data.len() % 2 == 1;
    check_encoding(&r);
}

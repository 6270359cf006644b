//! The response body CloudFormation reads from the pre-signed URL. Plumbing:
//! knows nothing of IAM Identity Center.
//!
//! Written by hand rather than with `aws_lambda_events`'s
//! `CloudFormationCustomResourceResponse` because the body must stay within
//! CloudFormation's 4096-byte limit whatever the `Reason`: [`CfnResponse::encode`]
//! shortens the reason on a UTF-8 boundary until the JSON fits, and `Data` is a
//! sorted map so the same answer is the same bytes.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::event::ReplyTo;

/// CloudFormation rejects response bodies larger than this.
pub(crate) const MAX_BODY: usize = 4096;

/// What replaces the cut-off end of a shortened reason.
const ELLIPSIS: &str = "…";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum Status {
    Success,
    Failed,
}

/// One answer to one request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct CfnResponse {
    pub(crate) status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) reason: Option<String>,
    pub(crate) physical_resource_id: String,
    pub(crate) stack_id: String,
    pub(crate) request_id: String,
    pub(crate) logical_resource_id: String,
    /// Masks `Data` in `Fn::GetAtt` output shown by describe calls.
    pub(crate) no_echo: bool,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) data: BTreeMap<String, String>,
}

impl CfnResponse {
    /// A response to `reply` with nothing but a status.
    pub(crate) fn new(reply: &ReplyTo, status: Status, physical_resource_id: String) -> Self {
        CfnResponse {
            status,
            reason: None,
            physical_resource_id,
            stack_id: reply.stack_id.clone(),
            request_id: reply.request_id.clone(),
            logical_resource_id: reply.logical_resource_id.clone(),
            no_echo: false,
            data: BTreeMap::new(),
        }
    }

    #[must_use]
    pub(crate) fn with_reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    /// The JSON body, at most [`MAX_BODY`] bytes.
    ///
    /// A too-long `Reason` is cut at a character boundary and ends in `…`. If the
    /// body is still too large without any reason (the `Data` is too big), a
    /// SUCCESS becomes a FAILED without `Data` that says so, rather than a body
    /// CloudFormation would reject and a stack that waits for an hour.
    pub(crate) fn encode(&self) -> Vec<u8> {
        let full = to_json(self);
        if full.len() <= MAX_BODY {
            return full;
        }
        if let Some(reason) = &self.reason {
            let mut shortened = self.clone();
            // Largest prefix (in chars) whose body fits: the escaped size of a
            // char varies, so measure the real encoding, by bisection.
            let bounds: Vec<usize> =
                reason.char_indices().map(|(i, _)| i).chain(std::iter::once(reason.len())).collect();
            let fits = |n: usize, r: &mut CfnResponse| {
                r.reason = Some(format!("{}{ELLIPSIS}", &reason[..bounds[n]]));
                to_json(r).len() <= MAX_BODY
            };
            if fits(0, &mut shortened) {
                let (mut lo, mut hi) = (0usize, bounds.len() - 1);
                while lo < hi {
                    let mid = (lo + hi).div_ceil(2);
                    if fits(mid, &mut shortened) {
                        lo = mid;
                    } else {
                        hi = mid - 1;
                    }
                }
                fits(lo, &mut shortened);
                return to_json(&shortened);
            }
        }
        // Even an empty reason does not fit: the Data is too large.
        let size = to_json(&CfnResponse { reason: None, ..self.clone() }).len();
        let mut fallback = CfnResponse {
            status: Status::Failed,
            reason: Some(format!(
                "internal: the response is {size} bytes, over CloudFormation's {MAX_BODY}-byte limit"
            )),
            data: BTreeMap::new(),
            ..self.clone()
        };
        if self.status == Status::Success && self.data.is_empty() {
            fallback.status = Status::Success;
        }
        to_json(&fallback)
    }
}

fn to_json(r: &CfnResponse) -> Vec<u8> {
    // Serializing strings and a BTreeMap of strings cannot fail.
    serde_json::to_vec(r).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply() -> ReplyTo {
        ReplyTo {
            response_url: "https://example.invalid/x".into(),
            stack_id: "arn:aws:cloudformation:us-east-1:123456789012:stack/s/1".into(),
            request_id: "req-1".into(),
            logical_resource_id: "Res".into(),
            physical_resource_id: None,
            kind: None,
        }
    }

    fn parse(body: &[u8]) -> serde_json::Value {
        assert!(body.len() <= MAX_BODY, "{} bytes", body.len());
        serde_json::from_slice(body).expect("valid JSON")
    }

    #[test]
    fn small_response_is_unchanged() {
        let r = CfnResponse::new(&reply(), Status::Failed, "p".into()).with_reason("bad");
        let v = parse(&r.encode());
        assert_eq!(v["Status"], "FAILED");
        assert_eq!(v["Reason"], "bad");
        assert_eq!(v["PhysicalResourceId"], "p");
        assert_eq!(v["NoEcho"], false);
        assert!(v.get("Data").is_none());
    }

    #[test]
    fn long_reasons_are_cut_on_a_char_boundary_and_fill_the_body() {
        // Multi-byte chars, quotes and control chars (escaped to 6 bytes) at every offset.
        for filler in ["é", "😀", "\"", "\u{1}", "a", "ab😀\"é\n"] {
            let reason = filler.repeat(5000);
            let r = CfnResponse::new(&reply(), Status::Failed, "p".into()).with_reason(reason.clone());
            let body = r.encode();
            let v = parse(&body);
            let got = v["Reason"].as_str().unwrap();
            assert!(got.ends_with(ELLIPSIS), "{filler:?}");
            assert!(reason.starts_with(got.trim_end_matches(ELLIPSIS)), "{filler:?}");
            // As full as possible: one more char would not have fit.
            assert!(body.len() > MAX_BODY - 12, "{filler:?}: only {} bytes", body.len());
        }
    }

    #[test]
    fn oversized_data_becomes_a_clean_failure() {
        let mut r = CfnResponse::new(&reply(), Status::Success, "p".into());
        r.data.insert("Big".into(), "x".repeat(5000));
        let v = parse(&r.encode());
        assert_eq!(v["Status"], "FAILED");
        assert!(v["Reason"].as_str().unwrap().contains("4096"));
        assert!(v.get("Data").is_none());
    }

    #[test]
    fn data_is_sorted_and_deterministic() {
        let mut r = CfnResponse::new(&reply(), Status::Success, "p".into());
        r.data.insert("b".into(), "2".into());
        r.data.insert("a".into(), "1".into());
        let body = String::from_utf8(r.encode()).unwrap();
        assert!(body.find("\"a\"").unwrap() < body.find("\"b\"").unwrap());
        assert_eq!(body.as_bytes(), r.encode().as_slice());
    }
}

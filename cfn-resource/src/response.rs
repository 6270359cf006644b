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

    /// The size of the full body, if it is over [`MAX_BODY`].
    pub(crate) fn oversize(&self) -> Option<usize> {
        Some(to_json(self).len()).filter(|n| *n > MAX_BODY)
    }

    /// The JSON body, at most [`MAX_BODY`] bytes, always.
    ///
    /// A too-long `Reason` is cut at a character boundary and ends in `…`. If the
    /// body is still too large without any reason (the `Data` is too big), a
    /// SUCCESS becomes a FAILED without `Data` that says so, naming the largest
    /// attributes, rather than a body CloudFormation would reject and a stack that
    /// waits for an hour. If even that does not fit (ids echoed from the event that
    /// are longer than CloudFormation ever sends), the longest ids are shortened.
    pub(crate) fn encode(&self) -> Vec<u8> {
        let full = to_json(self);
        if full.len() <= MAX_BODY {
            return full;
        }
        if let Some(body) = self.fit_reason() {
            return body;
        }
        let size = to_json(&CfnResponse { reason: None, ..self.clone() }).len();
        let reason = if self.data.is_empty() {
            format!(
                "internal: the response is {size} bytes without a reason, over CloudFormation's \
                 {MAX_BODY}-byte limit: the ids it echoes are too long, and are shortened"
            )
        } else {
            let mut largest: Vec<(&String, usize)> =
                self.data.iter().map(|(k, v)| (k, serde_json::to_string(v).map_or(0, |j| j.len()))).collect();
            largest.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
            let named: Vec<String> =
                largest.iter().take(2).map(|(k, n)| format!("{} ({n} bytes)", cut(k, 64))).collect();
            format!(
                "internal: the response is {size} bytes, over CloudFormation's {MAX_BODY}-byte limit; the \
                 largest attributes: {}",
                named.join(", ")
            )
        };
        let mut fallback = CfnResponse {
            status: Status::Failed,
            reason: Some(reason),
            data: BTreeMap::new(),
            ..self.clone()
        };
        if self.status == Status::Success && self.data.is_empty() {
            fallback.status = Status::Success;
        }
        fallback.shorten_ids();
        fallback.fit_reason().unwrap_or_else(|| to_json(&fallback))
    }

    /// The body with the longest reason that fits, cut on a character boundary;
    /// `None` if it has no reason or not even an empty one fits.
    fn fit_reason(&self) -> Option<Vec<u8>> {
        let full = to_json(self);
        if full.len() <= MAX_BODY {
            return Some(full);
        }
        let reason = self.reason.as_ref()?;
        let mut shortened = self.clone();
        // Largest prefix (in chars) whose body fits: the escaped size of a char
        // varies, so measure the real encoding, by bisection.
        let bounds: Vec<usize> =
            reason.char_indices().map(|(i, _)| i).chain(std::iter::once(reason.len())).collect();
        let fits = |n: usize, r: &mut CfnResponse| {
            r.reason = Some(format!("{}{ELLIPSIS}", &reason[..bounds[n]]));
            to_json(r).len() <= MAX_BODY
        };
        if !fits(0, &mut shortened) {
            return None;
        }
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
        Some(to_json(&shortened))
    }

    /// Halves the longest echoed id until the body, with room for a short reason,
    /// fits. Ids as CloudFormation sends them (a stack ARN, a UUID, a logical ID
    /// of at most 255 characters, a physical ID of at most 1 KB) are never touched.
    fn shorten_ids(&mut self) {
        /// Room kept for the reason that says what happened.
        const REASON_ROOM: usize = 400;
        while to_json(&CfnResponse { reason: None, ..self.clone() }).len() + REASON_ROOM > MAX_BODY {
            let ids = [
                &mut self.physical_resource_id,
                &mut self.stack_id,
                &mut self.request_id,
                &mut self.logical_resource_id,
            ];
            let Some(longest) = ids.into_iter().max_by_key(|s| s.len()) else { return };
            if longest.len() <= 16 {
                return;
            }
            *longest = cut(longest, longest.len() / 2);
        }
    }
}

/// At most `max` bytes of `s`, cut on a character boundary, ending in `…` when cut.
fn cut(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max.saturating_sub(ELLIPSIS.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{ELLIPSIS}", &s[..end])
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

    /// The echoed ids come from the event: if they alone leave no room, they are
    /// shortened rather than the body going over the limit.
    #[test]
    fn the_body_fits_even_when_the_echoed_ids_do_not() {
        for status in [Status::Success, Status::Failed] {
            let mut r = CfnResponse::new(&reply(), status, "p".repeat(5000));
            r.logical_resource_id = "L".repeat(3000);
            r.stack_id = "S".repeat(3000);
            r.request_id = "R".repeat(3000);
            r.reason = Some("é".repeat(3000));
            r.data.insert("Big".into(), "x".repeat(5000));
            let v = parse(&r.encode());
            assert_eq!(v["Status"], "FAILED");
            assert!(v.get("Data").is_none());
            let reason = v["Reason"].as_str().unwrap();
            assert!(reason.starts_with("internal: "), "{reason}");
            assert!(v["LogicalResourceId"].as_str().unwrap().starts_with("LLL"));
        }
        // One huge id, the others as sent.
        let mut r = CfnResponse::new(&reply(), Status::Success, "p".repeat(8000));
        r.data.insert("Small".into(), "1".into());
        let v = parse(&r.encode());
        assert_eq!(v["StackId"], reply().stack_id, "short ids are echoed verbatim");
    }

    /// Data too large names the largest attributes, so the template author knows
    /// which output (and so which input) to shorten.
    #[test]
    fn oversized_data_names_its_largest_attributes() {
        let mut r = CfnResponse::new(&reply(), Status::Success, "p".into());
        r.data.insert("TrustPolicy".into(), "x".repeat(2500));
        r.data.insert("ExternalIds".into(), "y".repeat(2400));
        r.data.insert("RoleName".into(), "z".into());
        let v = parse(&r.encode());
        let reason = v["Reason"].as_str().unwrap();
        assert!(reason.contains("TrustPolicy") && reason.contains("ExternalIds"), "{reason}");
        assert!(!reason.contains("RoleName"), "{reason}");
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

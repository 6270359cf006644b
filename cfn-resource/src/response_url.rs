//! Where the function may send an answer: CloudFormation's response endpoints for
//! the function's own region, and the origins `IDCBOOTSTRAP_CFN_RESPONSE_ENDPOINTS`
//! adds. Nothing else, whatever the event says. Plumbing: knows nothing of IAM
//! Identity Center.
//!
//! An answer can carry secrets (`Custom::IdcExternalId` returns the external IDs
//! as `Data`). Whoever may invoke the function chooses the `ResponseURL`, so an
//! event naming another host would be a way to read any stack's IDs. CloudFormation
//! always names a pre-signed URL of its own response bucket in the stack's region,
//! which is the function's region (a custom resource's `ServiceToken` must be in
//! the stack's region): `cloudformation-custom-resource-response-<region without
//! dashes>` (AWS CloudFormation User Guide, "Access CloudFormation using an
//! interface endpoint": the bucket a VPC endpoint policy must allow for custom
//! resources). The S3 host forms are those of the partition's S3 endpoints:
//!
//! | form | host |
//! |---|---|
//! | virtual-hosted, regional | `<bucket>.s3.<region>.<suffix>` |
//! | virtual-hosted, dash-region (older regions) | `<bucket>.s3-<region>.<suffix>` |
//! | virtual-hosted, FIPS (GovCloud) | `<bucket>.s3-fips.<region>.<suffix>` |
//! | virtual-hosted, dual-stack | `<bucket>.s3.dualstack.<region>.<suffix>` |
//! | virtual-hosted, global (`aws` only) | `<bucket>.s3.amazonaws.com` |
//! | path-style | the same hosts without `<bucket>.`, the path starting `/<bucket>/` |
//!
//! with the partition's DNS suffix: `amazonaws.com` (`aws`, `aws-us-gov`),
//! `amazonaws.com.cn` (`aws-cn`), `c2s.ic.gov` (`aws-iso`), `sc2s.sgov.gov`
//! (`aws-iso-b`). Only `https` on the default port.
//!
//! The bucket name is what makes this safe: a host of the right form but another
//! bucket (one the invoker owns and pre-signed) is refused.

use std::fmt;

use idcbootstrap::Partition;
use reqwest::Url;

use crate::config::ConfigError;

/// The setting that adds origins (local stand-ins in tests, private partitions).
pub(crate) const ENDPOINTS_VAR: &str = "IDCBOOTSTRAP_CFN_RESPONSE_ENDPOINTS";

/// The variable Lambda sets to the function's region.
pub(crate) const REGION_VAR: &str = "AWS_REGION";

/// The name of CloudFormation's response bucket, before the region.
const BUCKET_PREFIX: &str = "cloudformation-custom-resource-response-";

/// S3's DNS suffix in each partition.
const fn dns_suffix(p: Partition) -> &'static str {
    match p {
        Partition::Aws | Partition::AwsUsGov => "amazonaws.com",
        Partition::AwsCn => "amazonaws.com.cn",
        Partition::AwsIso => "c2s.ic.gov",
        Partition::AwsIsoB => "sc2s.sgov.gov",
    }
}

/// One origin of `IDCBOOTSTRAP_CFN_RESPONSE_ENDPOINTS`: `scheme://host[:port]`;
/// without a port, any port of that host.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Origin {
    scheme: String,
    host: String,
    port: Option<u16>,
}

impl Origin {
    fn parse(text: &str) -> Result<Origin, String> {
        let url = Url::parse(text).map_err(|_| format!("{text:?} is not a scheme://host[:port] URL"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("{text:?}: the scheme must be http or https"));
        }
        let Some(host) = url.host_str().filter(|h| !h.is_empty()) else {
            return Err(format!("{text:?} has no host"));
        };
        if !url.username().is_empty()
            || url.password().is_some()
            || url.path() != "/"
            || url.query().is_some()
            || url.fragment().is_some()
        {
            return Err(format!("{text:?}: only scheme://host[:port], without a path, query or user"));
        }
        // `Url` drops a port that is the scheme's default; keep it as given.
        let port =
            url.port().or_else(|| has_explicit_port(text).then(|| url.port_or_known_default()).flatten());
        Ok(Origin { scheme: url.scheme().to_owned(), host: host.to_owned(), port })
    }

    fn matches(&self, url: &Url) -> bool {
        url.scheme() == self.scheme
            && url.host_str() == Some(self.host.as_str())
            && self.port.is_none_or(|p| url.port_or_known_default() == Some(p))
    }
}

/// Whether `scheme://host:port` spells a port (after the host, not in IPv6 brackets).
fn has_explicit_port(text: &str) -> bool {
    let rest = text.split_once("://").map_or(text, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let after_host = authority.rsplit_once(']').map_or(authority, |(_, r)| r);
    after_host.contains(':')
}

/// The answer's destinations this function accepts.
#[derive(Debug, Clone, Default)]
pub(crate) struct ResponseEndpoints {
    /// The function's region, when it is a known region (it always is in Lambda).
    region: Option<(String, Partition)>,
    /// Added by [`ENDPOINTS_VAR`].
    extra: Vec<Origin>,
}

/// Why a `ResponseURL` was refused. Never holds the URL's path or query (the
/// signature); only its scheme and host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refused(String);

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl ResponseEndpoints {
    /// CloudFormation's endpoints for the region in `AWS_REGION`, plus the origins
    /// of `IDCBOOTSTRAP_CFN_RESPONSE_ENDPOINTS`.
    ///
    /// # Errors
    ///
    /// An entry of `IDCBOOTSTRAP_CFN_RESPONSE_ENDPOINTS` that is not
    /// `scheme://host[:port]` with `http` or `https`; [`ResponseEndpoints::cloudformation`]
    /// still gives CloudFormation's own endpoints.
    pub(crate) fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut endpoints = Self::cloudformation(get);
        let Some(list) = get(ENDPOINTS_VAR).filter(|v| !v.trim().is_empty()) else { return Ok(endpoints) };
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let origin = Origin::parse(item)
                .map_err(|problem| ConfigError { variable: ENDPOINTS_VAR.to_owned(), problem })?;
            endpoints.extra.push(origin);
        }
        Ok(endpoints)
    }

    /// CloudFormation's endpoints only (for the region in `AWS_REGION`).
    pub(crate) fn cloudformation(get: &dyn Fn(&str) -> Option<String>) -> Self {
        let region = get(REGION_VAR)
            .map(|r| r.trim().to_owned())
            .and_then(|r| Partition::of_region(&r).map(|p| (r, p)));
        ResponseEndpoints { region, extra: Vec::new() }
    }

    /// Whether any CloudFormation endpoint is known (a region was found).
    pub(crate) fn region(&self) -> Option<&str> {
        self.region.as_ref().map(|(r, _)| r.as_str())
    }

    /// How many origins the setting added.
    pub(crate) fn extra_count(&self) -> usize {
        self.extra.len()
    }

    /// Accepts `url` if it is CloudFormation's response endpoint for this function's
    /// region, or one of the added origins.
    ///
    /// # Errors
    ///
    /// Why not, naming the scheme and host only.
    pub(crate) fn check(&self, url: &str) -> Result<(), Refused> {
        let Ok(parsed) = Url::parse(url) else {
            return Err(Refused("the ResponseURL is not a URL".to_owned()));
        };
        if self.extra.iter().any(|o| o.matches(&parsed)) {
            return Ok(());
        }
        let origin = format!("{}://{}", parsed.scheme(), parsed.host_str().unwrap_or_default());
        let Some((region, partition)) = &self.region else {
            return Err(Refused(format!(
                "{origin} is not allowed: {REGION_VAR} names no known region, so no CloudFormation endpoint \
                 is known, and {ENDPOINTS_VAR} does not list it"
            )));
        };
        if self.is_cloudformation(&parsed, region, *partition) {
            return Ok(());
        }
        Err(Refused(format!(
            "{origin} is not CloudFormation's response endpoint for {region} (https to the bucket {}), \
             and {ENDPOINTS_VAR} does not list it",
            bucket(region)
        )))
    }

    fn is_cloudformation(&self, url: &Url, region: &str, partition: Partition) -> bool {
        if url.scheme() != "https" || url.port().is_some_and(|p| p != 443) {
            return false;
        }
        if !url.username().is_empty() || url.password().is_some() {
            return false;
        }
        let Some(host) = url.host_str() else { return false };
        let bucket = bucket(region);
        let s3_hosts = s3_hosts(region, partition);
        // Virtual-hosted style: the bucket is the first label.
        if let Some(s3) = host.strip_prefix(&bucket).and_then(|h| h.strip_prefix('.')) {
            return s3_hosts.iter().any(|h| h == s3);
        }
        // Path style: the bucket is the first path segment.
        s3_hosts.iter().any(|h| h == host)
            && url
                .path()
                .strip_prefix('/')
                .and_then(|p| p.strip_prefix(&bucket))
                .is_some_and(|p| p.starts_with('/'))
    }
}

/// CloudFormation's response bucket for `region`: the region without dashes.
fn bucket(region: &str) -> String {
    format!("{BUCKET_PREFIX}{}", region.replace('-', ""))
}

/// S3's endpoint hosts in `region` (see the module docs).
fn s3_hosts(region: &str, partition: Partition) -> Vec<String> {
    let suffix = dns_suffix(partition);
    let mut hosts = vec![
        format!("s3.{region}.{suffix}"),
        format!("s3-{region}.{suffix}"),
        format!("s3-fips.{region}.{suffix}"),
        format!("s3.dualstack.{region}.{suffix}"),
    ];
    if partition == Partition::Aws {
        hosts.push(format!("s3.{suffix}"));
    }
    hosts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoints(vars: &[(&str, &str)]) -> Result<ResponseEndpoints, ConfigError> {
        ResponseEndpoints::from_lookup(&|name| {
            vars.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned())
        })
    }

    const QUERY: &str = "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=secret0signature";

    fn url(base: &str) -> String {
        format!("{base}/arn%3Aaws%3Acloudformation%3Aus-east-1%3A111122223333%3Astack/s/1%7CRes%7Creq{QUERY}")
    }

    #[test]
    fn cloudformation_response_urls_of_the_functions_region_are_accepted() {
        let cases = [
            ("us-east-1", "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com"),
            (
                "us-east-1",
                "https://cloudformation-custom-resource-response-useast1.s3.us-east-1.amazonaws.com",
            ),
            (
                "eu-west-1",
                "https://cloudformation-custom-resource-response-euwest1.s3-eu-west-1.amazonaws.com",
            ),
            (
                "eu-west-1",
                "https://s3-eu-west-1.amazonaws.com/cloudformation-custom-resource-response-euwest1",
            ),
            (
                "us-west-2",
                "https://cloudformation-custom-resource-response-uswest2.s3.dualstack.us-west-2.amazonaws.com",
            ),
            (
                "cn-north-1",
                "https://cloudformation-custom-resource-response-cnnorth1.s3.cn-north-1.amazonaws.com.cn",
            ),
            (
                "us-gov-west-1",
                "https://cloudformation-custom-resource-response-usgovwest1.s3-us-gov-west-1.amazonaws.com",
            ),
            (
                "us-gov-west-1",
                "https://cloudformation-custom-resource-response-usgovwest1.s3-fips.us-gov-west-1.amazonaws.com",
            ),
            (
                "us-iso-east-1",
                "https://cloudformation-custom-resource-response-usisoeast1.s3.us-iso-east-1.c2s.ic.gov",
            ),
            (
                "us-isob-east-1",
                "https://cloudformation-custom-resource-response-usisobeast1.s3.us-isob-east-1.sc2s.sgov.gov",
            ),
            ("us-east-1", "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com:443"),
        ];
        for (region, base) in cases {
            let e = endpoints(&[(REGION_VAR, region)]).unwrap();
            assert_eq!(e.check(&url(base)), Ok(()), "{region} {base}");
        }
    }

    #[test]
    fn anything_else_is_refused_without_echoing_the_signature() {
        let e = endpoints(&[(REGION_VAR, "us-east-1")]).unwrap();
        let refused = [
            // Plain http, another port.
            "http://cloudformation-custom-resource-response-useast1.s3.amazonaws.com",
            "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com:8443",
            // Another region's bucket, another partition's suffix.
            "https://cloudformation-custom-resource-response-uswest2.s3.us-west-2.amazonaws.com",
            "https://cloudformation-custom-resource-response-useast1.s3.us-east-1.amazonaws.com.cn",
            // A bucket the invoker owns, on S3 itself.
            "https://attacker-bucket.s3.amazonaws.com",
            "https://s3.amazonaws.com/attacker-bucket",
            "https://cloudformation-custom-resource-response-useast1-x.s3.amazonaws.com",
            "https://s3.amazonaws.com/cloudformation-custom-resource-response-useast1x",
            // Look-alike hosts.
            "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com.evil.example",
            "https://evil.example/cloudformation-custom-resource-response-useast1.s3.amazonaws.com",
            "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com@evil.example",
            "https://user:pw@cloudformation-custom-resource-response-useast1.s3.amazonaws.com",
            "https://127.0.0.1",
            "http://127.0.0.1:9000",
            "file:///etc",
        ];
        for base in refused {
            let why = e.check(&url(base)).expect_err(base).to_string();
            assert!(!why.contains("secret0signature") && !why.contains("stack"), "{base}: {why}");
        }
        assert!(e.check("not a url").is_err());
        // Without a region nothing of CloudFormation's is known.
        let none = endpoints(&[]).unwrap();
        let cfn = url("https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com");
        assert!(none.check(&cfn).unwrap_err().to_string().contains(REGION_VAR));
        assert!(endpoints(&[(REGION_VAR, "mars-1")]).unwrap().check(&cfn).is_err());
    }

    #[test]
    fn the_setting_adds_origins_and_only_those() {
        let e = endpoints(&[(ENDPOINTS_VAR, "http://127.0.0.1, https://s3.private.example:8443")]).unwrap();
        assert_eq!(e.extra_count(), 2);
        for ok in ["http://127.0.0.1", "http://127.0.0.1:41234", "https://s3.private.example:8443"] {
            assert_eq!(e.check(&url(ok)), Ok(()), "{ok}");
        }
        for bad in [
            "https://127.0.0.1",
            "http://127.0.0.10",
            "http://127.0.0.1.evil.example",
            "https://s3.private.example",
            "https://s3.private.example:443",
            "http://s3.private.example:8443",
        ] {
            assert!(e.check(&url(bad)).is_err(), "{bad}");
        }
        // A port equal to the default is still that port only.
        let e = endpoints(&[(ENDPOINTS_VAR, "http://localhost:80")]).unwrap();
        assert!(e.check(&url("http://localhost")).is_ok());
        assert!(e.check(&url("http://localhost:8080")).is_err());
    }

    #[test]
    fn a_bad_setting_is_a_configuration_error() {
        for bad in ["127.0.0.1:9000", "ftp://x", "http://h/path", "http://h?q=1", "http://u:p@h", "http://"] {
            let e = endpoints(&[(ENDPOINTS_VAR, bad)]).unwrap_err();
            assert_eq!(e.variable, ENDPOINTS_VAR, "{bad}");
        }
        assert_eq!(endpoints(&[(ENDPOINTS_VAR, " , ")]).unwrap().extra_count(), 0);
        assert_eq!(endpoints(&[(ENDPOINTS_VAR, "http://h/")]).unwrap().extra_count(), 1);
    }
}

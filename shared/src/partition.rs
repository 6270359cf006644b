//! Partitions and their regions.
//!
//! The region table is the `regions` list of each partition in the AWS SDKs'
//! `partitions.json` (the smithy endpoint rule set, as shipped in
//! `aws-sdk-ssoadmin` 1.125.0, `src/endpoint_lib.rs`), without the pseudo-regions
//! `aws-global`, `aws-cn-global`, …, which are not places an IAM Identity Center
//! instance can live. A hard-coded table rather than a pattern (`^us-gov-\w+-\d+$`)
//! because a pattern accepts `us-east-9`, and a typo in a region only shows up
//! much later as a confusing endpoint failure. Update it when AWS opens a region.

use crate::input::Partition;

const AWS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
];
const AWS_US_GOV: &[&str] = &["us-gov-east-1", "us-gov-west-1"];
const AWS_CN: &[&str] = &["cn-north-1", "cn-northwest-1"];
const AWS_ISO: &[&str] = &["us-iso-east-1", "us-iso-west-1"];
const AWS_ISO_B: &[&str] = &["us-isob-east-1", "us-isob-west-1"];

impl Partition {
    /// Every partition an IAM Identity Center instance ARN may name.
    pub const ALL: [Partition; 5] =
        [Partition::Aws, Partition::AwsUsGov, Partition::AwsCn, Partition::AwsIso, Partition::AwsIsoB];

    /// The ARN spelling, e.g. `"aws-us-gov"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Partition::Aws => "aws",
            Partition::AwsUsGov => "aws-us-gov",
            Partition::AwsCn => "aws-cn",
            Partition::AwsIso => "aws-iso",
            Partition::AwsIsoB => "aws-iso-b",
        }
    }

    /// Parses the ARN spelling.
    pub fn from_arn_name(s: &str) -> Option<Partition> {
        Partition::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// The real region names of this partition, sorted.
    pub const fn regions(self) -> &'static [&'static str] {
        match self {
            Partition::Aws => AWS,
            Partition::AwsUsGov => AWS_US_GOV,
            Partition::AwsCn => AWS_CN,
            Partition::AwsIso => AWS_ISO,
            Partition::AwsIsoB => AWS_ISO_B,
        }
    }

    /// Whether `region` is a real region of this partition.
    pub fn has_region(self, region: &str) -> bool {
        self.regions().binary_search(&region).is_ok()
    }

    /// The partition that has `region`, if any.
    pub fn of_region(region: &str) -> Option<Partition> {
        Partition::ALL.into_iter().find(|p| p.has_region(region))
    }

    /// Whether this partition has a public AWS console (the isolated partitions do not,
    /// so no quick-create link can be made for them).
    pub const fn has_public_console(self) -> bool {
        matches!(self, Partition::Aws | Partition::AwsUsGov | Partition::AwsCn)
    }

    /// Writes the CloudFormation console base URL for `region`, up to and including
    /// `/cloudformation/home?region=<region>`. Nothing is written for partitions
    /// without a public console.
    pub(crate) fn write_cloudformation_console(self, out: &mut String, region: &str) {
        match self {
            Partition::Aws => {
                out.push_str("https://");
                out.push_str(region);
                out.push_str(".console.aws.amazon.com");
            }
            Partition::AwsUsGov => out.push_str("https://console.amazonaws-us-gov.com"),
            Partition::AwsCn => out.push_str("https://console.amazonaws.cn"),
            Partition::AwsIso | Partition::AwsIsoB => return,
        }
        out.push_str("/cloudformation/home?region=");
        out.push_str(region);
    }
}

impl std::fmt::Display for Partition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_tables_are_sorted_and_disjoint() {
        for p in Partition::ALL {
            let r = p.regions();
            assert!(r.windows(2).all(|w| w[0] < w[1]), "{p} regions not sorted");
            for q in Partition::ALL {
                if p != q {
                    assert!(r.iter().all(|x| !q.has_region(x)), "{p} and {q} share a region");
                }
            }
        }
    }

    #[test]
    fn region_lookup_finds_the_partition() {
        assert_eq!(Partition::of_region("us-east-1"), Some(Partition::Aws));
        assert_eq!(Partition::of_region("us-gov-west-1"), Some(Partition::AwsUsGov));
        assert_eq!(Partition::of_region("cn-northwest-1"), Some(Partition::AwsCn));
        assert_eq!(Partition::of_region("us-isob-east-1"), Some(Partition::AwsIsoB));
        assert_eq!(Partition::of_region("us-east-9"), None);
        assert_eq!(Partition::of_region("aws-global"), None);
    }

    #[test]
    fn partition_names_round_trip() {
        for p in Partition::ALL {
            assert_eq!(Partition::from_arn_name(p.as_str()), Some(p));
            assert_eq!(serde_json::to_value(p).unwrap(), p.as_str());
        }
    }
}

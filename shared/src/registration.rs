//! The rules of a role registration with the vendor (`PUT config`, the Terraform
//! `idcbootstrap_vendor_registration`, `Custom::IdcVendorRegistration`): the instance
//! ARN and the region as the template checks them, the role ARN by the IAM grammar,
//! and all three in one partition. One function, so every front-end rejects what the
//! vendor API would reject, before anything is sent.

use crate::{AttrPath, Detail, RawTemplateRequest, TemplateRequest};

/// Every broken rule of a registration. A field named in `unknown` (not known yet,
/// e.g. during a Terraform plan) is skipped, and so are the rules that need it; a
/// field that is `None` and not unknown is reported as required.
pub fn validate_registration(
    sso_instance_arn: Option<&str>,
    role_arn: Option<&str>,
    region: Option<&str>,
    unknown: &[&str],
) -> Vec<Detail> {
    let mut details = Vec::new();
    let role_known = !unknown.contains(&"role_arn");
    let account = role_arn.filter(|_| role_known).and_then(crate::iam::parse_role_arn).map(|a| a.account);
    let raw = RawTemplateRequest {
        aws_account_id: account.map(str::to_owned),
        sso_instance_arn: sso_instance_arn.map(str::to_owned),
        region: region.map(str::to_owned),
        ..RawTemplateRequest::default()
    };
    let mut skip: Vec<&str> = vec!["trusted_principal_arn", "external_ids"];
    skip.extend(unknown.iter().filter(|u| **u != "role_arn"));
    if account.is_none() {
        // The role ARN's own rule reports it; the account is only derived from it.
        skip.push("aws_account_id");
    }
    if let Err(e) = TemplateRequest::validate_partial(&raw, &skip) {
        details.extend(e.details.into_iter().filter(|d| d.field != AttrPath::field("aws_account_id")));
    }
    if !role_known {
        return details;
    }
    match role_arn {
        None => details.push(Detail::new(AttrPath::field("role_arn"), "required", "is required")),
        Some(role) => match crate::iam::check_role_arn(AttrPath::field("role_arn"), role) {
            Err(d) => details.push(d),
            Ok(p) => {
                let instance = sso_instance_arn
                    .filter(|_| !unknown.contains(&"sso_instance_arn"))
                    .and_then(crate::iam::partition_of_arn);
                if let Some(ip) = instance.filter(|ip| *ip != p) {
                    details.push(Detail::new(
                        AttrPath::field("role_arn"),
                        "partition",
                        format!(
                            "the role is in partition {} but sso_instance_arn is in {}; both must be in the same \
                             partition",
                            p.as_str(),
                            ip.as_str()
                        ),
                    ));
                }
            }
        },
    }
    details
}

#[cfg(test)]
mod tests {
    use super::*;

    const INSTANCE: &str = "arn:aws:sso:::instance/ssoins-1234567890abcdef";
    const ROLE: &str = "arn:aws:iam::123456789012:role/IdcBootstrapTrustRole";

    fn fields(d: &[Detail]) -> Vec<String> {
        d.iter().map(|d| d.field.to_string()).collect::<Vec<_>>()
    }

    #[test]
    fn a_good_registration_passes() {
        assert!(validate_registration(Some(INSTANCE), Some(ROLE), Some("eu-west-1"), &[]).is_empty());
    }

    #[test]
    fn each_broken_rule_names_its_field() {
        let d = validate_registration(Some("arn:aws:sso:::instance/x"), Some("role"), Some("mars-1"), &[]);
        assert_eq!(fields(&d), ["sso_instance_arn", "region", "role_arn"]);
        let d = validate_registration(None, None, None, &[]);
        assert_eq!(fields(&d), ["sso_instance_arn", "region", "role_arn"]);
        let gov = "arn:aws-us-gov:iam::123456789012:role/R";
        let d = validate_registration(Some(INSTANCE), Some(gov), Some("eu-west-1"), &[]);
        assert_eq!(d.iter().map(|d| d.rule.as_str()).collect::<Vec<_>>(), ["partition"]);
    }

    #[test]
    fn unknown_fields_are_skipped() {
        assert!(validate_registration(Some(INSTANCE), None, Some("eu-west-1"), &["role_arn"]).is_empty());
        assert!(validate_registration(None, Some(ROLE), None, &["sso_instance_arn", "region"]).is_empty());
    }
}

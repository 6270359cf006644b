//! The trust role's two policy documents, built once as JSON values; every
//! rendering (JSON, CloudFormation, Terraform) writes these same documents.
//!
//! The evidence for each access level is `permissions-anchors.md` (what comparable
//! products grant their IAM Identity Center roles, with sources); the tags in the
//! comments below (CF, C1, TP, …) name those products. Every `sso:` action is an
//! operation of the sso-admin API reference; a test checks it.

use serde_json::{Map, Value};

use crate::external_id::ExternalId;
use crate::input::{AccessLevel, Partition, TemplateRequest};

/// IAM policy language version.
pub const POLICY_VERSION: &str = "2012-10-17";

/// Name of the inline permissions policy on the role.
pub const PERMISSIONS_POLICY_NAME: &str = "IdcBootstrapAccess";

/// `read_only`: inventory of the instance. Every anchor's reader role grants these
/// (ListPermissionSets, DescribePermissionSet: all of CF, CFp, C1, TP, TEAM, SYM,
/// IND, RAI, FXL, BRV). The permission-set content reads (managed, customer-managed,
/// inline policies, boundary) were reported missing in baton-aws #146 when left out;
/// ListPermissionSetsProvisionedToAccount in teleport#48496.
/// Scoped to the one instance, its permission sets and accounts (RAI, FXL scope them
/// so; the sso resource types of these actions are Instance, PermissionSet, Account).
const SSO_READ: &[&str] = &[
    "sso:DescribeInstance",
    "sso:DescribePermissionSet",
    "sso:GetInlinePolicyForPermissionSet",
    "sso:GetPermissionsBoundaryForPermissionSet",
    "sso:ListAccountAssignments",
    "sso:ListAccountAssignmentsForPrincipal",
    "sso:ListAccountsForProvisionedPermissionSet",
    "sso:ListCustomerManagedPolicyReferencesInPermissionSet",
    "sso:ListManagedPoliciesInPermissionSet",
    "sso:ListPermissionSets",
    "sso:ListPermissionSetsProvisionedToAccount",
    "sso:ListTagsForResource",
];

/// ListInstances takes no resource, so it cannot be scoped; the connectivity check
/// needs it to prove the instance is listed and ACTIVE (C1, TEAM, SYM, IND, RAI, FXL).
const SSO_LIST_INSTANCES: &[&str] = &["sso:ListInstances"];

/// Users, groups and memberships. The identity store ID is not an input, so these
/// take `*`; they are reads only (AWSSSODirectoryReadOnly grants the same family).
/// GetGroupId is in no AWS managed policy but the Terraform group data source needs
/// it (ministryofjustice/aws-root-account#868); DescribeGroup was reported missing
/// in binbashar/le-tf-infra-aws#874.
const IDENTITYSTORE_READ: &[&str] = &[
    "identitystore:DescribeGroup",
    "identitystore:DescribeGroupMembership",
    "identitystore:DescribeUser",
    "identitystore:GetGroupId",
    "identitystore:GetGroupMembershipId",
    "identitystore:GetUserId",
    "identitystore:IsMemberInGroups",
    "identitystore:ListGroupMemberships",
    "identitystore:ListGroupMembershipsForMember",
    "identitystore:ListGroups",
    "identitystore:ListUsers",
];

/// Accounts and the OU tree, to name assignment targets (CF, CFp, C1, TEAM, BRV).
/// DescribeAccount, DescribeOrganization and ListParents were reported missing in
/// baton-aws #150. No policy or delegated-admin reads: not needed for IdC inventory.
const ORGANIZATIONS_READ: &[&str] = &[
    "organizations:DescribeAccount",
    "organizations:DescribeOrganization",
    "organizations:DescribeOrganizationalUnit",
    "organizations:ListAccounts",
    "organizations:ListAccountsForParent",
    "organizations:ListChildren",
    "organizations:ListOrganizationalUnitsForParent",
    "organizations:ListParents",
    "organizations:ListRoots",
    "organizations:ListTagsForResource",
];

/// `assignments`: create and delete account assignments and follow their status
/// (all anchors; TEAM skips the status reads and misses async failures, TEAM#522).
const SSO_ASSIGN: &[&str] = &[
    "sso:CreateAccountAssignment",
    "sso:DeleteAccountAssignment",
    "sso:DescribeAccountAssignmentCreationStatus",
    "sso:DescribeAccountAssignmentDeletionStatus",
    "sso:ListAccountAssignmentCreationStatus",
    "sso:ListAccountAssignmentDeletionStatus",
];

/// Management-account assignments: there the service-linked role does not act
/// (AWSSSOServiceRolePolicy's IAMRoleProvisioningActions carry StringNotEquals
/// aws:PrincipalOrgMasterAccountId), so the caller's own IAM rights create the
/// `AWSReservedSSO_*` roles. The list is CF's `permit_management_account_assignments`
/// (a copy of the SLR statement); C1, SYM and FXL grant the same on the same path.
/// Reads on those roles are unconditional; writes carry CF's condition so they only
/// work when this role is in the organization's management account.
const IAM_RESERVED_ROLE_READ: &[&str] =
    &["iam:GetRole", "iam:ListAttachedRolePolicies", "iam:ListRolePolicies"];
const IAM_RESERVED_ROLE_WRITE: &[&str] = &[
    "iam:AttachRolePolicy",
    "iam:CreateRole",
    "iam:DeleteRole",
    "iam:DeleteRolePermissionsBoundary",
    "iam:DeleteRolePolicy",
    "iam:DetachRolePolicy",
    "iam:PutRolePermissionsBoundary",
    "iam:PutRolePolicy",
    "iam:UpdateAssumeRolePolicy",
    "iam:UpdateRole",
    "iam:UpdateRoleDescription",
];
/// The SAML provider IdC keeps in the management account: assignments there fail
/// without UpdateSAMLProvider (fivexl#15, TEAM#596). DeleteSAMLProvider is left out
/// on purpose, as CF does.
const IAM_SAML_PROVIDER: &[&str] = &["iam:GetSAMLProvider", "iam:UpdateSAMLProvider"];

/// `admin`: manage permission sets end to end (RAI grants exactly this family; CF's
/// `permit_provision_permission_sets` and CFp a subset). ProvisionPermissionSet is
/// needed after any permission-set change (sso-admin reference, CreateAccountAssignment).
/// UntagResource is granted with TagResource so tags can be removed as well as set.
/// PutPermissionsPolicy/DeletePermissionsPolicy (RAI) are not sso-admin operations.
const SSO_ADMIN: &[&str] = &[
    "sso:AttachCustomerManagedPolicyReferenceToPermissionSet",
    "sso:AttachManagedPolicyToPermissionSet",
    "sso:CreatePermissionSet",
    "sso:DeleteInlinePolicyFromPermissionSet",
    "sso:DeletePermissionSet",
    "sso:DeletePermissionsBoundaryFromPermissionSet",
    "sso:DescribePermissionSetProvisioningStatus",
    "sso:DetachCustomerManagedPolicyReferenceFromPermissionSet",
    "sso:DetachManagedPolicyFromPermissionSet",
    "sso:ListPermissionSetProvisioningStatus",
    "sso:ProvisionPermissionSet",
    "sso:PutInlinePolicyToPermissionSet",
    "sso:PutPermissionsBoundaryToPermissionSet",
    "sso:TagResource",
    "sso:UntagResource",
    "sso:UpdatePermissionSet",
];

/// Every action the permissions policy of `level` grants, sorted, without duplicates.
pub fn actions(level: AccessLevel) -> Vec<&'static str> {
    let mut v: Vec<&'static str> = Vec::with_capacity(80);
    v.extend(SSO_LIST_INSTANCES);
    v.extend(SSO_READ);
    v.extend(IDENTITYSTORE_READ);
    v.extend(ORGANIZATIONS_READ);
    if level != AccessLevel::ReadOnly {
        v.extend(SSO_ASSIGN);
        v.extend(IAM_RESERVED_ROLE_READ);
        v.extend(IAM_RESERVED_ROLE_WRITE);
        v.extend(IAM_SAML_PROVIDER);
    }
    if level == AccessLevel::Admin {
        v.extend(SSO_ADMIN);
    }
    v.sort_unstable();
    v.dedup();
    v
}

fn list(actions: &[&str]) -> Value {
    Value::Array(actions.iter().map(|a| Value::from(*a)).collect())
}

/// The trust policy: only `principal`, only `sts:AssumeRole`, only with
/// `sts:ExternalId` equal to `external_id_condition` (a string, a list of strings,
/// or, in CloudFormation, `Ref`s to the parameters that hold them).
pub fn trust_policy_document(principal: &str, external_id_condition: Value) -> Value {
    let statement = object([
        ("Sid", Value::from("TrustedPrincipalWithExternalId")),
        ("Effect", Value::from("Allow")),
        ("Principal", object([("AWS", Value::from(principal))])),
        ("Action", Value::from("sts:AssumeRole")),
        ("Condition", object([("StringEquals", object([("sts:ExternalId", external_id_condition)]))])),
    ]);
    object([("Version", Value::from(POLICY_VERSION)), ("Statement", Value::Array(vec![statement]))])
}

/// The `sts:ExternalId` condition value: the ID itself at steady state (the form AWS
/// documents), a list of both while rotating.
pub fn external_id_condition(ids: &[ExternalId]) -> Value {
    match ids {
        [one] => Value::from(one.expose()),
        many => Value::Array(many.iter().map(|id| Value::from(id.expose())).collect()),
    }
}

/// The trust policy of `req`.
pub fn trust_policy(req: &TemplateRequest) -> Value {
    trust_policy_document(req.trusted_principal_arn(), external_id_condition(req.external_ids()))
}

/// The permissions policy of `req`'s access level, with ARNs in its partition and
/// scoped to its instance and account.
pub fn permissions_policy(req: &TemplateRequest) -> Value {
    permissions_policy_for(req.access_level(), req.partition(), req.sso_instance_arn(), req.aws_account_id())
}

/// One `Allow` statement. Built without `json!`, which serializes every interpolated
/// value through serde; this runs on every render.
fn statement(sid: &str, actions: &[&str], resource: Value, condition: Option<Value>) -> Value {
    let mut m = Map::new();
    m.insert("Sid".into(), Value::from(sid));
    m.insert("Effect".into(), Value::from("Allow"));
    m.insert("Action".into(), list(actions));
    m.insert("Resource".into(), resource);
    if let Some(c) = condition {
        m.insert("Condition".into(), c);
    }
    Value::Object(m)
}

fn object<const N: usize>(entries: [(&str, Value); N]) -> Value {
    Value::Object(entries.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

/// The permissions policy for `level` in `partition`, for `instance_arn` in `account`.
pub fn permissions_policy_for(
    level: AccessLevel,
    partition: Partition,
    instance_arn: &str,
    account: &str,
) -> Value {
    let p = partition.as_str();
    let instance_id = instance_arn.rsplit('/').next().unwrap_or_default();
    let sso_resources = Value::Array(vec![
        Value::from(instance_arn),
        Value::from(format!("arn:{p}:sso:::permissionSet/{instance_id}/*")),
        Value::from(format!("arn:{p}:sso:::account/*")),
    ]);
    let any = || Value::from("*");
    let mut statements = Vec::with_capacity(9);
    statements.push(statement("ListIdentityCenterInstances", SSO_LIST_INSTANCES, any(), None));
    statements.push(statement("ReadIdentityCenter", SSO_READ, sso_resources.clone(), None));
    statements.push(statement("ReadIdentityStore", IDENTITYSTORE_READ, any(), None));
    statements.push(statement("ReadOrganization", ORGANIZATIONS_READ, any(), None));
    if level != AccessLevel::ReadOnly {
        let reserved_roles =
            Value::from(format!("arn:{p}:iam::{account}:role/aws-reserved/sso.amazonaws.com/*"));
        statements.push(statement("ManageAccountAssignments", SSO_ASSIGN, sso_resources.clone(), None));
        statements.push(statement(
            "ReadReservedSsoRoles",
            IAM_RESERVED_ROLE_READ,
            reserved_roles.clone(),
            None,
        ));
        let in_management_account = object([(
            "StringEquals",
            object([("aws:PrincipalOrgMasterAccountId", Value::from("${aws:PrincipalAccount}"))]),
        )]);
        statements.push(statement(
            "ManagementAccountReservedSsoRoles",
            IAM_RESERVED_ROLE_WRITE,
            reserved_roles,
            Some(in_management_account),
        ));
        statements.push(statement(
            "ManagementAccountSamlProvider",
            IAM_SAML_PROVIDER,
            Value::from(format!("arn:{p}:iam::{account}:saml-provider/AWSSSO_*")),
            None,
        ));
    }
    if level == AccessLevel::Admin {
        statements.push(statement("ManagePermissionSets", SSO_ADMIN, sso_resources, None));
    }
    object([("Version", Value::from(POLICY_VERSION)), ("Statement", Value::Array(statements))])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const INSTANCE: &str = "arn:aws:sso:::instance/ssoins-abcdef0123456789";

    /// The 75 operations listed in the sso-admin API reference (its "Actions" list),
    /// kept in the repository so the check runs wherever the repository is cloned.
    fn reference_operations() -> Vec<String> {
        include_str!("../tests/fixtures/sso-admin-operations.txt")
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn every_sso_action_is_an_operation_of_the_reference() {
        let ops = reference_operations();
        assert_eq!(ops.len(), 75, "the reference lists 75 operations: {ops:?}");
        for level in AccessLevel::ALL {
            for action in actions(level) {
                if let Some(op) = action.strip_prefix("sso:") {
                    assert!(ops.iter().any(|o| o == op), "{action} ({level}) is not in the reference");
                }
            }
        }
    }

    fn is_read(action: &str) -> bool {
        let op = action.split_once(':').map(|(_, o)| o).unwrap_or(action);
        ["List", "Describe", "Get", "IsMemberInGroups"].iter().any(|p| op.starts_with(p))
    }

    #[test]
    fn read_only_grants_no_write_action() {
        for action in actions(AccessLevel::ReadOnly) {
            assert!(is_read(action), "read_only grants {action}");
        }
    }

    #[test]
    fn read_only_includes_the_reads_the_connectivity_check_needs() {
        let a = actions(AccessLevel::ReadOnly);
        for needed in
            ["sso:ListInstances", "sso:DescribeInstance", "sso:ListPermissionSets", "identitystore:ListUsers"]
        {
            assert!(a.contains(&needed), "{needed}");
        }
    }

    #[test]
    fn access_levels_are_nested_supersets() {
        let r = actions(AccessLevel::ReadOnly);
        let s = actions(AccessLevel::Assignments);
        let a = actions(AccessLevel::Admin);
        assert!(r.iter().all(|x| s.contains(x)) && s.len() > r.len());
        assert!(s.iter().all(|x| a.contains(x)) && a.len() > s.len());
        assert!(s.contains(&"sso:CreateAccountAssignment") && !s.contains(&"sso:CreatePermissionSet"));
        assert!(a.contains(&"sso:CreatePermissionSet"));
    }

    #[test]
    fn policy_documents_list_exactly_the_actions() {
        for level in AccessLevel::ALL {
            let doc = permissions_policy_for(level, Partition::Aws, INSTANCE, "123456789012");
            let mut listed: Vec<String> = doc["Statement"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|s| s["Action"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_owned()))
                .collect();
            listed.sort();
            let before = listed.len();
            listed.dedup();
            assert_eq!(before, listed.len(), "{level}: an action is granted twice");
            assert_eq!(listed, actions(level), "{level}");
        }
    }

    #[test]
    fn arns_follow_the_partition() {
        let gov = "arn:aws-us-gov:sso:::instance/ssoins-abcdef0123456789";
        let doc = permissions_policy_for(AccessLevel::Admin, Partition::AwsUsGov, gov, "123456789012");
        let text = doc.to_string();
        assert!(!text.contains("arn:aws:"), "{text}");
        assert!(text.contains("arn:aws-us-gov:sso:::permissionSet/ssoins-abcdef0123456789/*"));
        assert!(text.contains("arn:aws-us-gov:iam::123456789012:role/aws-reserved/sso.amazonaws.com/*"));
    }

    #[test]
    fn trust_policy_allows_one_principal_one_action_with_the_external_id() {
        let ids = [ExternalId::new("id-one"), ExternalId::new("id-two")];
        let doc = trust_policy_document("arn:aws:iam::111122223333:root", external_id_condition(&ids[..1]));
        let st = &doc["Statement"];
        assert_eq!(st.as_array().unwrap().len(), 1);
        assert_eq!(st[0]["Effect"], "Allow");
        assert_eq!(st[0]["Principal"], json!({"AWS": "arn:aws:iam::111122223333:root"}));
        assert_eq!(st[0]["Action"], "sts:AssumeRole");
        assert_eq!(st[0]["Condition"], json!({"StringEquals": {"sts:ExternalId": "id-one"}}));
        let doc = trust_policy_document("arn:aws:iam::111122223333:root", external_id_condition(&ids));
        assert_eq!(
            doc["Statement"][0]["Condition"]["StringEquals"]["sts:ExternalId"],
            json!(["id-one", "id-two"])
        );
    }
}

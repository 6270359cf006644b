# Rendered by idcbootstrap.
terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 4.0"
    }
  }
}

resource "aws_iam_role" "idcbootstrap" {
  name                 = "Trust+Role=1,2.@-_"
  path                 = "/a\"b/$${x}/%%{if}/$$${y}/\\/'#:-/"
  description          = "Trust role for idcbootstrap: access level assignments on IAM Identity Center instance ssoins-abcdef0123456789"
  max_session_duration = 43200
  permissions_boundary = "arn:aws:iam::aws:policy/ReadOnlyAccess"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid    = "TrustedPrincipalWithExternalId"
        Effect = "Allow"
        Principal = {
          AWS = "arn:aws:iam::111122223333:role/vendor/IdcBootstrapIntegration"
        }
        Action = "sts:AssumeRole"
        Condition = {
          StringEquals = {
            "sts:ExternalId" = [
              "Zq3vXw9LkT2mNb7RcY5pHs1dFg8jKa4e",
              "prev:ious/Id=1,2@example.com+x_y-z",
            ]
          }
        }
      },
    ]
  })

  tags = {
    "- dash"           = "@at"
    "0123"             = "2024-01-01"
    "1e3"              = "12:30:00"
    "="                = "a: b"
    "Kostenstelle äöü" = "東京 ﬁ"
    no                 = "off"
    "null"             = "Null"
    "trailing "        = " leading"
    "true"             = ""
    x                  = " 　"
    yes                = "on"
    "각"                = "jamo"
  }
}

resource "aws_iam_role_policy" "idcbootstrap" {
  name = "IdcBootstrapAccess"
  role = aws_iam_role.idcbootstrap.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid    = "ListIdentityCenterInstances"
        Effect = "Allow"
        Action = [
          "sso:ListInstances",
        ]
        Resource = "*"
      },
      {
        Sid    = "ReadIdentityCenter"
        Effect = "Allow"
        Action = [
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
        ]
        Resource = [
          "arn:aws:sso:::instance/ssoins-abcdef0123456789",
          "arn:aws:sso:::permissionSet/ssoins-abcdef0123456789/*",
          "arn:aws:sso:::account/*",
        ]
      },
      {
        Sid    = "ReadIdentityStore"
        Effect = "Allow"
        Action = [
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
        ]
        Resource = "*"
      },
      {
        Sid    = "ReadOrganization"
        Effect = "Allow"
        Action = [
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
        ]
        Resource = "*"
      },
      {
        Sid    = "ManageAccountAssignments"
        Effect = "Allow"
        Action = [
          "sso:CreateAccountAssignment",
          "sso:DeleteAccountAssignment",
          "sso:DescribeAccountAssignmentCreationStatus",
          "sso:DescribeAccountAssignmentDeletionStatus",
          "sso:ListAccountAssignmentCreationStatus",
          "sso:ListAccountAssignmentDeletionStatus",
        ]
        Resource = [
          "arn:aws:sso:::instance/ssoins-abcdef0123456789",
          "arn:aws:sso:::permissionSet/ssoins-abcdef0123456789/*",
          "arn:aws:sso:::account/*",
        ]
      },
      {
        Sid    = "ReadReservedSsoRoles"
        Effect = "Allow"
        Action = [
          "iam:GetRole",
          "iam:ListAttachedRolePolicies",
          "iam:ListRolePolicies",
        ]
        Resource = "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/*"
      },
      {
        Sid    = "ManagementAccountReservedSsoRoles"
        Effect = "Allow"
        Action = [
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
        ]
        Resource = "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/*"
        Condition = {
          StringEquals = {
            "aws:PrincipalOrgMasterAccountId" = "$${aws:PrincipalAccount}"
          }
        }
      },
      {
        Sid    = "ManagementAccountSamlProvider"
        Effect = "Allow"
        Action = [
          "iam:GetSAMLProvider",
          "iam:UpdateSAMLProvider",
        ]
        Resource = "arn:aws:iam::123456789012:saml-provider/AWSSSO_*"
      },
    ]
  })
}

output "role_arn" {
  description = "ARN of the trust role, for the vendor's integration settings"
  value       = aws_iam_role.idcbootstrap.arn
}

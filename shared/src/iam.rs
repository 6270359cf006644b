//! The IAM grammar, in one place: account IDs, names, paths and the ARNs of roles,
//! users, policies and account roots, and the partition of an ARN. The template
//! inputs, the connectivity request and the vendor API's saved configuration all
//! parse with these functions, so they agree on every edge (a `:` in a path,
//! characters versus bytes in a name).
//!
//! The rules are IAM's own API patterns: names `[\w+=,.@-]+` (ASCII, so a character
//! is a byte), paths `/` or `/[\u0021-\u007E]+/` of at most 512 characters.

use crate::input::Partition;

/// Longest role or user name IAM accepts.
pub const MAX_ROLE_NAME_LEN: usize = 64;
/// Longest managed policy name IAM accepts.
pub const MAX_POLICY_NAME_LEN: usize = 128;
/// Longest IAM path.
pub const MAX_PATH_LEN: usize = 512;

/// Whether `s` is a 12-digit AWS account ID.
pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// IAM role, user and policy names: `[\w+=,.@-]`.
pub fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '+' | '=' | ',' | '.' | '@' | '-')
}

/// IAM paths: printable ASCII without space (`[\u0021-\u007E]`), `:` included.
pub fn is_path_char(c: char) -> bool {
    ('\u{21}'..='\u{7e}').contains(&c)
}

/// What is wrong with a name or a path; the stable rule names of [`crate::Detail`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// Too short or too long: rule `length`.
    Length,
    /// A character or shape IAM does not accept: rule `pattern`.
    Pattern,
    /// A path AWS keeps for its own roles: rule `reserved`.
    Reserved,
}

impl Problem {
    /// The rule name, as in `Detail::rule`.
    pub const fn rule(self) -> &'static str {
        match self {
            Problem::Length => "length",
            Problem::Pattern => "pattern",
            Problem::Reserved => "reserved",
        }
    }
}

/// Checks a role, user or policy name of at most `max` characters.
///
/// # Errors
///
/// [`Problem::Length`] or [`Problem::Pattern`].
pub fn check_name(name: &str, max: usize) -> Result<(), Problem> {
    let n = name.chars().count();
    if n == 0 || n > max {
        return Err(Problem::Length);
    }
    if !name.chars().all(is_name_char) {
        return Err(Problem::Pattern);
    }
    Ok(())
}

/// Checks an IAM path: `/` or `/<printable ASCII>/`, at most 512 characters.
///
/// # Errors
///
/// [`Problem::Length`] or [`Problem::Pattern`].
pub fn check_path(path: &str) -> Result<(), Problem> {
    if path.chars().count() > MAX_PATH_LEN {
        return Err(Problem::Length);
    }
    if !path.starts_with('/') || !path.ends_with('/') || !path.chars().all(is_path_char) {
        return Err(Problem::Pattern);
    }
    Ok(())
}

/// Checks the path of a role the customer creates: [`check_path`], and not one of
/// the paths AWS keeps for the roles it creates itself.
///
/// # Errors
///
/// As [`check_path`], or [`Problem::Reserved`].
pub fn check_role_path(path: &str) -> Result<(), Problem> {
    check_path(path)?;
    if path.starts_with("/aws-reserved/") || path.starts_with("/aws-service-role/") {
        return Err(Problem::Reserved);
    }
    Ok(())
}

/// What an IAM ARN names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `:root`, the account itself.
    Root,
    /// `:role/<path><name>`.
    Role,
    /// `:user/<path><name>`.
    User,
    /// `:policy/<path><name>`.
    Policy,
}

/// A parsed IAM ARN: `arn:<partition>:iam::<account>:<kind>/<path><name>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arn<'a> {
    /// The partition.
    pub partition: Partition,
    /// The account: 12 digits, or `aws` for AWS managed policies.
    pub account: &'a str,
    /// What it names.
    pub kind: Kind,
    /// The path, `/` at least (empty for [`Kind::Root`]).
    pub path: &'a str,
    /// The name (empty for [`Kind::Root`]).
    pub name: &'a str,
}

/// The partition of any ARN (`arn:<partition>:…`), if it is one of the five.
pub fn partition_of_arn(s: &str) -> Option<Partition> {
    let rest = s.strip_prefix("arn:")?;
    Partition::from_arn_name(rest.split(':').next()?)
}

/// Parses any IAM ARN of a root, role, user or policy, checking its account, path
/// and name by the rules above.
pub fn parse_arn(s: &str) -> Option<Arn<'_>> {
    let rest = s.strip_prefix("arn:")?;
    let (partition, rest) = rest.split_once(':')?;
    let partition = Partition::from_arn_name(partition)?;
    let rest = rest.strip_prefix("iam::")?;
    let (account, resource) = rest.split_once(':')?;
    if resource == "root" {
        return is_account_id(account).then_some(Arn {
            partition,
            account,
            kind: Kind::Root,
            path: "",
            name: "",
        });
    }
    let (kind, path_and_name) = if let Some(r) = resource.strip_prefix("role") {
        (Kind::Role, r)
    } else if let Some(r) = resource.strip_prefix("user") {
        (Kind::User, r)
    } else if let Some(r) = resource.strip_prefix("policy") {
        (Kind::Policy, r)
    } else {
        return None;
    };
    let account_ok = is_account_id(account) || (kind == Kind::Policy && account == "aws");
    if !account_ok || !path_and_name.starts_with('/') {
        return None;
    }
    let slash = path_and_name.rfind('/')?;
    let (path, name) = path_and_name.split_at(slash + 1);
    let max = if kind == Kind::Policy { MAX_POLICY_NAME_LEN } else { MAX_ROLE_NAME_LEN };
    (check_path(path).is_ok() && check_name(name, max).is_ok()).then_some(Arn {
        partition,
        account,
        kind,
        path,
        name,
    })
}

/// Parses a role ARN.
pub fn parse_role_arn(s: &str) -> Option<Arn<'_>> {
    parse_arn(s).filter(|a| a.kind == Kind::Role)
}

/// Validates a role ARN for a field, returning its partition.
///
/// # Errors
///
/// A [`crate::Detail`] at `field` with rule `pattern`; the message states the form.
pub fn check_role_arn(field: crate::AttrPath, s: &str) -> Result<Partition, crate::Detail> {
    parse_role_arn(s).map(|a| a.partition).ok_or_else(|| {
        crate::Detail::new(
            field,
            "pattern",
            "must be an IAM role ARN: arn:<partition>:iam::<12-digit account>:role/<optional path/><name>",
        )
    })
}

/// Parses a principal a trust policy may name: an account root, a role or a user.
pub fn parse_principal_arn(s: &str) -> Option<Arn<'_>> {
    parse_arn(s).filter(|a| matches!(a.kind, Kind::Root | Kind::Role | Kind::User))
}

/// Parses a managed policy ARN (customer or AWS managed).
pub fn parse_policy_arn(s: &str) -> Option<Arn<'_>> {
    parse_arn(s).filter(|a| a.kind == Kind::Policy)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_arns() {
        let a = parse_role_arn("arn:aws:iam::123456789012:role/team/a:b/IdcTrust").unwrap();
        assert_eq!((a.path, a.name, a.account), ("/team/a:b/", "IdcTrust", "123456789012"));
        assert_eq!(
            parse_role_arn("arn:aws-cn:iam::123456789012:role/R").unwrap().partition,
            Partition::AwsCn
        );
        for bad in [
            "arn:aws:iam::123456789012:role/",
            "arn:aws:iam::12345678901:role/R",
            "arn:aws:iam::123456789012:user/R",
            "arn:aws:iam::123456789012:role/has space",
            "arn:aws:iam::123456789012:rolefoo/R",
            "arn:aws:sts::123456789012:role/R",
            "arn:nope:iam::123456789012:role/R",
            "arn:aws:iam::aws:role/R",
        ] {
            assert!(parse_role_arn(bad).is_none(), "{bad}");
        }
        let long = format!("arn:aws:iam::123456789012:role/{}", "r".repeat(64));
        assert!(parse_role_arn(&long).is_some());
        assert!(parse_role_arn(&format!("{long}r")).is_none());
    }

    #[test]
    fn names_count_characters_not_bytes() {
        assert_eq!(check_name(&"a".repeat(64), 64), Ok(()));
        assert_eq!(check_name(&"a".repeat(65), 64), Err(Problem::Length));
        // Not IAM characters at all, whatever their byte length.
        assert_eq!(check_name("é", 64), Err(Problem::Pattern));
        assert_eq!(check_name("", 64), Err(Problem::Length));
    }

    #[test]
    fn paths() {
        assert_eq!(check_role_path("/"), Ok(()));
        assert_eq!(check_role_path("/a:b/"), Ok(()), "IAM's path pattern allows a colon");
        assert_eq!(check_role_path("/a b/"), Err(Problem::Pattern));
        assert_eq!(check_role_path("a/"), Err(Problem::Pattern));
        assert_eq!(check_role_path("/aws-reserved/sso/"), Err(Problem::Reserved));
        assert_eq!(check_role_path(&format!("/{}/", "p".repeat(510))), Ok(()));
        assert_eq!(check_role_path(&format!("/{}/", "p".repeat(511))), Err(Problem::Length));
    }

    #[test]
    fn principals_and_policies() {
        assert_eq!(parse_principal_arn("arn:aws:iam::111122223333:root").unwrap().kind, Kind::Root);
        assert_eq!(parse_principal_arn("arn:aws:iam::111122223333:user/ci/bot").unwrap().kind, Kind::User);
        assert!(parse_principal_arn("arn:aws:iam::111122223333:policy/P").is_none());
        assert!(parse_policy_arn("arn:aws:iam::aws:policy/ReadOnlyAccess").is_some());
        assert!(parse_policy_arn(&format!("arn:aws:iam::aws:policy/{}", "p".repeat(128))).is_some());
        assert!(parse_policy_arn(&format!("arn:aws:iam::aws:policy/{}", "p".repeat(129))).is_none());
        assert_eq!(partition_of_arn("arn:aws-us-gov:sso:::instance/x"), Some(Partition::AwsUsGov));
    }
}

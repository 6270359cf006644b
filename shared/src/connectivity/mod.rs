//! The connectivity check: proves the trust role can be assumed with the external
//! ID(s), reaches the IAM Identity Center instance, and refuses callers without one.

//! The connectivity check through the CloudFormation Lambda, against local AWS peers.

//! RPCs for features this provider does not offer (identity, move, ephemeral
//! resources, list, actions, functions calls). Terraform treats `Unimplemented` as
//! "not supported" and moves on.

pub(super) fn status(rpc: &str) -> tonic::Status {
    tonic::Status::unimplemented(format!("{rpc} is not supported by terraform-provider-idcbootstrap"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn unimplemented_names_the_rpc() {
        let s = super::status("MoveResourceState");
        assert_eq!(s.code(), tonic::Code::Unimplemented);
        assert!(s.message().contains("MoveResourceState"));
    }
}

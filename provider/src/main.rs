//! terraform-provider-idcbootstrap: started by Terraform, never by hand.

fn main() -> std::process::ExitCode {
    idcbootstrap_provider::run()
}

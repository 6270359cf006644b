//! Fuzz target `cfn_response`: see [`idcbootstrap_fuzz::cfn::cfn_response`].

fn main() {
    afl::fuzz!(|data: &[u8]| idcbootstrap_fuzz::cfn::cfn_response(data));
}

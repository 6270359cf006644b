//! Fuzz target `cfn_event`: see [`idcbootstrap_fuzz::cfn::cfn_event`].

fn main() {
    afl::fuzz!(|data: &[u8]| idcbootstrap_fuzz::cfn::cfn_event(data));
}

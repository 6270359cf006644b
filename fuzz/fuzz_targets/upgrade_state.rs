//! Fuzz target `upgrade_state`: see [`idcbootstrap_fuzz::codec::upgrade_state`].

fn main() {
    afl::fuzz!(|data: &[u8]| idcbootstrap_fuzz::codec::upgrade_state(data));
}

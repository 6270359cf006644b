//! Fuzz target `value_json`: see [`idcbootstrap_fuzz::codec::value_json`].

fn main() {
    afl::fuzz!(|data: &[u8]| idcbootstrap_fuzz::codec::value_json(data));
}

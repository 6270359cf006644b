//! Fuzz target `attr_path`: see [`idcbootstrap_fuzz::ids::attr_path`].

fn main() {
    afl::fuzz!(|data: &[u8]| idcbootstrap_fuzz::ids::attr_path(data));
}

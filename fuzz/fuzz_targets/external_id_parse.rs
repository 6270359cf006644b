//! Fuzz target `external_id_parse`: see [`idcbootstrap_fuzz::ids::external_id_parse`].

fn main() {
    afl::fuzz!(|data: &[u8]| idcbootstrap_fuzz::ids::external_id_parse(data));
}

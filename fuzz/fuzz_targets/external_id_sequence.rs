//! Fuzz target `external_id_sequence`: see [`idcbootstrap_fuzz::sequence::external_id_sequence`].

fn main() {
    afl::fuzz!(|data: &[u8]| idcbootstrap_fuzz::sequence::external_id_sequence(data));
}

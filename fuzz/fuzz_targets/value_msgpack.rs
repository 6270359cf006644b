//! Fuzz target `value_msgpack`: see [`idcbootstrap_fuzz::codec::value_msgpack`].

fn main() {
    afl::fuzz!(|data: &[u8]| idcbootstrap_fuzz::codec::value_msgpack(data));
}

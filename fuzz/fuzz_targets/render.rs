//! Fuzz target `render`: see [`idcbootstrap_fuzz::render::render_target`].

fn main() {
    afl::fuzz!(|data: &[u8]| idcbootstrap_fuzz::render::render_target(data));
}

//! The msgpack codec on a typical `idcbootstrap_template` configuration: what every
//! validate, plan and read of a data source pays before any real work.

use criterion::{Criterion, criterion_main};
use idcbootstrap_provider::bench;

fn codec(c: &mut Criterion) {
    let bytes = bench::template_config_msgpack();
    let decoded = bench::decode_template_config(&bytes).expect("decodes");
    c.bench_function("decode template config (msgpack)", |b| {
        b.iter(|| bench::decode_template_config(std::hint::black_box(&bytes)))
    });
    c.bench_function("encode template config (msgpack)", |b| {
        b.iter(|| bench::encode_template_config(std::hint::black_box(&decoded)))
    });
}

// The macro generates an undocumented function.
#[allow(missing_docs)]
mod group {
    criterion::criterion_group!(benches, super::codec);
}
use group::benches;
criterion_main!(benches);

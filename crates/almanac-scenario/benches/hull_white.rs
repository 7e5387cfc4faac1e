//! Benchmark of Hull–White path generation: 1,000 antithetic paths on a 30-year monthly grid
//! (360 steps), fitted to a smooth upward-sloping curve.

use criterion::{criterion_main, Criterion};
use std::hint::black_box;

use almanac_scenario::hull_white::{monthly_grid, simulate, HullWhiteParams, PathSpec};

/// Zero rate `0.02 + 0.01(1 − e^{−t/5})`, continuously compounded.
fn curve(t: f64) -> f64 {
    (-(0.02 + 0.01 * (1.0 - (-t / 5.0).exp())) * t).exp()
}

fn bench_simulate(c: &mut Criterion) {
    let params = HullWhiteParams {
        mean_reversion: 0.03,
        volatility: 0.01,
    };
    let spec = PathSpec {
        grid: monthly_grid(30.0),
        paths: 1_000,
        seed: 42,
        antithetic: true,
    };
    c.bench_function("hull_white_1000_paths_360_monthly_steps", |b| {
        b.iter(|| simulate(&curve, black_box(&params), black_box(&spec)))
    });
}

mod group {
    #![allow(missing_docs, unreachable_pub)]
    use criterion::criterion_group;
    criterion_group!(benches, super::bench_simulate);
}

criterion_main!(group::benches);

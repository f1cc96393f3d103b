//! AC power-flow benchmarks: `solve` (build, Ybus, DC start, Newton–Raphson, result tables) on each shared
//! pandapower network, the file already read. pandapower's own times on the same networks come from
//! `benches/pandapower_compare.py`.
//!
//! Run: `cargo bench -p citytwin-benches --bench power`.
#![allow(clippy::unwrap_used)]

use citytwin_benches::shared_data;
use citytwin_engine::sim::utilities::power::{solve, PfOptions};
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const NETWORKS: &[&str] = &["example_simple", "cigre_lv", "simple_mv_open_ring"];

fn bench_solve(c: &mut Criterion) {
    let mut g = c.benchmark_group("power_solve");
    let opts = PfOptions::default();
    for name in NETWORKS {
        let grid = citytwin_importers::pandapower::read(&shared_data(&format!(
            "power/{name}/{name}.json"
        )))
        .unwrap();
        let res = solve(&grid, &opts).unwrap();
        assert!(res.mismatch_mva < opts.tolerance_mva);
        g.bench_function(*name, |b| {
            b.iter(|| solve(black_box(&grid), &opts).unwrap())
        });
    }
    g.finish();
}

fn bench_read(c: &mut Criterion) {
    let mut g = c.benchmark_group("power_read");
    for name in NETWORKS {
        let path = shared_data(&format!("power/{name}/{name}.json"));
        g.bench_function(*name, |b| {
            b.iter(|| citytwin_importers::pandapower::read(black_box(&path)).unwrap())
        });
    }
    g.finish();
}

criterion_group!(benches, bench_solve, bench_read);
criterion_main!(benches);

//! Benchmarks: import throughput, scene load, R-tree build and queries, on the real Kotka extract and on
//! generated cities (10k and 1M buildings, seed 42).
//!
//! Run: `cargo bench -p citytwin-benches` (figures in `target/criterion`; the headline numbers print as it goes).
#![allow(clippy::unwrap_used)]

use citytwin_benches::{kotka_scene, SEED};
use citytwin_engine::spatial::LayerIndex;
use citytwin_engine::{generate, spatial, store, Scene};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;
use std::time::Duration;

/// The same allocator as the `citytwin` binary.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn import_kotka() -> Scene {
    kotka_scene()
}

fn bench_import(c: &mut Criterion) {
    let n = import_kotka().feature_count() as u64;
    let mut g = c.benchmark_group("import");
    g.throughput(Throughput::Elements(n));
    g.bench_function("kotka_osm_pbf", |b| b.iter(|| black_box(import_kotka())));
    g.finish();
}

fn bench_load(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let mut g = c.benchmark_group("scene_load");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    let kotka = dir.path().join("kotka.twin");
    store::save(&import_kotka(), &kotka).unwrap();
    g.bench_function("kotka", |b| {
        b.iter_with_large_drop(|| store::load(&kotka).unwrap())
    });
    for n in [10_000usize, 1_000_000] {
        let p = dir.path().join(format!("gen{n}.twin"));
        store::save(&generate::city(n, SEED), &p).unwrap();
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("generated", n), &p, |b, p| {
            b.iter_with_large_drop(|| store::load(p).unwrap())
        });
    }
    g.finish();
}

fn bench_rtree(c: &mut Criterion) {
    let mut g = c.benchmark_group("rtree");
    g.sample_size(10);
    let kotka = import_kotka();
    for (name, scene) in [
        ("kotka", kotka),
        ("generated_1M", generate::city(1_000_000, SEED)),
    ] {
        let layer = scene.layer("buildings").unwrap();
        g.bench_function(BenchmarkId::new("bulk_load", name), |b| {
            b.iter(|| black_box(LayerIndex::build(&layer.features)))
        });
        let _ = layer.index();
        let bb = layer.bbox().unwrap();
        let (cx, cy) = ((bb[0] + bb[2]) / 2.0, (bb[1] + bb[3]) / 2.0);
        let rect = geo_types::Rect::new((cx - 100.0, cy - 100.0), (cx + 100.0, cy + 100.0));
        g.bench_function(BenchmarkId::new("bbox_200m", name), |b| {
            b.iter(|| black_box(spatial::query_rect(layer, rect).len()))
        });
        g.bench_function(BenchmarkId::new("nearest_10", name), |b| {
            b.iter(|| black_box(spatial::nearest(layer, [cx, cy], 10).len()))
        });
        g.bench_function(BenchmarkId::new("pick", name), |b| {
            b.iter(|| black_box(spatial::pick(layer, [cx, cy], 0.5).len()))
        });
    }
    g.finish();
}

criterion_group!(benches, bench_import, bench_load, bench_rtree);
criterion_main!(benches);

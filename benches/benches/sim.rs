//! Simulation-core benchmarks on real data: a population's weekday on the Kotka sample city, and SUMO's Kotka
//! scenario (1,200 trips, one hour) on SUMO's own network — the run set side by side with SUMO in
//! `benches/sumo-kotka.sh`.
//!
//! Run: `cargo bench -p citytwin-benches --bench sim`. The 1M-resident day is `--bin sim-bench` (too long for
//! criterion's repetitions).
#![allow(clippy::unwrap_used)]

use citytwin_benches::{kotka_scene, shared_data};
use citytwin_engine::sim::scenario::{Scenario, ScenarioSource};
use citytwin_engine::sim::{self, Demand, Quiet, RunRequest};
use citytwin_engine::{Scene, SceneFrame};
use criterion::{criterion_group, criterion_main, Criterion};
use indicatif::ProgressBar;
use std::hint::black_box;
use std::time::Duration;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn request<'a>(scene: &'a Scene, text: &str, demand: Demand) -> RunRequest<'a> {
    let source = ScenarioSource {
        path: "bench".into(),
        text: text.into(),
    };
    RunRequest {
        scene,
        scenario: Scenario::from_toml(&source).unwrap(),
        source,
        seed: 42,
        demand,
    }
}

fn bench_kotka_day(c: &mut Criterion) {
    let scene = kotka_scene();
    let req = request(&scene, "", Demand::Population);
    let mut g = c.benchmark_group("sim");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.bench_function("kotka_population_day", |b| {
        b.iter(|| black_box(sim::run(&req, &Quiet).unwrap().kpis.car_trips_arrived))
    });
    g.finish();
}

fn bench_sumo_kotka(c: &mut Criterion) {
    let net = shared_data("sumo/kotka/kotka.net.xml");
    let layer = citytwin_importers::sumo::import(
        &net,
        &citytwin_importers::ImportOptions::default(),
        &ProgressBar::hidden(),
    )
    .unwrap();
    let bbox = layer.bbox().unwrap();
    let mut scene = Scene::new(SceneFrame::for_extent(&layer.source.crs, bbox, None).unwrap());
    scene.ingest(layer, false).unwrap();
    let roads = scene.layer("roads").unwrap();
    let trips =
        citytwin_importers::sumo::read_trips(&shared_data("sumo/kotka/trips.xml"), roads).unwrap();
    let req = request(
        &scene,
        "end = \"01:00\"\nstep = \"5min\"\n",
        Demand::Trips {
            source: "trips.xml".into(),
            layer: "roads".into(),
            trips,
        },
    );
    let mut g = c.benchmark_group("sim");
    g.sample_size(20);
    g.bench_function("sumo_kotka_1200_trips_1h", |b| {
        b.iter(|| black_box(sim::run(&req, &Quiet).unwrap().kpis.car_trips_arrived))
    });
    g.finish();
}

criterion_group!(benches, bench_kotka_day, bench_sumo_kotka);
criterion_main!(benches);

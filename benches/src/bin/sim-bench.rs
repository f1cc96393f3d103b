//! Prints simulation-core figures: a generated city with a given number of residents simulated for a full day,
//! at each thread count, with the wall time of every stage and agent-steps per second; then checks that the
//! thread counts gave identical KPIs.
//!
//! `cargo run --release -p citytwin-benches --bin sim-bench -- [RESIDENTS] [BUILDINGS] [THREADS,...] [TOML]`
//! (default 1000000 100000 1,2; TOML is extra scenario text, e.g. "[modes]\ncar_share = 0.35"). An agent-step
//! is one vehicle on the road network for one simulated second.
#![allow(clippy::unwrap_used)]

use citytwin_engine::generate;
use citytwin_engine::sim::scenario::{Scenario, ScenarioSource};
use citytwin_engine::sim::{self, Demand, Quiet, RunRequest};
use std::time::Instant;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let residents: u64 = args.first().map_or(1_000_000, |a| a.parse().unwrap());
    let buildings: usize = args.get(1).map_or(100_000, |a| a.parse().unwrap());
    let threads: Vec<usize> = args
        .get(2)
        .map_or("1,2", String::as_str)
        .split(',')
        .map(|t| t.parse().unwrap())
        .collect();
    let extra = args
        .get(3)
        .cloned()
        .unwrap_or_default()
        .replace("\\n", "\n");
    let t = Instant::now();
    let scene = generate::city(buildings, citytwin_benches::SEED);
    let roads = scene.layer("roads").unwrap().features.len();
    println!(
        "city: {buildings} buildings, {roads} road segments (generated, seed {}) in {:.2} s",
        citytwin_benches::SEED,
        t.elapsed().as_secs_f64()
    );
    let source = ScenarioSource {
        path: "sim-bench".into(),
        text: format!("[population]\ntotal = {residents}\n{extra}\n"),
    };
    let scenario = Scenario::from_toml(&source).unwrap();
    let mut first: Option<sim::kpi::Kpis> = None;
    for n in threads {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .unwrap();
        let req = RunRequest {
            scene: &scene,
            scenario: scenario.clone(),
            source: source.clone(),
            seed: 42,
            demand: Demand::Population,
        };
        let out = pool.install(|| sim::run(&req, &Quiet)).unwrap();
        let s = &out.stats;
        let k = &out.kpis;
        println!(
            "\n{n} thread(s): {:.2} s for a full day of {} persons ({} trips, {} by car; {} arrived; mean car trip {:.0} s)",
            s.total_s, k.persons, k.trips, k.trips_car, k.car_trips_arrived, k.mean_car_trip_s
        );
        for (stage, secs) in &s.stage_s {
            println!("  {stage:<20} {secs:>7.2} s");
        }
        println!(
            "  ticks {}  agent-steps {}  {:.2} M agent-steps/s  vehicle-link moves {}  moved on {}  peak due links {}",
            s.ticks,
            s.vehicle_steps,
            s.agent_steps_per_s / 1e6,
            s.link_moves,
            k.moved_on_vehicles,
            s.peak_active_links
        );
        match &first {
            None => first = Some(out.kpis.clone()),
            Some(f) => println!(
                "  KPIs identical to the first thread count: {}",
                if *f == out.kpis { "yes" } else { "NO" }
            ),
        }
    }
}

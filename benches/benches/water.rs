//! Water hydraulics benchmarks: one hydraulic solution and a whole day, on EPANET's Net1 (shared data) and on a
//! generated 50 × 50 grid of junctions (2,500 junctions, 4,900 pipes, a pumped source and a tank), with demand
//! patterns so every step differs. Side by side with EPANET itself in `benches/epanet_compare.py`.
//!
//! Run: `cargo bench -p citytwin-benches --bench water`.
#![allow(clippy::unwrap_used)]

use citytwin_benches::shared_data;
use citytwin_engine::sim::utilities::water::{
    simulate, Curve, CurveKind, Demand, Hydraulics, LinkKind, LinkStatus, NodeKind, Pattern, Pipe,
    Pump, PumpHead, Tank, WaterLink, WaterNetwork, WaterNode,
};
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use std::time::Duration;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// An `n × n` grid of junctions 100 m apart (loops everywhere), fed by a pump from a reservoir at one corner,
/// with a tank at the opposite corner; every junction draws 0.2 L/s following a 24-hour pattern.
fn grid(n: usize) -> WaterNetwork {
    let mut net = WaterNetwork::default();
    let node = |id: String, elevation_m: f64, kind: NodeKind, demands: Vec<Demand>| WaterNode {
        id,
        elevation_m,
        kind,
        demands,
        emitter: 0.0,
        position: None,
        feature: None,
    };
    for r in 0..n {
        for c in 0..n {
            let elevation = 10.0 + 5.0 * ((r * 7 + c * 3) % 11) as f64 / 10.0;
            net.nodes.push(node(
                format!("J{r}_{c}"),
                elevation,
                NodeKind::Junction,
                vec![Demand {
                    base_m3s: 0.0002,
                    pattern: Some(0),
                    name: None,
                }],
            ));
        }
    }
    net.junctions = n * n;
    let src = net.nodes.len();
    net.nodes.push(node(
        "SRC".into(),
        20.0,
        NodeKind::Reservoir { head_pattern: None },
        vec![],
    ));
    let tank = net.nodes.len();
    net.nodes.push(node(
        "TANK".into(),
        50.0,
        NodeKind::Tank(Tank {
            init_level_m: 5.0,
            min_level_m: 0.5,
            max_level_m: 9.0,
            diameter_m: 20.0,
            min_volume_m3: 0.0,
            volume_curve: None,
            overflow: false,
        }),
        vec![],
    ));
    let pipe = |id: String, from: usize, to: usize, d: f64| WaterLink {
        id,
        from,
        to,
        kind: LinkKind::Pipe(Pipe {
            length_m: 100.0,
            diameter_m: d,
            roughness: 110.0,
            minor_loss: 0.0,
            check_valve: false,
        }),
        status: LinkStatus::Open,
        setting: None,
        vertices: Vec::new(),
        feature: None,
    };
    for r in 0..n {
        for c in 0..n {
            let i = r * n + c;
            // Mains along every fifth row and column, distribution pipes elsewhere.
            let d = |main: bool| if main { 0.3 } else { 0.15 };
            if c + 1 < n {
                net.links
                    .push(pipe(format!("H{r}_{c}"), i, i + 1, d(r % 5 == 0)));
            }
            if r + 1 < n {
                net.links
                    .push(pipe(format!("V{r}_{c}"), i, i + n, d(c % 5 == 0)));
            }
        }
    }
    net.links
        .push(pipe("TANKPIPE".into(), n * n - 1, tank, 0.3));
    net.curves.push(Curve {
        id: "PUMP".into(),
        kind: CurveKind::PumpHead,
        points: vec![[0.0, 60.0], [0.6, 45.0], [1.2, 10.0]],
    });
    net.links.push(WaterLink {
        id: "PUMP".into(),
        from: src,
        to: 0,
        kind: LinkKind::Pump(Pump {
            head: PumpHead::Curve(0),
            speed_pattern: None,
            efficiency_curve: None,
        }),
        status: LinkStatus::Open,
        setting: Some(1.0),
        vertices: Vec::new(),
        feature: None,
    });
    net.patterns.push(Pattern {
        id: "DAY".into(),
        factors: vec![
            0.6, 0.5, 0.5, 0.6, 0.9, 1.2, 1.4, 1.3, 1.2, 1.1, 1.1, 1.2, 1.3, 1.2, 1.1, 1.1, 1.2,
            1.4, 1.5, 1.3, 1.1, 0.9, 0.8, 0.7,
        ],
    });
    net.times.duration_s = 86_400;
    net
}

fn bench(c: &mut Criterion) {
    let net1 = citytwin_importers::epanet::read(&shared_data("epanet/Net1.inp"))
        .unwrap()
        .network;
    let big = grid(50);
    // The grid must be a sensible network: it solves, and its pressures are positive.
    let res = simulate(&big, |_| {}).unwrap();
    assert!(res.pressure_m.values.iter().take(2500).all(|p| *p > 0.0));

    let mut g = c.benchmark_group("water");
    g.sample_size(20).measurement_time(Duration::from_secs(10));
    for (name, net) in [("net1", &net1), ("grid_2500", &big)] {
        g.bench_function(format!("{name}_one_solution"), |b| {
            b.iter(|| {
                let mut h = Hydraulics::new(black_box(net)).unwrap();
                black_box(h.solve().unwrap())
            });
        });
        g.bench_function(format!("{name}_day"), |b| {
            b.iter(|| black_box(simulate(black_box(net), |_| {}).unwrap()));
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

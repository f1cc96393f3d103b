//! Utility networks in a simulation, end to end: EPANET's Net1 and pandapower's CIGRE LV grid placed under a
//! generated city, a pipe burst isolated by closing valves and a line outage, with the buildings left without
//! water or power checked against the network topology worked out here independently; the same bytes on 1 and 2
//! threads; scenario events that do not fit the scene named with their line.
#![allow(clippy::unwrap_used)]

mod common;
use citytwin_engine::sim::output::RunDir;
use citytwin_engine::time::SimTime;
use citytwin_engine::timeseries::SeriesTable;
use common::*;
use geo::Centroid;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A generated city of 400 buildings (EPSG:3067 near 385 000, 6 672 000) with Net1 (layer `water`) and CIGRE
/// LV (layer `grid`) placed under it from their schematic coordinates.
fn city(dir: &Path) -> PathBuf {
    let scene = dir.join("city.twin");
    ok(&["generate", "--buildings", "400", "--out", s(&scene)]);
    let crs = "EPSG:3067";
    ok(&[
        "import",
        s(&data("epanet/Net1.inp")),
        "--src-crs",
        crs,
        "--scale",
        "7,5.5",
        "--offset",
        "385000,6672000",
        "--out",
        s(&scene),
        "--append",
    ]);
    ok(&[
        "import",
        s(&data("power/cigre_lv/cigre_lv.json")),
        "--src-crs",
        crs,
        "--scale",
        "60,40",
        "--offset",
        "385240,6672000",
        "--layer",
        "grid",
        "--out",
        s(&scene),
        "--append",
    ]);
    scene
}

/// The README's utility what-if.
fn scenario() -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/scenarios/burst.toml"),
    )
    .unwrap()
}

/// The value of `column` for feature `id` at `t`.
fn value(t: &SeriesTable, column: &str, id: u64, at: SimTime) -> f32 {
    let c = t.column(column).unwrap();
    let step = t.times.iter().position(|x| *x == at).unwrap();
    t.step_values(c, step)[t.index_of(id).unwrap()]
}

/// Features with a value in `column`.
fn with_values(t: &SeriesTable, column: &str) -> Vec<u64> {
    let c = t.column(column).unwrap();
    t.ids
        .iter()
        .enumerate()
        .filter(|(i, _)| t.entity_series(c, *i).iter().any(|v| !v.is_nan()))
        .map(|(_, id)| *id)
        .collect()
}

#[test]
fn a_burst_isolated_by_valves_and_a_line_outage_leave_the_buildings_behind_them_unserved() {
    let dir = tempfile::tempdir().unwrap();
    let scene_path = city(dir.path());
    let sc = dir.path().join("burst.toml");
    std::fs::write(&sc, scenario()).unwrap();
    let (one, _) = on_1_and_2_threads(dir.path(), &scene_path, &sc);
    let out = ok(&[
        "simulate",
        s(&scene_path),
        "--scenario",
        s(&sc),
        "--out",
        s(&dir.path().join("again")),
    ]);
    assert!(
        out.contains("water: 400 buildings served") && out.contains("alerts in alerts.csv"),
        "{out}"
    );

    let scene = citytwin_engine::store::load(&scene_path).unwrap();
    let run = RunDir::open(&one).unwrap();
    let u = run.series("utilities", None).unwrap().unwrap();
    let at = |s: &str| s.parse::<SimTime>().unwrap();

    // Water: the junction nearest each building, worked out by brute force from the buildings' centroids.
    let water = scene.layer("water").unwrap();
    let junctions: Vec<(String, [f64; 2])> = water
        .network
        .as_ref()
        .unwrap()
        .nodes
        .iter()
        .filter(|n| n.kind == citytwin_engine::NodeKind::Junction)
        .map(|n| (n.label.clone().unwrap(), n.position))
        .collect();
    let buildings = scene.layer("buildings").unwrap();
    let served = with_values(&u, "water_service");
    assert!(served.len() > 300, "{} buildings with water", served.len());
    let mut expected = BTreeSet::new();
    for id in &served {
        let f = buildings.feature(citytwin_engine::FeatureId(*id)).unwrap();
        let c = f.geometry.centroid().unwrap();
        let nearest = junctions
            .iter()
            .min_by(|a, b| {
                let d = |p: [f64; 2]| (p[0] - c.x()).powi(2) + (p[1] - c.y()).powi(2);
                d(a.1).total_cmp(&d(b.1))
            })
            .unwrap();
        // Closing pipes 121 and 122 cuts junctions 31 and 32 off from the reservoir and the tank.
        if nearest.0 == "31" || nearest.0 == "32" {
            expected.insert(*id);
        }
    }
    assert!(!expected.is_empty() && expected.len() < served.len());
    let without = |t: &str| -> BTreeSet<u64> {
        served
            .iter()
            .copied()
            .filter(|id| value(&u, "water_service", *id, at(t)) == 0.0)
            .collect()
    };
    assert_eq!(
        without("09:00"),
        expected,
        "buildings without water during the repair"
    );
    assert!(
        without("06:00").is_empty(),
        "everyone has water before the burst"
    );
    assert!(
        without("11:00").is_empty(),
        "and again once the pipes reopen"
    );
    for id in &served {
        if !expected.contains(id) {
            let p = value(&u, "water_pressure_m", *id, at("09:00"));
            assert!(p > 20.0, "building {id} keeps its pressure ({p} m)");
        }
    }
    let kpi: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(one.join("kpi.json")).unwrap()).unwrap();
    assert_eq!(kpi["water_buildings_without"], expected.len() as u64);
    assert!(
        kpi["water_burst_loss_m3"].as_f64().unwrap() > 30.0 * 3.6 * 0.9,
        "an hour of burst at least"
    );

    // Power: buses cut off by taking line 1 out, worked out from the grid's topology.
    let grid = scene.layer("grid").unwrap();
    let pp = match grid.utility.as_deref() {
        Some(citytwin_engine::sim::utilities::UtilityModel::Power(p)) => p,
        _ => panic!("grid layer without its model"),
    };
    let mut adj: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for l in pp.lines.iter().filter(|l| l.in_service && l.index != 1) {
        adj.entry(l.from_bus).or_default().push(l.to_bus);
        adj.entry(l.to_bus).or_default().push(l.from_bus);
    }
    for t in pp.trafos.iter().filter(|t| t.in_service) {
        adj.entry(t.hv_bus).or_default().push(t.lv_bus);
        adj.entry(t.lv_bus).or_default().push(t.hv_bus);
    }
    for sw in pp
        .switches
        .iter()
        .filter(|s| s.closed && s.et == citytwin_engine::sim::utilities::power::SwitchTarget::Bus)
    {
        adj.entry(sw.bus).or_default().push(sw.element);
        adj.entry(sw.element).or_default().push(sw.bus);
    }
    let mut live: BTreeSet<i64> = pp.ext_grids.iter().map(|e| e.bus).collect();
    let mut stack: Vec<i64> = live.iter().copied().collect();
    while let Some(b) = stack.pop() {
        for &n in adj.get(&b).map(Vec::as_slice).unwrap_or(&[]) {
            if live.insert(n) {
                stack.push(n);
            }
        }
    }
    let dead_buses: BTreeSet<u64> = pp
        .buses
        .iter()
        .filter(|b| !live.contains(&b.index))
        .filter_map(|b| b.feature.map(|f| f.0))
        .collect();
    assert!(!dead_buses.is_empty(), "line 1 feeds part of the grid");
    for b in &pp.buses {
        let f = b.feature.unwrap().0;
        let v = value(&u, "vm_pu", f, at("09:00"));
        assert_eq!(
            v.is_nan(),
            dead_buses.contains(&f),
            "bus {} at 09:00: {v}",
            b.index
        );
        assert!(
            !value(&u, "vm_pu", f, at("10:00")).is_nan(),
            "bus {} back at 10:00",
            b.index
        );
    }
    let powered = with_values(&u, "power_service");
    let no_power = powered
        .iter()
        .filter(|id| value(&u, "power_service", **id, at("09:00")) == 0.0)
        .count();
    let alerts = run.alerts().unwrap();
    let no_power_alerts: Vec<_> = alerts.iter().filter(|a| a.kind == "no_power").collect();
    assert!(no_power > 0 && !no_power_alerts.is_empty());
    assert_eq!(
        no_power_alerts
            .iter()
            .map(|a| a.buildings as usize)
            .sum::<usize>(),
        no_power,
        "the alerts count the same buildings"
    );
    for a in &no_power_alerts {
        assert_eq!((a.start, a.end), (at("09:00"), Some(at("10:00"))), "{a:?}");
    }
    // Every event is in the table, and the cut-off junctions' alerts span the repair.
    for kind in ["burst", "close", "outage"] {
        assert!(alerts.iter().any(|a| a.kind == kind), "{kind} alert");
    }
    // The viewer's colour path: buildings by water service, before and during the repair.
    let purple = |time: &str| -> usize {
        let png = dir.path().join(format!("ws-{}.png", time.replace(':', "")));
        ok(&[
            "render",
            s(&scene_path),
            "--run",
            s(&one),
            "--time",
            time,
            "--color-by",
            "water_service",
            "--size",
            "480x300",
            "--no-legend",
            "--out",
            s(&png),
        ]);
        image::open(&png)
            .unwrap()
            .to_rgba8()
            .pixels()
            .filter(|p| p[2] > p[1].saturating_add(25) && p[0] > p[1])
            .count()
    };
    let (before, during) = (purple("06:00"), purple("09:00"));
    assert!(
        during > 20 * before.max(50),
        "unserved buildings drawn purple: {before} pixels at 06:00, {during} at 09:00"
    );
    for node in ["node 31", "node 32"] {
        let a = alerts
            .iter()
            .find(|a| a.kind == "no_water" && a.element == node)
            .unwrap_or_else(|| panic!("no alert for {node}: {alerts:?}"));
        assert_eq!((a.start, a.end), (at("08:00"), Some(at("11:00"))));
        assert!(a.buildings > 0 && a.feature.is_some());
    }
}

#[test]
fn utility_events_that_do_not_fit_name_their_line() {
    let dir = tempfile::tempdir().unwrap();
    let scene = city(dir.path());
    let sc = dir.path().join("bad.toml");
    for (bad, want) in [
        (
            scenario().replace("link = \"122\"\nflow_lps", "link = \"999\"\nflow_lps"),
            "no link `999`",
        ),
        (
            scenario().replace("at = \"09:00\"", "at = \"13:00\""),
            "outside the run",
        ),
        (
            scenario().replace("line = 1", "line = 1\nlink = \"12\""),
            "exactly one of",
        ),
        (scenario().replace("flow_lps = 30", ""), "needs flow_lps"),
        (
            scenario().replace("action = \"outage\"", "action = \"melt\""),
            "unknown variant",
        ),
        (scenario().replace("line = 1", "line = 99"), "no line 99"),
        (
            scenario().replace(
                "max_service_distance_m = 300",
                "max_service_distance_m = -5",
            ),
            "utilities.max_service_distance_m",
        ),
        (
            scenario().replace("w_per_m2 =", "person_profile = [1, 2]\nw_per_m2 ="),
            "24 non-negative hourly weights",
        ),
    ] {
        std::fs::write(&sc, &bad).unwrap();
        let err = fails(&[
            "simulate",
            s(&scene),
            "--scenario",
            s(&sc),
            "--out",
            s(&dir.path().join("r")),
        ]);
        assert!(
            err.contains("bad.toml") && err.contains(want),
            "{want}: {err}"
        );
    }
    assert!(!dir.path().join("r").exists());
}

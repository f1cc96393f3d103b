//! `citytwin simulate` and `compare` end to end on the real data: a population's day on the Kotka sample city
//! (conservation, trip counts, the same bytes with 1 and 2 threads), a road closure that re-routes traffic, SUMO's
//! Kotka scenario within the bounds SUMO's own results set, and bad scenarios that name the key and the line.
#![allow(clippy::unwrap_used)]

mod common;
use arrow_array::{Array, BooleanArray, Float64Array, UInt32Array, UInt64Array};
use citytwin_engine::timeseries::parquet::{read_series, read_table};
use common::*;
use std::path::{Path, PathBuf};

fn scenario(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("assets/scenarios")
        .join(name)
}

fn kpis(run: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(run.join("kpi.json")).unwrap()).unwrap()
}

fn kpi(run: &Path, name: &str) -> f64 {
    kpis(run)[name]
        .as_f64()
        .unwrap_or_else(|| panic!("kpi {name}"))
}

fn column_u64(batch: &arrow_array::RecordBatch, name: &str) -> Vec<u64> {
    let c = batch.column_by_name(name).unwrap();
    if let Some(a) = c.as_any().downcast_ref::<UInt64Array>() {
        return a.values().to_vec();
    }
    let a = c.as_any().downcast_ref::<UInt32Array>().unwrap();
    a.values().iter().map(|v| u64::from(*v)).collect()
}

fn column_f64(batch: &arrow_array::RecordBatch, name: &str) -> Float64Array {
    batch
        .column_by_name(name)
        .unwrap()
        .as_any()
        .downcast_ref::<Float64Array>()
        .unwrap()
        .clone()
}

fn run_info(run: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(run.join("run-info.json")).unwrap()).unwrap()
}

#[test]
fn a_population_day_conserves_people_and_gives_the_same_bytes_with_1_and_2_threads() {
    let dir = tempfile::tempdir().unwrap();
    let scene = kotka(dir.path());
    let (one, two) = on_1_and_2_threads(dir.path(), &scene, &scenario("weekday.toml"));
    assert_eq!(run_info(&one)["stats"]["threads"], 1);
    assert_eq!(run_info(&two)["stats"]["threads"], 2);

    // Conservation: at every step, people in buildings + people on the move = the population.
    let persons = kpi(&one, "persons") as u64;
    assert!(persons > 10_000, "Kotka's homes hold {persons} people");
    let (totals, _) = read_table(&one.join("totals.parquet")).unwrap();
    let inside = column_u64(&totals, "persons_in_buildings");
    let moving = column_u64(&totals, "persons_on_move");
    assert_eq!(inside.len(), 97, "00:00 to 24:00 every 15 min");
    for (i, (a, b)) in inside.iter().zip(&moving).enumerate() {
        assert_eq!(a + b, persons, "step {i}");
    }
    assert!(
        moving.iter().any(|m| *m > 100),
        "people travel during the day"
    );
    // The building table says the same, building by building.
    let (buildings, fp) = read_series(&one.join("buildings.parquet")).unwrap();
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(one.join("run.json")).unwrap()).unwrap();
    assert_eq!(run["scene_fingerprint"].as_str(), Some(fp.as_str()));
    let occ = buildings.column("occupancy").unwrap();
    for (step, total) in inside.iter().enumerate() {
        let sum: f64 = buildings
            .step_values(occ, step)
            .iter()
            .map(|v| f64::from(*v))
            .sum();
        assert_eq!(sum as u64, *total, "step {step}");
    }
    // Night: everyone at home. The residents table agrees with the occupancy at 00:00.
    let (info, _) = read_table(&one.join("building_info.parquet")).unwrap();
    let residents = column_u64(&info, "residents");
    assert_eq!(residents.iter().sum::<u64>(), persons);
    for (i, r) in residents.iter().enumerate() {
        assert_eq!(buildings.step_values(occ, 0)[i] as u64, *r);
    }

    // Trips: one row per planned trip; car trips depart, arrive, and take at least their free-flow time.
    let (trips, _) = read_table(&one.join("trips.parquet")).unwrap();
    assert_eq!(trips.num_rows() as f64, kpi(&one, "trips"));
    let dep = column_f64(&trips, "depart_s");
    let dur = column_f64(&trips, "duration_s");
    let ff = column_f64(&trips, "free_flow_s");
    let arrived = (0..trips.num_rows()).filter(|&i| !dur.is_null(i)).count();
    assert!(arrived as f64 >= kpi(&one, "car_trips_arrived"));
    for i in (0..trips.num_rows()).filter(|&i| !dur.is_null(i)) {
        assert!(
            dur.value(i) + 1e-6 >= ff.value(i) - 0.002 * ff.value(i),
            "trip {i}"
        );
        assert!(!dep.is_null(i));
    }
    assert!(kpi(&one, "car_trips_arrived") > 1000.0);
    assert!(
        trips.column_by_name("person").is_none(),
        "no per-person records unless asked for"
    );
    // Grid cells: none under k = 5 persons.
    let (cells, _) = read_series(&one.join("cells.parquet")).unwrap();
    let persons_col = cells.column("persons").unwrap();
    assert!(persons_col.values.iter().all(|v| v.is_nan() || *v >= 5.0));
    assert!(
        persons_col.values.iter().any(|v| v.is_nan()),
        "small cells are suppressed"
    );
}

#[test]
fn a_bridge_closure_reroutes_traffic_and_compare_shows_it() {
    let dir = tempfile::tempdir().unwrap();
    let scene = kotka(dir.path());
    let (base, closed) = (dir.path().join("base"), dir.path().join("closed"));
    ok(&[
        "simulate",
        s(&scene),
        "--scenario",
        s(&scenario("weekday.toml")),
        "--out",
        s(&base),
    ]);
    ok(&[
        "simulate",
        s(&scene),
        "--scenario",
        s(&scenario("bridge-closed.toml")),
        "--out",
        s(&closed),
    ]);
    // The closed links carry nothing.
    let (info, _) = read_table(&closed.join("link_info.parquet")).unwrap();
    let is_closed = info
        .column_by_name("closed")
        .unwrap()
        .as_any()
        .downcast_ref::<BooleanArray>()
        .unwrap()
        .clone();
    let ids = column_u64(&info, "link_id");
    let closed_ids: Vec<u64> = (0..ids.len())
        .filter(|&i| is_closed.value(i))
        .map(|i| ids[i])
        .collect();
    assert!(!closed_ids.is_empty());
    let (links, _) = read_series(&closed.join("links.parquet")).unwrap();
    let vol = links.column("volume").unwrap();
    for id in &closed_ids {
        let e = links.index_of(*id).unwrap();
        assert!(
            links.entity_series(vol, e).iter().all(|v| *v == 0.0),
            "link {id}"
        );
    }
    // In the base run the bridge was used.
    let (base_links, _) = read_series(&base.join("links.parquet")).unwrap();
    let bvol = base_links.column("volume").unwrap();
    let used: f32 = closed_ids
        .iter()
        .map(|id| {
            base_links
                .entity_series(bvol, base_links.index_of(*id).unwrap())
                .iter()
                .sum::<f32>()
        })
        .sum();
    assert!(
        used > 50.0,
        "the bridge carries {used} vehicles a day in the base run"
    );

    let out = dir.path().join("cmp");
    let json = ok(&["compare", s(&base), s(&closed), "--json", "--out", s(&out)]);
    let c: serde_json::Value = serde_json::from_str(&json).unwrap();
    let delta = |name: &str| {
        c["kpis"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["name"] == name)
            .unwrap()["delta"]
            .as_f64()
            .unwrap()
    };
    assert!(delta("vehicle_km") > 0.0, "detours are longer");
    assert!(delta("mean_car_trip_s") > 0.0);
    assert_eq!(delta("persons"), 0.0);
    assert!(c["links_changed"].as_u64().unwrap() > 10);
    let (diff, _) = read_table(&out.join("link_diff.parquet")).unwrap();
    let d = column_f64(&diff, "volume_delta");
    assert!((0..d.len()).any(|i| d.value(i) > 0.0) && (0..d.len()).any(|i| d.value(i) < 0.0));
    let text = ok(&["compare", s(&base), s(&closed), "--out", s(&out)]);
    assert!(text.contains("vehicle_km"), "{text}");

    // Runs of different scenes are not compared.
    let other = dir.path().join("other.twin");
    ok(&["generate", "--buildings", "50", "--out", s(&other)]);
    let run3 = dir.path().join("gen");
    ok(&["simulate", s(&other), "--out", s(&run3), "--end", "2h"]);
    let e = fails(&["compare", s(&base), s(&run3), "--out", s(&out)]);
    assert!(e.contains("different scenes"), "{e}");
}

/// SUMO's own figures for the Kotka scenario: mean duration from the log's statistics, arrivals from tripinfo.
fn sumo_reference(kind: &str) -> (f64, usize) {
    let log = std::fs::read_to_string(data(&format!("sumo/kotka/sumo_{kind}.log"))).unwrap();
    let stats = &log[log.find("Statistics").unwrap()..];
    let dur: f64 = stats
        .lines()
        .find_map(|l| l.trim().strip_prefix("Duration:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let info = std::fs::read_to_string(data(&format!("sumo/kotka/tripinfo_{kind}.xml"))).unwrap();
    (dur, info.matches("<tripinfo ").count())
}

#[test]
fn sumo_kotka_lies_between_sumo_meso_and_micro() {
    let (meso_dur, meso_arr) = sumo_reference("meso");
    let (micro_dur, micro_arr) = sumo_reference("micro");
    assert_eq!((meso_arr, micro_arr), (1161, 1156), "the reference files");
    let dir = tempfile::tempdir().unwrap();
    let scene = dir.path().join("k.twin");
    let out = ok(&[
        "import",
        s(&data("sumo/kotka/kotka.net.xml")),
        "--out",
        s(&scene),
    ]);
    assert!(out.contains("517 features"), "{out}");
    for demand in ["trips.xml", "rou.xml"] {
        let run = dir.path().join(demand);
        ok(&[
            "simulate",
            s(&scene),
            "--trips",
            s(&data(&format!("sumo/kotka/{demand}"))),
            "--end",
            "1h",
            "--out",
            s(&run),
        ]);
        let mean = kpi(&run, "mean_car_trip_s");
        let arrived = kpi(&run, "car_trips_arrived");
        assert!(
            mean >= 0.9 * meso_dur && mean <= 1.1 * micro_dur,
            "{demand}: mean trip {mean:.1} s outside [0.9 × meso {meso_dur}, 1.1 × micro {micro_dur}]"
        );
        for reference in [meso_arr, micro_arr] {
            let r = reference as f64;
            assert!(
                (arrived - r).abs() <= 0.05 * r,
                "{demand}: {arrived} arrived, SUMO {reference}"
            );
        }
        assert_eq!(kpi(&run, "car_trips_departed"), 1200.0);
        // Route length as SUMO counts it (lanes and the ways across junctions): within 2 %.
        let len = kpi(&run, "mean_car_trip_m");
        assert!((len - 2024.34).abs() < 0.02 * 2024.34, "{demand}: {len} m");
        // Trip ids are SUMO's.
        let (trips, _) = read_table(&run.join("trips.parquet")).unwrap();
        assert!(trips.column_by_name("external_id").is_some());
    }
}

#[test]
fn bad_scenarios_name_the_key_and_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let scene = kotka(dir.path());
    let run = |text: &str| {
        let p = dir.path().join("bad.toml");
        std::fs::write(&p, text).unwrap();
        let out = dir.path().join("run");
        let e = fails(&["simulate", s(&scene), "--scenario", s(&p), "--out", s(&out)]);
        assert!(!out.exists(), "nothing written");
        e
    };
    let e = run("name = \"x\"\n[modes]\ncar_share = 0.5\nbus_share = 0.1\n");
    assert!(e.contains("bad.toml:4") && e.contains("bus_share"), "{e}");
    let e = run("[population]\ntotal = \"lots\"\n");
    assert!(e.contains("bad.toml:2") && e.contains("total"), "{e}");
    let e = run("start = \"09:00\"\nend = \"08:00\"\n");
    assert!(e.contains("bad.toml:2") && e.contains("end"), "{e}");
    let e =
        run("[edits]\nclose_roads = [\n  { osm_id = 5184589 },\n  { feature = 99999999 },\n]\n");
    assert!(
        e.contains("bad.toml:4") && e.contains("close_roads") && e.contains("99999999"),
        "{e}"
    );
    let e = run("[edits]\nclose_roads = [{ name = \"No Such Street\" }]\n");
    assert!(
        e.contains("bad.toml:2") && e.contains("No Such Street"),
        "{e}"
    );
    let e = run("[traffic]\nlayer = \"buildings\"\n");
    assert!(
        e.contains("bad.toml:2") && e.contains("traffic.layer"),
        "{e}"
    );

    // A run directory is never replaced by accident.
    let out = dir.path().join("kept");
    ok(&["simulate", s(&scene), "--out", s(&out), "--end", "01:00"]);
    let e = fails(&["simulate", s(&scene), "--out", s(&out), "--end", "01:00"]);
    assert!(e.contains("--force"), "{e}");
    ok(&[
        "simulate",
        s(&scene),
        "--out",
        s(&out),
        "--end",
        "02:00",
        "--force",
    ]);
    assert!(temp_leftovers(dir.path()).is_empty());
    let e = fails(&[
        "simulate",
        s(&scene),
        "--out",
        s(&dir.path().join("x")),
        "--trips",
        s(&scene),
    ]);
    assert!(e.contains("kotka.twin"), "{e}");
}

#[test]
fn parallel_phases_give_the_same_bytes_on_a_busy_city() {
    // A morning peak that overloads a small city: the link and node phases run in parallel, and gridlock is
    // released by moving stuck vehicles on — all of it must give the same bytes on 1 and 2 threads.
    let dir = tempfile::tempdir().unwrap();
    let scene = dir.path().join("city.twin");
    ok(&["generate", "--buildings", "6000", "--out", s(&scene)]);
    let sc = dir.path().join("peak.toml");
    std::fs::write(
        &sc,
        "start = \"06:00\"\nend = \"09:30\"\nstep = \"10min\"\n[population]\ntotal = 200000\n[modes]\ncar_share = 0.8\nwalk_below_m = 100\n[activities.work]\nstart_sd = \"10min\"\n",
    )
    .unwrap();
    let (one, two) = on_1_and_2_threads(dir.path(), &scene, &sc);
    let peak = run_info(&two)["stats"]["peak_active_links"]
        .as_u64()
        .unwrap();
    assert!(
        peak as usize >= citytwin_engine::sim::traffic::queue::PARALLEL_LINKS,
        "{peak} links due in one tick: the parallel link phase ran"
    );
    assert!(kpi(&one, "moved_on_vehicles") > 100.0, "the peak gridlocks");
    let (links, _) = read_series(&one.join("links.parquet")).unwrap();
    let speeds = links.column("speed").unwrap();
    assert!(speeds.values.iter().all(|s| s.is_nan() || *s > 0.0));
}

#[test]
fn population_from_districts_and_building_what_ifs() {
    let dir = tempfile::tempdir().unwrap();
    let scene = kotka(dir.path());
    // Two districts splitting the extract at 26.95° E, with their populations.
    let districts = dir.path().join("districts.geojson");
    std::fs::write(
        &districts,
        r#"{"type":"FeatureCollection","features":[
        {"type":"Feature","properties":{"name":"west","population":5000},"geometry":{"type":"Polygon","coordinates":[[[26.92,60.51],[26.95,60.51],[26.95,60.55],[26.92,60.55],[26.92,60.51]]]}},
        {"type":"Feature","properties":{"name":"east","population":7000},"geometry":{"type":"Polygon","coordinates":[[[26.95,60.51],[26.98,60.51],[26.98,60.55],[26.95,60.55],[26.95,60.51]]]}}]}"#,
    )
    .unwrap();
    ok(&[
        "import",
        s(&districts),
        "--out",
        s(&scene),
        "--append",
        "--kind",
        "framework",
        "--layer",
        "districts",
    ]);
    let sc = dir.path().join("d.toml");
    std::fs::write(
        &sc,
        "end = \"01:00\"\n[population]\ndistricts = { layer = \"districts\", attribute = \"population\" }\n",
    )
    .unwrap();
    let run = dir.path().join("districts");
    ok(&[
        "simulate",
        s(&scene),
        "--scenario",
        s(&sc),
        "--out",
        s(&run),
    ]);
    assert_eq!(kpi(&run, "persons"), 12_000.0);
    assert_eq!(kpi(&run, "unplaced_residents"), 0.0);
    let scene_data = citytwin_engine::store::load(&scene).unwrap();
    let to_wgs = scene_data.frame.from_local("EPSG:4326").unwrap();
    let (info, _) = read_table(&run.join("building_info.parquet")).unwrap();
    let ids = column_u64(&info, "feature_id");
    let residents = column_u64(&info, "residents");
    let mut west = 0;
    for (id, r) in ids.iter().zip(&residents) {
        let (_, f) = scene_data.feature(citytwin_engine::FeatureId(*id)).unwrap();
        let b = f.bbox().unwrap();
        let (lon, _) = to_wgs
            .point((b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0)
            .unwrap();
        if lon < 26.95 {
            west += r;
        }
    }
    assert_eq!(west, 5000, "the west district's residents live in the west");

    // What-ifs: a building removed, one given 500 residents, the town grown by 10 % with new housing.
    let first = scene_data.layer("buildings").unwrap().features[0].id.0;
    let second = scene_data.layer("buildings").unwrap().features[1].id.0;
    let growth = std::fs::read_to_string(scenario("growth.toml")).unwrap();
    let text = format!(
        "{growth}\nresidents = [{{ feature = {second}, residents = 500 }}]\nremove_buildings = [{{ feature = {first} }}]\n"
    )
    .replace("step = \"15min\"", "step = \"15min\"\nend = \"01:00\"");
    std::fs::write(&sc, text).unwrap();
    let base = dir.path().join("base");
    ok(&["simulate", s(&scene), "--out", s(&base), "--end", "01:00"]);
    let grown = dir.path().join("grown");
    ok(&[
        "simulate",
        s(&scene),
        "--scenario",
        s(&sc),
        "--out",
        s(&grown),
    ]);
    let (info, _) = read_table(&grown.join("building_info.parquet")).unwrap();
    let ids = column_u64(&info, "feature_id");
    let residents = column_u64(&info, "residents");
    let added = info
        .column_by_name("added")
        .unwrap()
        .as_any()
        .downcast_ref::<BooleanArray>()
        .unwrap()
        .clone();
    assert!(!ids.contains(&first), "the removed building is gone");
    let i = ids.iter().position(|x| *x == second).unwrap();
    assert_eq!(residents[i], 500);
    let new: Vec<usize> = (0..ids.len()).filter(|&i| added.value(i)).collect();
    assert_eq!(new.len(), 3, "three buildings added");
    assert!(
        new.iter().take(2).all(|&i| residents[i] > 50),
        "the new apartments are lived in"
    );
    assert!(
        new.iter()
            .all(|&i| ids[i] >= scene_data.next_feature_id().0),
        "added buildings get ids after the scene's"
    );
    let (pb, pg) = (kpi(&base, "persons"), kpi(&grown, "persons"));
    assert_eq!(
        residents.iter().sum::<u64>() as f64,
        pg,
        "everyone lives somewhere"
    );
    assert!(
        pg > pb * 1.1 && pg < pb * 1.3,
        "10 % more and the new blocks: {pb} → {pg}"
    );
}

#[test]
fn ctrl_c_stops_cleanly_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let scene = dir.path().join("city.twin");
    ok(&["generate", "--buildings", "8000", "--out", s(&scene)]);
    let out = dir.path().join("run");
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_citytwin"))
        .args(["simulate", s(&scene), "--out", s(&out)])
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let killed = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let result = child.wait_with_output().unwrap();
    assert_eq!(
        result.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    assert!(String::from_utf8_lossy(&result.stderr).contains("not written"));
    assert!(!out.exists());
    let leftovers = temp_leftovers(dir.path());
    assert!(
        leftovers.is_empty(),
        "no temporary run directory left: {leftovers:?}"
    );
}

//! `citytwin power` and the pandapower importer end to end on the shared pandapower networks: every result table
//! against pandapower 3.5.6's own (one tolerance table, failures naming network, table, element, column and both
//! values), broken files that name the file and the line, and power layers in a scene.
#![allow(clippy::unwrap_used)]

mod common;
use common::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The shared networks, each `power/NAME/NAME.json` with pandapower's `res_*.csv` beside it.
const NETWORKS: &[&str] = &["example_simple", "cigre_lv", "simple_mv_open_ring"];

/// The tolerance per column, by the first pattern its name contains: the required ones (voltage magnitudes 1e-5
/// pu, angles 1e-3°, loading 0.01 %) and, for powers and currents, bounds well above the rounding of pandapower's
/// 10 written digits.
const TOLERANCE: &[(&str, f64)] = &[
    ("vm_", 1e-5),
    ("va_", 1e-3),
    ("loading_percent", 0.01),
    ("_mw", 1e-6),
    ("_mvar", 1e-6),
    ("_ka", 1e-7),
];

fn tolerance(column: &str) -> f64 {
    TOLERANCE
        .iter()
        .find(|(pattern, _)| column.contains(pattern))
        .map(|&(_, t)| t)
        .unwrap_or_else(|| panic!("no tolerance for column {column}"))
}

/// A result table: header, then `index → values` (an empty field is NaN, as pandas writes it).
struct Table {
    columns: Vec<String>,
    rows: BTreeMap<i64, Vec<f64>>,
    order: Vec<i64>,
}

fn read_table(path: &Path) -> Table {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let header: Vec<String> = r.headers().unwrap().iter().map(str::to_owned).collect();
    assert_eq!(header[0], "index", "{}", path.display());
    let mut rows = BTreeMap::new();
    let mut order = Vec::new();
    for rec in r.records() {
        let rec = rec.unwrap();
        let index: i64 = rec[0].parse().unwrap();
        let values = rec
            .iter()
            .skip(1)
            .map(|v| {
                if v.is_empty() {
                    f64::NAN
                } else {
                    v.parse::<f64>()
                        .unwrap_or_else(|e| panic!("{}: {v}: {e}", path.display()))
                }
            })
            .collect();
        rows.insert(index, values);
        order.push(index);
    }
    Table {
        columns: header[1..].to_vec(),
        rows,
        order,
    }
}

fn res_files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("res_") && n.ends_with(".csv"))
        .collect();
    v.sort();
    v
}

/// Compares every reference table of `network` with ours in `out`; returns the differences beyond tolerance
/// (network, table, index, column, both values) and the worst difference per table and column.
fn compare(network: &str, refdir: &Path, out: &Path) -> (Vec<String>, Vec<String>) {
    let (mut failures, mut worst) = (Vec::new(), Vec::new());
    assert_eq!(
        res_files(refdir),
        res_files(out),
        "{network}: the result tables written differ from pandapower's"
    );
    for file in res_files(refdir) {
        let table = file.trim_end_matches(".csv");
        let want = read_table(&refdir.join(&file));
        let got = read_table(&out.join(&file));
        assert_eq!(want.columns, got.columns, "{network} {table}: columns");
        assert_eq!(want.order, got.order, "{network} {table}: element indices");
        for (c, column) in want.columns.iter().enumerate() {
            let tol = tolerance(column);
            let mut max = 0.0f64;
            for (index, w) in &want.rows {
                let (a, b) = (w[c], got.rows[index][c]);
                let ok = if a.is_nan() || b.is_nan() {
                    a.is_nan() && b.is_nan()
                } else {
                    max = max.max((a - b).abs());
                    (a - b).abs() <= tol
                };
                if !ok {
                    failures.push(format!(
                        "{network} {table} index {index} {column}: pandapower {a}, citytwin {b} (tolerance {tol})"
                    ));
                }
            }
            worst.push(format!("{network} {table} {column}: {max:.2e}"));
        }
    }
    (failures, worst)
}

#[test]
fn every_network_matches_pandapower() {
    let dir = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for network in NETWORKS {
        let refdir = data(&format!("power/{network}"));
        let out = dir.path().join(network);
        let stdout = ok(&[
            "power",
            s(&refdir.join(format!("{network}.json"))),
            "--out",
            s(&out),
        ]);
        assert!(stdout.contains("converged in"), "{stdout}");
        let (f, worst) = compare(network, &refdir, &out);
        // The worst differences, for the record (`cargo test -- --nocapture`).
        for w in worst {
            println!("{w}");
        }
        failures.extend(f);
    }
    assert!(
        failures.is_empty(),
        "{} values beyond tolerance:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(temp_leftovers(dir.path()).is_empty());
}

#[test]
fn a_changed_value_is_reported_with_network_table_index_column_and_both_values() {
    // The comparison itself can fail: shift one voltage in a copy of pandapower's results.
    let dir = tempfile::tempdir().unwrap();
    let refdir = data("power/example_simple");
    let out = dir.path().join("example_simple");
    ok(&[
        "power",
        s(&refdir.join("example_simple.json")),
        "--out",
        s(&out),
    ]);
    let fake = dir.path().join("fake");
    std::fs::create_dir(&fake).unwrap();
    for f in res_files(&refdir) {
        std::fs::copy(refdir.join(&f), fake.join(&f)).unwrap();
    }
    let bus = std::fs::read_to_string(fake.join("res_bus.csv")).unwrap();
    let mut lines: Vec<String> = bus.lines().map(str::to_owned).collect();
    let mut cells: Vec<String> = lines[2].split(',').map(str::to_owned).collect();
    let vm: f64 = cells[1].parse().unwrap();
    cells[1] = format!("{}", vm + 2e-5);
    lines[2] = cells.join(",");
    std::fs::write(fake.join("res_bus.csv"), lines.join("\n") + "\n").unwrap();
    let (failures, _) = compare("example_simple", &fake, &out);
    assert_eq!(failures.len(), 1, "{failures:?}");
    let f = &failures[0];
    assert!(
        f.starts_with("example_simple res_bus index 1 vm_pu: pandapower "),
        "{f}"
    );
    assert!(
        f.contains(&format!("{}", vm + 2e-5)) && f.contains("citytwin 1.0208"),
        "{f}"
    );
}

fn json_path(network: &str) -> PathBuf {
    data(&format!("power/{network}/{network}.json"))
}

#[test]
fn truncated_json_names_the_file_and_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(json_path("cigre_lv")).unwrap();
    let cut = dir.path().join("cut.json");
    std::fs::write(&cut, &text[..text.len() / 2]).unwrap();
    let lines_kept = text[..text.len() / 2].lines().count();
    let err = fails(&["power", s(&cut), "--out", s(&dir.path().join("res"))]);
    assert!(err.contains("cut.json"), "{err}");
    assert!(
        err.contains(&format!("line {lines_kept}")),
        "the error names the line where the file ends ({lines_kept}): {err}"
    );
    assert!(!dir.path().join("res").exists(), "nothing written");
    assert!(temp_leftovers(dir.path()).is_empty());
}

#[test]
fn malformed_json_names_the_file_and_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(json_path("example_simple")).unwrap();
    // A syntax error: the comma after the first member removed.
    let pos = text.find(",\n").unwrap();
    let line = text[..pos].lines().count();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, format!("{}{}", &text[..pos], &text[pos + 1..])).unwrap();
    let err = fails(&["power", s(&bad), "--out", s(&dir.path().join("res"))]);
    assert!(err.contains("bad.json"), "{err}");
    assert!(err.contains(&format!("line {}", line + 1)), "{err}");

    // A bad value inside a table: the table's line, the row index and the column are named.
    let vn = "\\\"HV Busbar 2\\\",110.0,";
    assert!(text.contains(vn), "fixture changed");
    let table_line = text[..text.find(vn).unwrap()].lines().count();
    let bad_value = dir.path().join("bad_value.json");
    std::fs::write(
        &bad_value,
        text.replacen(vn, "\\\"HV Busbar 2\\\",\\\"110 kV\\\",", 1),
    )
    .unwrap();
    let err = fails(&["power", s(&bad_value), "--out", s(&dir.path().join("res"))]);
    assert!(err.contains("bad_value.json"), "{err}");
    assert!(
        err.contains(&format!("line {table_line}"))
            && err.contains("table `bus`")
            && err.contains("row index 1")
            && err.contains("column `vn_kv`"),
        "{err}"
    );
    assert!(!dir.path().join("res").exists());
}

#[test]
fn an_existing_output_is_replaced_only_with_force() {
    let dir = tempfile::tempdir().unwrap();
    let input = json_path("simple_mv_open_ring");
    let out = dir.path().join("res");
    ok(&["power", s(&input), "--out", s(&out)]);
    let err = fails(&["power", s(&input), "--out", s(&out)]);
    assert!(err.contains("--force"), "{err}");
    std::fs::write(out.join("res_bus.csv"), "stale").unwrap();
    ok(&["power", s(&input), "--out", s(&out), "--force"]);
    let bus = std::fs::read_to_string(out.join("res_bus.csv")).unwrap();
    assert!(
        bus.starts_with("index,vm_pu,va_degree,p_mw,q_mvar\n"),
        "{bus}"
    );
    // A directory that is not a result directory is never replaced.
    let other = dir.path().join("notes");
    std::fs::create_dir(&other).unwrap();
    std::fs::write(other.join("todo.txt"), "keep me").unwrap();
    let err = fails(&["power", s(&input), "--out", s(&other), "--force"]);
    assert!(
        err.contains("not a directory of power-flow results"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(other.join("todo.txt")).unwrap(),
        "keep me"
    );
    assert!(temp_leftovers(dir.path()).is_empty());
}

/// Rows of one of the network's tables (the embedded DataFrame's index length).
fn table_rows(network: &str, table: &str) -> usize {
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(json_path(network)).unwrap()).unwrap();
    let df: serde_json::Value =
        serde_json::from_str(v["_object"][table]["_object"].as_str().unwrap()).unwrap();
    df["index"].as_array().unwrap().len()
}

#[test]
fn cigre_lv_imports_as_a_power_layer() {
    let dir = tempfile::tempdir().unwrap();
    let scene = dir.path().join("grid.twin");
    ok(&[
        "import",
        s(&json_path("cigre_lv")),
        "--src-crs",
        "EPSG:3067",
        "--out",
        s(&scene),
    ]);
    let info: serde_json::Value =
        serde_json::from_str(&ok(&["info", s(&scene), "--json"])).unwrap();
    let layer = &info["layers"][0];
    assert_eq!(layer["kind"], "infrastructure", "{layer}");
    assert_eq!(layer["source"]["format"], "pandapower JSON");
    let net = &layer["network"];
    assert_eq!(net["kind"], "power", "{net}");
    let (buses, lines, trafos) = (
        table_rows("cigre_lv", "bus"),
        table_rows("cigre_lv", "line"),
        table_rows("cigre_lv", "trafo"),
    );
    assert_eq!((buses, lines, trafos), (44, 37, 3), "the README's counts");
    assert_eq!(net["nodes"], buses, "{net}");
    assert_eq!(net["edges"], lines + trafos, "{net}");
    assert_eq!(layer["features"], buses + lines + trafos);
    // The lines' lengths come from length_km, not from the schematic coordinates.
    let length_km = net["length_km"].as_f64().unwrap();
    assert!(length_km > 1.0 && length_km < 1.4, "{length_km}");
    // Every bus is a point feature with its pandapower index, name and voltage (the scene's extent, with a
    // metre to spare).
    let bbox = |i: usize| info["bbox"][i].as_f64().unwrap();
    let q: serde_json::Value = serde_json::from_str(&ok(&[
        "query",
        s(&scene),
        "--json",
        "--bbox",
        &format!(
            "{},{},{},{}",
            bbox(0) - 1.0,
            bbox(1) - 1.0,
            bbox(2) + 1.0,
            bbox(3) + 1.0
        ),
    ]))
    .unwrap();
    let mut indices: Vec<i64> = q
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["attributes"]["vn_kv"].is_number() && f["attributes"].get("kind").is_none())
        .map(|f| f["attributes"]["pp_index"].as_i64().unwrap())
        .collect();
    indices.sort();
    assert_eq!(indices, (0..buses as i64).collect::<Vec<_>>());
}

#[test]
fn importing_needs_a_crs_and_bus_positions() {
    let dir = tempfile::tempdir().unwrap();
    let scene = dir.path().join("grid.twin");
    let err = fails(&["import", s(&json_path("cigre_lv")), "--out", s(&scene)]);
    assert!(
        err.contains("cigre_lv.json") && err.contains("--src-crs"),
        "{err}"
    );
    // example_simple has no bus geodata: the first bus is named.
    let err = fails(&[
        "import",
        s(&json_path("example_simple")),
        "--src-crs",
        "EPSG:3067",
        "--out",
        s(&scene),
    ]);
    assert!(
        err.contains("example_simple.json") && err.contains("bus 0 (HV Busbar) has no position"),
        "{err}"
    );
    assert!(!scene.exists());
}

#[test]
fn a_broken_network_leaves_the_scene_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let scene = dir.path().join("grid.twin");
    ok(&[
        "import",
        s(&json_path("simple_mv_open_ring")),
        "--src-crs",
        "EPSG:3067",
        "--out",
        s(&scene),
    ]);
    let before = std::fs::read(&scene).unwrap();
    let text = std::fs::read_to_string(json_path("cigre_lv")).unwrap();
    let cut = dir.path().join("cigre_cut.json");
    std::fs::write(&cut, &text[..text.len() * 2 / 3]).unwrap();
    let err = fails(&[
        "import",
        s(&cut),
        "--src-crs",
        "EPSG:3067",
        "--out",
        s(&scene),
        "--append",
    ]);
    assert!(
        err.contains("cigre_cut.json") && err.contains("line "),
        "{err}"
    );
    assert!(
        std::fs::read(&scene).unwrap() == before,
        "the scene file must be byte-identical"
    );
    assert!(temp_leftovers(dir.path()).is_empty());
}

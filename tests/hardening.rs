//! Hostile input found by review (issue "hardening"): each case that once panicked, hung, or gave a silently
//! wrong answer, pinned as a regression test named after the bug.
#![allow(clippy::unwrap_used)]

mod common;
use common::*;
use std::path::{Path, PathBuf};

/// A generated city of 300 buildings and its roads.
fn city(dir: &Path) -> PathBuf {
    let out = dir.join("city.twin");
    ok(&["generate", "--buildings", "300", "--out", s(&out)]);
    out
}

/// The number of features `query --json` returns.
fn count(args: &[&str]) -> usize {
    let out = ok(args);
    serde_json::from_str::<serde_json::Value>(&out)
        .unwrap()
        .as_array()
        .unwrap()
        .len()
}

fn total_features(scene: &Path) -> usize {
    let info: serde_json::Value = serde_json::from_str(&ok(&["info", s(scene), "--json"])).unwrap();
    info["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["features"].as_u64().unwrap() as usize)
        .sum()
}

#[test]
fn query_k_beyond_the_features_and_boxes_beyond_the_world() {
    let dir = tempfile::tempdir().unwrap();
    let scene = city(dir.path());
    let all = total_features(&scene);
    assert!(all > 300, "{all}");
    // Regression: `--k u64::MAX` overflowed `k + 1`; `--k 1e9` allocated 16 GB.
    for k in ["18446744073709551615", "1000000000"] {
        let n = count(&[
            "query",
            s(&scene),
            "--nearest",
            "385000,6672000",
            "--k",
            k,
            "--json",
        ]);
        assert_eq!(n, all, "--k {k}");
    }
    // Regression: a box of ±1e308 overflowed its outline to NaN and found nothing.
    let n = count(&[
        "query",
        s(&scene),
        "--bbox",
        "-1e308,-1e308,1e308,1e308",
        "--json",
    ]);
    assert_eq!(n, all);
    // Regression: most of the globe in EPSG:4326 left the UTM zone's domain and found nothing.
    let n = count(&[
        "query",
        s(&scene),
        "--crs",
        "EPSG:4326",
        "--bbox",
        "-179,-80,179,80",
        "--json",
    ]);
    assert_eq!(n, all);
    // A box elsewhere on the globe finds nothing, without an error.
    let n = count(&[
        "query",
        s(&scene),
        "--crs",
        "EPSG:4326",
        "--bbox",
        "-60,-30,-50,-20",
        "--json",
    ]);
    assert_eq!(n, 0);
}

#[test]
fn nonsense_numbers_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let scene = city(dir.path());
    let gj = dir.path().join("a.geojson");
    std::fs::write(&gj, r#"{"type":"FeatureCollection","features":[]}"#).unwrap();
    let cases: Vec<Vec<&str>> = vec![
        vec!["query", s(&scene), "--point", "0,0", "--tolerance", "-5"],
        vec!["query", s(&scene), "--point", "0,0", "--tolerance", "NaN"],
        vec!["query", s(&scene), "--point", "0,0", "--limit", "0"],
        vec![
            "import",
            s(&gj),
            "--out",
            "x.twin",
            "--storey-height",
            "inf",
        ],
        vec![
            "import",
            s(&gj),
            "--out",
            "x.twin",
            "--default-height",
            "-1",
        ],
        vec!["generate", "--buildings", "100000000000", "--out", "x.twin"],
    ];
    for c in cases {
        let out = citytwin(&c);
        assert_eq!(out.status.code(), Some(2), "{c:?} is a usage error");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
#[cfg(unix)]
fn a_closed_pipe_ends_output_quietly() {
    use std::os::unix::process::ExitStatusExt;
    use std::process::{Command, Stdio};
    // Regression: `citytwin info scene.twin | head -1` panicked on the broken pipe.
    let dir = tempfile::tempdir().unwrap();
    let scene = city(dir.path());
    let mut child = Command::new(env!("CARGO_BIN_EXE_citytwin"))
        .args(["query", s(&scene), "--bbox", "-1e9,-1e9,1e9,1e9"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Close the reading end before the first line is written.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(out.status.signal(), Some(libc::SIGPIPE), "{:?}", out.status);
}

#[test]
#[cfg(unix)]
fn outputs_respect_what_is_at_the_path() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let scene = city(dir.path());
    // Regression: `import --out /dev/full --force` exited 0 and replaced the device with a regular file (here
    // /dev/null, which every Unix has; the rule is the same).
    let gj = dir.path().join("parcels.geojson");
    std::fs::write(
        &gj,
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},
        "geometry":{"type":"Polygon","coordinates":[[[26.94,60.52],[26.95,60.52],[26.95,60.53],[26.94,60.52]]]}}]}"#,
    )
    .unwrap();
    let err = fails(&["generate", "--buildings", "10", "--out", "/dev/null"]);
    assert!(err.contains("not a regular file"), "{err}");
    assert!(!std::fs::metadata("/dev/null").unwrap().is_file());
    // Regression: a symlinked --out became a regular file and the real scene was never updated.
    let real = dir.path().join("real.twin");
    std::fs::copy(&scene, &real).unwrap();
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).unwrap();
    let link = dir.path().join("link.twin");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    ok(&["import", s(&gj), "--out", s(&link), "--append"]);
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    let info = ok(&["info", s(&real)]);
    assert!(info.contains("parcels"), "{info}");
    // Regression: every rewritten scene ended up mode 0600.
    let mode = std::fs::metadata(&real).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o640);
    // Regression: export overwrote an existing file without --force.
    let gpkg = dir.path().join("b.gpkg");
    std::fs::write(&gpkg, b"keep me").unwrap();
    let err = fails(&[
        "export",
        s(&scene),
        "--layer",
        "buildings",
        "--out",
        s(&gpkg),
    ]);
    assert!(err.contains("--force"), "{err}");
    assert_eq!(std::fs::read(&gpkg).unwrap(), b"keep me");
    // Regression: `render --out x.jpg` wrote PNG bytes under a .jpg name.
    let err = fails(&["render", s(&scene), "--out", s(&dir.path().join("x.jpg"))]);
    assert!(err.contains(".png"), "{err}");
    assert!(!dir.path().join("x.jpg").exists());
    assert!(temp_leftovers(dir.path()).is_empty());
}

#[test]
fn web_mercator_is_refused_with_the_utm_zone() {
    // Regression: `--crs EPSG:3857` was accepted and every length came out 2.03× too long at Kotka.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("k.twin");
    let err = fails(&[
        "import",
        s(&data("osm/pyrosm_test_kotka.osm.pbf")),
        "--out",
        s(&out),
        "--crs",
        "EPSG:3857",
    ]);
    assert!(err.contains("EPSG:32635") && err.contains("2.0"), "{err}");
    assert!(!out.exists());
    // The right zone, and the national grid, are fine.
    for crs in ["EPSG:32635", "EPSG:3067"] {
        ok(&[
            "import",
            s(&data("osm/pyrosm_test_kotka.osm.pbf")),
            "--out",
            s(&out),
            "--crs",
            crs,
            "--force",
        ]);
    }
}

#[test]
fn messages_say_each_thing_once_and_in_words() {
    let dir = tempfile::tempdir().unwrap();
    // Regression: "nope.geojson: No such file or directory (os error 2): No such file or directory (os error 2)".
    let err = fails(&[
        "import",
        s(&dir.path().join("nope.geojson")),
        "--out",
        s(&dir.path().join("x.twin")),
    ]);
    assert_eq!(err.matches("No such file").count(), 1, "{err}");
    let err = fails(&["info", s(&dir.path().join("nope.twin"))]);
    assert_eq!(err.matches("No such file").count(), 1, "{err}");
    // Regression: a scene file given to import got GDAL's "returned a NULL pointer".
    let scene = city(dir.path());
    let err = fails(&["import", s(&scene), "--out", s(&dir.path().join("y.twin"))]);
    assert!(
        err.contains("citytwin scene file") && !err.contains("NULL"),
        "{err}"
    );
    // Regression: an EPANET file starting with a section the detector did not list was "corrupt GeoJSON".
    let inp = dir.path().join("backdrop.inp");
    let net1 = std::fs::read_to_string(data("epanet/Net1.inp")).unwrap();
    std::fs::write(&inp, format!("[BACKDROP]\n UNITS None\n\n{net1}")).unwrap();
    let out = citytwin(&["import", s(&inp), "--out", s(&dir.path().join("w.twin"))]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("GeoJSON"), "{err}");
    // Regression: "nothing to import: the inputs hold no features" when every feature was skipped.
    let bow = dir.path().join("bow.geojson");
    std::fs::write(
        &bow,
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"building":"yes"},
        "geometry":{"type":"Polygon","coordinates":[[[0,0],[2,2],[2,0],[0,2],[0,0]]]}}]}"#,
    )
    .unwrap();
    let err = fails(&["import", s(&bow), "--out", s(&dir.path().join("b.twin"))]);
    assert!(
        err.contains("all 1 features skipped: 1 self-intersecting ring"),
        "{err}"
    );
    // A truncated FlatGeobuf: GDAL printed "ERROR 1: Fatal error parsing feature" and the import kept the features
    // before the break as if the layer ended there; now the import fails, naming the file, in one message.
    let fgb = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fuzz/corpus/gdal/buildings.fgb"
    ))
    .unwrap();
    let cut = dir.path().join("cut.fgb");
    std::fs::write(&cut, &fgb[..3000]).unwrap();
    let err = fails(&["import", s(&cut), "--out", s(&dir.path().join("c.twin"))]);
    assert!(
        err.contains("cut.fgb: corrupt or truncated FlatGeobuf") && !err.contains("ERROR 1"),
        "{err}"
    );
    // Regression: Rust debug output reached users for a scene whose content does not decode.
    let mut bytes = std::fs::read(&scene).unwrap();
    for b in &mut bytes[40..80] {
        *b = 0xfe;
    }
    let crc = crc32fast::hash(&bytes[24..]);
    bytes[20..24].copy_from_slice(&crc.to_le_bytes());
    let bad = dir.path().join("bad.twin");
    std::fs::write(&bad, &bytes).unwrap();
    let err = fails(&["info", s(&bad)]);
    assert!(
        err.contains("corrupt") && !err.contains('{') && !err.contains("type_name"),
        "{err}"
    );
}

#[test]
fn data_across_the_antimeridian_gets_its_own_utm_zone() {
    // Regression: data crossing 180° landed in UTM zone 31 (the mean longitude is 0°), the origin outside it.
    // Two 100 m-ish squares on Taveuni (Fiji), one each side of the antimeridian.
    let dir = tempfile::tempdir().unwrap();
    let gj = dir.path().join("taveuni.geojson");
    std::fs::write(
        &gj,
        r#"{"type":"FeatureCollection","features":[
        {"type":"Feature","properties":{"building":"yes"},"geometry":{"type":"Polygon","coordinates":[[[179.999,-16.8],[179.9999,-16.8],[179.9999,-16.7991],[179.999,-16.7991],[179.999,-16.8]]]}},
        {"type":"Feature","properties":{"building":"yes"},"geometry":{"type":"Polygon","coordinates":[[[-179.9999,-16.8],[-179.999,-16.8],[-179.999,-16.7991],[-179.9999,-16.7991],[-179.9999,-16.8]]]}}]}"#,
    )
    .unwrap();
    let scene = dir.path().join("t.twin");
    ok(&["import", s(&gj), "--out", s(&scene)]);
    let info: serde_json::Value =
        serde_json::from_str(&ok(&["info", s(&scene), "--json"])).unwrap();
    // The data straddles the boundary of zones 60 and 1: either serves.
    assert!(
        info["crs"] == "EPSG:32760" || info["crs"] == "EPSG:32701",
        "{info}"
    );
    // Its WGS 84 box is written the RFC 7946 way, west edge east of the east edge.
    let w = info["bbox_wgs84"].as_array().unwrap();
    assert!(
        w[0].as_f64().unwrap() > 179.9 && w[2].as_f64().unwrap() < -179.9,
        "{info}"
    );
    // Both buildings lie within a few hundred metres of the origin.
    let b = info["bbox"].as_array().unwrap();
    let o = info["origin"].as_array().unwrap();
    let far = (0..2).any(|i| {
        let (lo, hi, at) = (
            b[i].as_f64().unwrap(),
            b[i + 2].as_f64().unwrap(),
            o[i].as_f64().unwrap(),
        );
        (lo - at).abs() > 1_000.0 || (hi - at).abs() > 1_000.0
    });
    assert!(!far, "{info}");
    // A layer spanning the whole globe has no local frame: refused, with a way out.
    let world = dir.path().join("world.geojson");
    std::fs::write(
        &world,
        r#"{"type":"Feature","properties":{"landuse":"x"},"geometry":{"type":"Polygon","coordinates":[[[-179,-60],[179,-60],[179,60],[0,70],[-179,60],[-179,-60]]]}}"#,
    )
    .unwrap();
    let err = fails(&["import", s(&world), "--out", s(&dir.path().join("w.twin"))]);
    assert!(err.contains("--crs") && err.contains("longitude"), "{err}");
}

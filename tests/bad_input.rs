//! Bad input: a clear error naming the file, exit code 1, and the existing scene untouched.
#![allow(clippy::unwrap_used)]

mod common;
use common::*;
use std::path::Path;

fn scene_with_one_layer(dir: &Path) -> std::path::PathBuf {
    let gj = dir.join("parcels.geojson");
    std::fs::write(
        &gj,
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"id":1},
        "geometry":{"type":"Polygon","coordinates":[[[26.94,60.52],[26.95,60.52],[26.95,60.53],[26.94,60.52]]]}}]}"#,
    )
    .unwrap();
    let out = dir.join("scene.twin");
    ok(&["import", s(&gj), "--out", s(&out)]);
    out
}

fn assert_untouched(scene: &Path, before: &[u8]) {
    assert_eq!(
        std::fs::read(scene).unwrap(),
        before,
        "the scene file must be unchanged"
    );
    let leftovers = temp_leftovers(scene.parent().unwrap());
    assert!(
        leftovers.is_empty(),
        "no temporary files left behind: {leftovers:?}"
    );
}

#[test]
fn truncated_pbf() {
    let dir = tempfile::tempdir().unwrap();
    let scene = scene_with_one_layer(dir.path());
    let before = std::fs::read(&scene).unwrap();
    let pbf = std::fs::read(data("osm/pyrosm_test_kotka.osm.pbf")).unwrap();
    let cut = dir.path().join("cut.osm.pbf");
    std::fs::write(&cut, &pbf[..pbf.len() / 2]).unwrap();
    let err = fails(&["import", s(&cut), "--out", s(&scene), "--append"]);
    assert!(
        err.contains("cut.osm.pbf") && err.contains("truncated"),
        "{err}"
    );
    assert_untouched(&scene, &before);
}

#[test]
fn truncated_geojson_and_wrong_extension() {
    let dir = tempfile::tempdir().unwrap();
    let scene = scene_with_one_layer(dir.path());
    let before = std::fs::read(&scene).unwrap();
    let cut = dir.path().join("cut.geojson");
    std::fs::write(&cut, r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Point","coord"#).unwrap();
    let err = fails(&["import", s(&cut), "--out", s(&scene), "--append"]);
    assert!(
        err.contains("cut.geojson") && err.contains("GeoJSON"),
        "{err}"
    );
    let shp = dir.path().join("roads.shp");
    std::fs::copy(data("osm/pyrosm_test_kotka.osm.pbf"), &shp).unwrap();
    let err = fails(&["import", s(&shp), "--out", s(&scene), "--append"]);
    assert!(
        err.contains("roads.shp") && err.contains("OSM PBF"),
        "{err}"
    );
    assert_untouched(&scene, &before);
}

#[test]
fn unknown_crs_and_missing_crs() {
    let dir = tempfile::tempdir().unwrap();
    let scene = scene_with_one_layer(dir.path());
    let before = std::fs::read(&scene).unwrap();
    let gj = dir.path().join("parcels.geojson");
    let err = fails(&[
        "import",
        s(&gj),
        "--out",
        s(&scene),
        "--append",
        "--src-crs",
        "EPSG:999999",
        "--layer",
        "x",
    ]);
    assert!(
        err.contains("parcels.geojson") && err.contains("EPSG:999999"),
        "{err}"
    );
    // A shapefile without .prj has no CRS.
    let shp = dir.path().join("noprj.shp");
    let drv = gdal::DriverManager::get_driver_by_name("ESRI Shapefile").unwrap();
    {
        use gdal::vector::LayerAccess;
        let mut ds = drv.create_vector_only(&shp).unwrap();
        let mut l = ds
            .create_layer(gdal::vector::LayerOptions {
                name: "noprj",
                ty: gdal::vector::OGRwkbGeometryType::wkbPoint,
                ..Default::default()
            })
            .unwrap();
        l.create_feature(gdal::vector::Geometry::from_wkt("POINT (1 2)").unwrap())
            .unwrap();
    }
    let err = fails(&["import", s(&shp), "--out", s(&scene), "--append"]);
    assert!(
        err.contains("noprj.shp") && err.contains("--src-crs"),
        "{err}"
    );
    let err = fails(&[
        "import",
        s(&gj),
        "--out",
        s(&scene),
        "--force",
        "--crs",
        "EPSG:4326",
    ]);
    assert!(
        err.contains("projected"),
        "a scene frame must be projected: {err}"
    );
    assert_untouched(&scene, &before);
}

#[test]
fn invalid_geometries_are_counted_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let gj = dir.path().join("buildings.geojson");
    std::fs::write(
        &gj,
        r#"{"type":"FeatureCollection","features":[
        {"type":"Feature","properties":{"building":"yes"},"geometry":{"type":"Polygon","coordinates":[[[26.94,60.52],[26.941,60.52],[26.941,60.521]]]}},
        {"type":"Feature","properties":{"building":"yes"},"geometry":{"type":"Polygon","coordinates":[[[26.94,60.52],[26.942,60.522],[26.942,60.52],[26.94,60.522],[26.94,60.52]]]}},
        {"type":"Feature","properties":{"building":"yes"},"geometry":{"type":"Polygon","coordinates":[[[26.94,60.52],[26.941,60.52],[26.94,60.52]]]}},
        {"type":"Feature","properties":{"building":"yes"},"geometry":{"type":"Polygon","coordinates":[]}},
        {"type":"Feature","properties":{"building":"yes"},"geometry":{"type":"Point","coordinates":[26.94,60.52]}}
        ]}"#,
    )
    .unwrap();
    let out = dir.path().join("b.twin");
    ok(&["import", s(&gj), "--out", s(&out)]);
    let info: serde_json::Value = serde_json::from_str(&ok(&["info", s(&out), "--json"])).unwrap();
    let l = &info["layers"][0];
    assert_eq!(l["features"], 1);
    assert_eq!(l["repaired"]["closed ring"], 1);
    assert_eq!(l["skipped"]["self-intersecting ring"], 1);
    assert_eq!(l["skipped"]["fewer than 3 distinct points"], 1);
    assert_eq!(l["skipped"]["empty geometry"], 1);
    assert_eq!(l["skipped"]["unsupported geometry type for layer"], 1);
}

#[test]
fn bad_scene_files_and_names() {
    let dir = tempfile::tempdir().unwrap();
    let scene = scene_with_one_layer(dir.path());
    let err = fails(&["info", s(&dir.path().join("missing.twin"))]);
    assert!(err.contains("missing.twin"), "{err}");
    let mut bytes = std::fs::read(&scene).unwrap();
    bytes[8..12].copy_from_slice(&99u32.to_le_bytes());
    let newer = dir.path().join("newer.twin");
    std::fs::write(&newer, &bytes).unwrap();
    let err = fails(&["info", s(&newer)]);
    assert!(
        err.contains("newer.twin") && err.contains("version 99"),
        "{err}"
    );
    // A scene from the first format version (untyped networks) is refused with the way out, never as corrupt.
    bytes[8..12].copy_from_slice(&1u32.to_le_bytes());
    let older = dir.path().join("older.twin");
    std::fs::write(&older, &bytes).unwrap();
    let err = fails(&["info", s(&older)]);
    assert!(
        err.contains("older.twin")
            && err.contains("re-import this file")
            && !err.contains("corrupt"),
        "{err}"
    );
    let err = fails(&[
        "export",
        s(&scene),
        "--layer",
        "nope",
        "--out",
        s(&dir.path().join("x.gpkg")),
    ]);
    assert!(err.contains("nope") && err.contains("parcels"), "{err}");
    let err = fails(&[
        "export",
        s(&scene),
        "--layer",
        "parcels",
        "--out",
        s(&dir.path().join("x.xyz")),
    ]);
    assert!(err.contains("x.xyz"), "{err}");
    // Importing over an existing scene without --append or --force is refused.
    let before = std::fs::read(&scene).unwrap();
    let err = fails(&[
        "import",
        s(&dir.path().join("parcels.geojson")),
        "--out",
        s(&scene),
    ]);
    assert!(err.contains("--append"), "{err}");
    assert_untouched(&scene, &before);
    let out = citytwin(&["query", s(&scene)]);
    assert_eq!(out.status.code(), Some(2), "usage errors exit with 2");
}

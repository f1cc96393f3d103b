//! CityJSON samples: Delft LOD1 solids, Zürich LOD2 building parts, 3DBAG multi-LOD.
#![allow(clippy::unwrap_used)]

mod common;
use citytwin_engine::{store, HeightSource, ValueRef};
use common::*;

#[test]
fn delft_imports_160_buildings_with_heights_from_the_solids() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("delft.twin");
    ok(&["import", s(&data("cityjson/delft.json")), "--out", s(&out)]);
    let scene = store::load(&out).unwrap();
    assert_eq!(
        scene.frame.crs, "EPSG:32631",
        "RD New data lands in UTM 31N by default"
    );
    let l = scene.layer("delft").unwrap();
    assert_eq!(l.features.len(), 160);
    assert_eq!(l.report.skipped.get("not a building: Road"), Some(&143));
    for f in &l.features {
        let b = f.building.as_ref().unwrap();
        assert_eq!(b.height_source, HeightSource::Geometry);
        assert!(b.height > 0.0 && b.height < 100.0, "{}", b.height);
        let s = b.surfaces.as_ref().unwrap();
        assert_eq!(s.lod, "1");
        assert!(s.polygons.len() >= 5, "a closed solid");
    }
    // The solid's top matches the BGT/BAG measured height to within a metre for most buildings.
    let close = l
        .features
        .iter()
        .filter(|f| {
            let b = f.building.as_ref().unwrap();
            l.attribute(f, "measuredHeight")
                .and_then(ValueRef::as_f64)
                .is_some_and(|m| (b.base_elevation + b.height - m).abs() < 1.0)
        })
        .count();
    assert!(close > 100, "{close} of 160 tops agree with measuredHeight");
}

#[test]
fn zurich_parts_and_multi_lod() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("z.twin");
    ok(&[
        "import",
        s(&data("cityjson/zurich_subset_lod2.json")),
        "--out",
        s(&out),
    ]);
    let scene = store::load(&out).unwrap();
    assert_eq!(scene.frame.crs, "EPSG:32632");
    let l = &scene.layers[0];
    assert_eq!(
        l.features.len(),
        161,
        "geometry lives on the 161 BuildingParts"
    );
    assert_eq!(
        l.report
            .skipped
            .get("no geometry of its own (its parts are imported)"),
        Some(&49)
    );
    assert!(l
        .features
        .iter()
        .all(|f| l.attribute(f, "parent").is_some()));

    let out = dir.path().join("m.twin");
    ok(&[
        "import",
        s(&data("cityjson/multi_lod.json")),
        "--out",
        s(&out),
        "--src-crs",
        "EPSG:7415",
    ]);
    let scene = store::load(&out).unwrap();
    let l = &scene.layers[0];
    assert_eq!(l.features.len(), 10);
    assert!(
        l.features
            .iter()
            .all(|f| f.building.as_ref().unwrap().surfaces.as_ref().unwrap().lod == "2.2"),
        "best LOD kept"
    );
}

#[test]
fn cityjson_without_crs_asks_for_one() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.twin");
    let err = fails(&[
        "import",
        s(&data("cityjson/rotterdam_subset.json")),
        "--out",
        s(&out),
    ]);
    assert!(
        err.contains("rotterdam_subset.json") && err.contains("--src-crs"),
        "{err}"
    );
    assert!(!out.exists());
    ok(&[
        "import",
        s(&data("cityjson/rotterdam_subset.json")),
        "--out",
        s(&out),
        "--src-crs",
        "EPSG:28992",
    ]);
    assert_eq!(store::load(&out).unwrap().layers[0].features.len(), 16);
}

//! GeoTIFF terrain: imported through GDAL, reprojected into the scene, and used for building base elevations.
#![allow(clippy::unwrap_used)]

mod common;
use citytwin_engine::store;
use common::*;
use gdal::raster::Buffer;

/// Writes a DEM in EPSG:3067 over Kotka: height rises 1 m per 10 m eastwards from 0 at x = 494000.
fn write_dem(path: &std::path::Path) {
    let drv = gdal::DriverManager::get_driver_by_name("GTiff").unwrap();
    let (cols, rows) = (100usize, 80usize);
    let mut ds = drv
        .create_with_band_type::<f32, _>(path, cols, rows, 1)
        .unwrap();
    let (x0, y0, cell) = (494_000.0, 6_713_000.0, 50.0);
    ds.set_geo_transform(&[x0, cell, 0.0, y0, 0.0, -cell])
        .unwrap();
    ds.set_spatial_ref(&gdal::spatial_ref::SpatialRef::from_epsg(3067).unwrap())
        .unwrap();
    let mut data = Vec::with_capacity(cols * rows);
    for _r in 0..rows {
        for c in 0..cols {
            data.push(((c as f64 + 0.5) * cell / 10.0) as f32);
        }
    }
    let mut band = ds.rasterband(1).unwrap();
    let mut buf = Buffer::new((cols, rows), data);
    band.write((0, 0), (cols, rows), &mut buf).unwrap();
}

#[test]
fn dem_sets_building_bases() {
    let dir = tempfile::tempdir().unwrap();
    let scene = kotka(dir.path());
    let dem = dir.path().join("dem.tif");
    write_dem(&dem);
    let out = ok(&["import", s(&dem), "--out", s(&scene), "--append"]);
    assert!(out.contains("layer dem (framework)"), "{out}");
    let sc = store::load(&scene).unwrap();
    let t = sc.terrain().unwrap();
    let to_local = sc.frame.to_local("EPSG:3067").unwrap();
    let (x, y) = to_local.point(497_000.0, 6_711_000.0).unwrap();
    let h = t.sample(x, y).unwrap();
    assert!(
        (h - 300.0).abs() < 3.0,
        "ramp height at x=497000 is 300 m: {h}"
    );
    let b = sc.layer("buildings").unwrap();
    let bases: Vec<f64> = b
        .features
        .iter()
        .map(|f| f.building.as_ref().unwrap().base_elevation)
        .collect();
    assert!(
        bases.iter().all(|h| *h > 100.0 && *h < 500.0),
        "every building stands on the DEM"
    );
    // Network nodes take their elevation from the terrain too: the ramp, read where each node is.
    let roads = sc.layer("roads").unwrap().network.as_ref().unwrap();
    let from_local = sc.frame.from_local("EPSG:3067").unwrap();
    for n in &roads.nodes {
        let (x, _) = from_local.point(n.position[0], n.position[1]).unwrap();
        let want = (x - 494_000.0) / 10.0;
        let got = n.elevation_m.unwrap();
        assert!(
            (got - want).abs() < 6.0,
            "node {}: {got} m, the ramp gives {want}",
            n.id
        );
        assert!(!n.elevation_from_source);
    }
    let info: serde_json::Value =
        serde_json::from_str(&ok(&["info", s(&scene), "--json"])).unwrap();
    let dem_layer = info["layers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["name"] == "dem")
        .unwrap();
    assert!(dem_layer["terrain"]["cols"].as_u64().unwrap() > 50);
}

#[test]
fn large_rasters_are_averaged_down_to_the_cell_budget() {
    // Regression: a 20000 × 20000 GeoTIFF was read whole (1.6 GB of heights) and did not finish; a raster larger
    // than --max-terrain-cells is now averaged down on read (here 100 × 80 cells within 2,000).
    let dir = tempfile::tempdir().unwrap();
    let dem = dir.path().join("dem.tif");
    write_dem(&dem);
    let scene = dir.path().join("t.twin");
    let out = ok(&[
        "import",
        s(&dem),
        "--out",
        s(&scene),
        "--max-terrain-cells",
        "2000",
    ]);
    assert!(out.contains("averaged 100×80 cells to 50×40"), "{out}");
    let sc = store::load(&scene).unwrap();
    let t = sc.terrain().unwrap();
    assert!(t.cols * t.rows <= 2_500, "{}×{}", t.cols, t.rows);
    // A linear ramp survives averaging: still 300 m at x = 497000.
    let (x, y) = sc
        .frame
        .to_local("EPSG:3067")
        .unwrap()
        .point(497_000.0, 6_711_000.0)
        .unwrap();
    let h = t.sample(x, y).unwrap();
    assert!((h - 300.0).abs() < 6.0, "{h}");
}

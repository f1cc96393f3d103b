//! The Kotka OSM extract end to end: import, info, query, export and re-import.
#![allow(clippy::unwrap_used)]

mod common;
use citytwin_engine::{spatial, store, HeightSource, LinkId, RoadClass, ValueRef};
use common::*;
use geo::{CoordsIter, Distance, Euclidean, Intersects};
use std::collections::BTreeSet;

#[test]
fn imports_all_buildings_and_the_road_graph() {
    let dir = tempfile::tempdir().unwrap();
    let scene = store::load(&kotka(dir.path())).unwrap();
    assert_eq!(scene.frame.crs, "EPSG:32635", "UTM zone 35N for Kotka");

    let b = scene.layer("buildings").unwrap();
    assert_eq!(
        b.report.source_objects, 2219,
        "osmium counts 2,219 building ways"
    );
    assert_eq!(b.features.len() as u64 + b.report.skipped_total(), 2219);
    assert!(
        b.features.len() > 2100,
        "only ways cut by the extract boundary may be skipped"
    );
    let levels = b
        .features
        .iter()
        .filter(|f| f.building.as_ref().unwrap().height_source == HeightSource::Levels)
        .count();
    assert_eq!(levels, 10, "building:levels is on 10 buildings");

    let roads = scene.layer("roads").unwrap();
    assert_eq!(
        roads.report.source_objects, 343,
        "osmium counts 343 highway ways"
    );
    let ways: BTreeSet<i64> = roads
        .features
        .iter()
        .filter_map(|f| match roads.attribute(f, "osm_id") {
            Some(ValueRef::Int(i)) => Some(i),
            _ => None,
        })
        .collect();
    assert_eq!(
        ways.len() as u64 + roads.report.skipped_total(),
        343,
        "every way is imported or skipped with a reason"
    );
    let net = roads.network.as_ref().unwrap();
    assert_eq!(
        net.edges.len(),
        roads.features.len(),
        "one edge per segment feature"
    );
    for e in &net.edges {
        let f = roads.feature(e.feature).unwrap();
        let geo_types::Geometry::LineString(ls) = &f.geometry else {
            panic!("edges are lines")
        };
        let (a, z) = (ls.0[0], ls.0[ls.0.len() - 1]);
        let (na, nz) = (
            net.nodes[e.from.0 as usize].position,
            net.nodes[e.to.0 as usize].position,
        );
        assert!((a.x - na[0]).abs() < 1e-6 && (a.y - na[1]).abs() < 1e-6);
        assert!((z.x - nz[0]).abs() < 1e-6 && (z.y - nz[1]).abs() < 1e-6);
        assert!(e.length_m > 0.0);
    }
    // Junctions are shared: far fewer nodes than 2 per edge, and the graph is mostly one component.
    assert!(net.nodes.len() < net.edges.len() * 2);
    assert!(net.connected_components() < 10);
    let road = |e: &citytwin_engine::Edge| e.props.road().cloned().unwrap();
    let motorway = net
        .edges
        .iter()
        .find(|e| road(e).class == RoadClass::Motorway)
        .unwrap();
    assert_eq!(
        (road(motorway).lanes_forward, road(motorway).lanes_backward),
        (2, 0),
        "motorways are oneway, two lanes by default"
    );
    // Footways and cycleways are in the graph but carry no cars: they have no car links.
    let links = net.links();
    let footway = net
        .edges
        .iter()
        .find(|e| road(e).class == RoadClass::Footway)
        .unwrap();
    assert!(
        !links.allowed(LinkId::new(footway.id, false))
            && !links.allowed(LinkId::new(footway.id, true))
    );
    let residential = net
        .edges
        .iter()
        .filter(|e| road(e).class == RoadClass::Residential)
        .count();
    assert!(residential > 50);
    for l in links.iter() {
        assert_eq!(net.link_from(l), net.link_to(l.reverse()));
        assert!(links.out(net.link_from(l)).contains(&l));
        assert!(links.inn(net.link_to(l)).contains(&l));
    }

    let power = scene.layer("power").unwrap();
    assert!(power
        .network
        .as_ref()
        .unwrap()
        .edges
        .iter()
        .any(|e| matches!(&e.props, citytwin_engine::EdgeProps::Power(p) if p.voltage_v == Some(110_000.0))));
}

#[test]
fn info_json_has_the_documented_shape() {
    let dir = tempfile::tempdir().unwrap();
    let scene = kotka(dir.path());
    let info: serde_json::Value =
        serde_json::from_str(&ok(&["info", s(&scene), "--json"])).unwrap();
    assert_eq!(info["crs"], "EPSG:32635");
    assert_eq!(info["origin"].as_array().unwrap().len(), 2);
    let layers = info["layers"].as_array().unwrap();
    let b = layers.iter().find(|l| l["name"] == "buildings").unwrap();
    assert_eq!(b["kind"], "buildings");
    assert_eq!(b["bbox"].as_array().unwrap().len(), 4);
    let skipped: u64 = b["skipped"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(b["features"].as_u64().unwrap() + skipped, 2219);
    let w = info["bbox_wgs84"].as_array().unwrap();
    assert!(
        (w[0].as_f64().unwrap() - 26.93).abs() < 0.01
            && (w[3].as_f64().unwrap() - 60.54).abs() < 0.01
    );
    let text = ok(&["info", s(&scene)]);
    assert!(text.contains("EPSG:32635") && text.contains("missing nodes"));
}

#[test]
fn queries_equal_brute_force() {
    let dir = tempfile::tempdir().unwrap();
    let path = kotka(dir.path());
    let scene = store::load(&path).unwrap();
    let b = scene.layer("buildings").unwrap();
    let bb = b.bbox().unwrap();
    for i in 0..20 {
        let t = i as f64 / 20.0;
        let (x, y) = (
            bb[0] + t * (bb[2] - bb[0]),
            bb[1] + (1.0 - t) * (bb[3] - bb[1]),
        );
        let rect = geo_types::Rect::new((x - 80.0, y - 50.0), (x + 120.0, y + 60.0));
        let got: Vec<u64> = spatial::query_rect(b, rect)
            .iter()
            .map(|f| f.id.0)
            .collect();
        let want: Vec<u64> = b
            .features
            .iter()
            .filter(|f| f.geometry.intersects(&rect))
            .map(|f| f.id.0)
            .collect();
        assert_eq!(got, want);
        let p = geo_types::Point::new(x, y);
        let got: Vec<(u64, f64)> = spatial::nearest(b, [x, y], 7)
            .iter()
            .map(|h| (h.feature.id.0, h.distance))
            .collect();
        let mut all: Vec<(u64, f64)> = b
            .features
            .iter()
            .map(|f| (f.id.0, Euclidean.distance(&p, &f.geometry)))
            .collect();
        all.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        all.truncate(7);
        assert_eq!(got, all);
    }
    // The CLI's answer in lon/lat is the same set.
    let q: serde_json::Value = serde_json::from_str(&ok(&[
        "query",
        s(&path),
        "--bbox",
        "26.94,60.525,26.95,60.53",
        "--crs",
        "EPSG:4326",
        "--layer",
        "buildings",
        "--json",
    ]))
    .unwrap();
    let rows = q.as_array().unwrap();
    assert!(!rows.is_empty());
    assert!(rows
        .iter()
        .all(|r| r["layer"] == "buildings" && r["attributes"]["osm_id"].is_i64()));
    let n: serde_json::Value = serde_json::from_str(&ok(&[
        "query",
        s(&path),
        "--nearest",
        "26.945,60.527",
        "--crs",
        "EPSG:4326",
        "--k",
        "5",
        "--json",
    ]))
    .unwrap();
    let d: Vec<f64> = n
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["distance"].as_f64().unwrap())
        .collect();
    assert_eq!(d.len(), 5);
    assert!(d.windows(2).all(|w| w[0] <= w[1]), "sorted by distance");
}

/// Exports buildings through GDAL, re-imports them in another CRS, and compares every vertex.
#[test]
fn export_and_reimport_lands_within_a_centimetre() {
    let dir = tempfile::tempdir().unwrap();
    let a_path = kotka(dir.path());
    let a = store::load(&a_path).unwrap();
    let ab = a.layer("buildings").unwrap();
    for ext in ["gpkg", "fgb", "geojson"] {
        let out = dir.path().join(format!("buildings.{ext}"));
        ok(&[
            "export",
            s(&a_path),
            "--layer",
            "buildings",
            "--out",
            s(&out),
        ]);
        let b_path = dir.path().join(format!("b_{ext}.twin"));
        ok(&[
            "import",
            s(&out),
            "--out",
            s(&b_path),
            "--crs",
            "EPSG:3067",
            "--layer",
            "buildings",
        ]);
        let b = store::load(&b_path).unwrap();
        assert_eq!(b.frame.crs, "EPSG:3067");
        let bb = b.layer("buildings").unwrap();
        assert_eq!(
            bb.features.len(),
            ab.features.len(),
            "{ext}: every building comes back"
        );
        assert_eq!(bb.report.skipped_total(), 0, "{ext}");
        // B's frame → A's frame through PROJ directly.
        let proj = proj::Proj::new_known_crs("EPSG:3067", "EPSG:32635", None).unwrap();
        let mut worst: f64 = 0.0;
        for fb in &bb.features {
            let Some(ValueRef::Int(id)) = bb.attribute(fb, "ct_id") else {
                panic!("{ext}: ct_id kept")
            };
            let fa = ab.feature(citytwin_engine::FeatureId(id as u64)).unwrap();
            assert_eq!(
                fa.geometry.coords_count(),
                fb.geometry.coords_count(),
                "{ext}: same vertices"
            );
            for (ca, cb) in fa.geometry.coords_iter().zip(fb.geometry.coords_iter()) {
                let (x, y) = proj
                    .convert((cb.x + b.frame.origin[0], cb.y + b.frame.origin[1]))
                    .unwrap();
                let d = ((x - a.frame.origin[0] - ca.x).powi(2)
                    + (y - a.frame.origin[1] - ca.y).powi(2))
                .sqrt();
                worst = worst.max(d);
            }
            let (ha, hb) = (fa.building.as_ref().unwrap(), fb.building.as_ref().unwrap());
            assert_eq!(
                bb.attribute(fb, "ct_hsrc").and_then(ValueRef::as_str),
                Some(ha.height_source.as_str())
            );
            assert!(
                (bb.attribute(fb, "ct_height")
                    .and_then(ValueRef::as_f64)
                    .unwrap()
                    - ha.height)
                    .abs()
                    < 1e-9
            );
            assert!(hb.height > 0.0);
        }
        assert!(worst < 0.01, "{ext}: worst vertex error {worst} m");
    }
}

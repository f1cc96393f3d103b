//! `citytwin info`: what a scene holds.

use super::{absolute_bbox, load, wgs84_bbox};
use crate::cli::InfoArgs;
use anyhow::Result;
use citytwin_engine::{Layer, Scene};
use serde_json::{json, Map, Value as Json};
use std::collections::BTreeMap;

fn height_sources(layer: &Layer) -> BTreeMap<&'static str, u64> {
    let mut m = BTreeMap::new();
    for b in layer.features.iter().filter_map(|f| f.building.as_ref()) {
        *m.entry(b.height_source.as_str()).or_default() += 1;
    }
    m
}

fn layer_json(scene: &Scene, l: &Layer) -> Json {
    let mut o = Map::new();
    o.insert("name".into(), json!(l.name));
    o.insert("kind".into(), json!(l.kind.as_str()));
    o.insert("features".into(), json!(l.features.len()));
    let bbox = l.bbox();
    o.insert("bbox".into(), json!(bbox.map(|b| absolute_bbox(scene, b))));
    o.insert(
        "bbox_wgs84".into(),
        json!(bbox.and_then(|b| wgs84_bbox(scene, b))),
    );
    o.insert(
        "source".into(),
        json!({"path": l.source.path, "format": l.source.format, "crs": l.source.crs}),
    );
    o.insert("source_objects".into(), json!(l.report.source_objects));
    o.insert("skipped".into(), json!(l.report.skipped));
    o.insert("repaired".into(), json!(l.report.repaired));
    let hs = height_sources(l);
    if !hs.is_empty() {
        o.insert("height_sources".into(), json!(hs));
    }
    if let Some(n) = &l.network {
        let len = n.edges.iter().fold(0.0, |acc, e| acc + e.length_m);
        o.insert(
            "network".into(),
            json!({"kind": n.kind.as_str(), "nodes": n.nodes.len(), "edges": n.edges.len(),
                   "links": n.links().iter().count(), "turns": n.turns.as_ref().map(Vec::len),
                   "components": n.connected_components(), "length_km": len / 1000.0}),
        );
    }
    if let Some(u) = &l.utility {
        o.insert("model".into(), json!(u.summary()));
    }
    if let Some(t) = &l.terrain {
        let (lo, hi) = t.height_range().unwrap_or((f64::NAN, f64::NAN));
        o.insert(
            "terrain".into(),
            json!({"cols": t.cols, "rows": t.rows, "cell_size_m": t.cell_size, "min_elevation_m": lo, "max_elevation_m": hi}),
        );
    }
    Json::Object(o)
}

pub fn run(a: InfoArgs) -> Result<()> {
    let scene = load(&a.scene)?;
    let bbox = scene.bbox();
    if a.json {
        let out = json!({
            "scene": a.scene.display().to_string(),
            "crs": scene.frame.crs,
            "origin": scene.frame.origin,
            "bbox": bbox.map(|b| absolute_bbox(&scene, b)),
            "bbox_wgs84": bbox.and_then(|b| wgs84_bbox(&scene, b)),
            "features": scene.feature_count(),
            "layers": scene.layers.iter().map(|l| layer_json(&scene, l)).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    println!("scene   {}", a.scene.display());
    println!("crs     {}", scene.frame.crs);
    println!(
        "origin  {:.1}, {:.1}",
        scene.frame.origin[0], scene.frame.origin[1]
    );
    if let Some(b) = bbox {
        let ab = absolute_bbox(&scene, b);
        println!(
            "bbox    {:.1}, {:.1} .. {:.1}, {:.1}",
            ab[0], ab[1], ab[2], ab[3]
        );
        if let Some(w) = wgs84_bbox(&scene, b) {
            println!(
                "wgs84   {:.5}, {:.5} .. {:.5}, {:.5}",
                w[0], w[1], w[2], w[3]
            );
        }
    }
    println!(
        "layers  {} ({} features)",
        scene.layers.len(),
        scene.feature_count()
    );
    for l in &scene.layers {
        println!();
        println!(
            "  {} ({}) — {} features from {} source objects",
            l.name,
            l.kind.as_str(),
            l.features.len(),
            l.report.source_objects
        );
        println!(
            "    source   {} [{}] {}",
            l.source.path, l.source.format, l.source.crs
        );
        let hs = height_sources(l);
        if !hs.is_empty() {
            let s: Vec<String> = hs.iter().map(|(k, v)| format!("{k} {v}")).collect();
            println!("    heights  {}", s.join(", "));
        }
        if let Some(n) = &l.network {
            let len = n.edges.iter().fold(0.0, |acc, e| acc + e.length_m);
            let links = n.links().iter().count();
            let flow = if n.kind == citytwin_engine::NetworkKind::Road {
                "car links"
            } else {
                "directed links"
            };
            let turns = n
                .turns
                .as_ref()
                .map_or_else(String::new, |t| format!(", {} allowed turns", t.len()));
            println!(
                "    network  {}: {} nodes, {} edges, {links} {flow}{turns}, {} components, {:.2} km",
                n.kind.as_str(),
                n.nodes.len(),
                n.edges.len(),
                n.connected_components(),
                len / 1000.0
            );
        }
        if let Some(u) = &l.utility {
            println!("    model    {}", u.summary());
        }
        if let Some(t) = &l.terrain {
            let (lo, hi) = t.height_range().unwrap_or((f64::NAN, f64::NAN));
            println!(
                "    terrain  {} × {} cells of {:.2} m, {lo:.1}..{hi:.1} m",
                t.cols, t.rows, t.cell_size[0]
            );
        }
        for (r, c) in &l.report.skipped {
            println!("    skipped  {c} × {r}");
        }
        for (r, c) in &l.report.repaired {
            println!("    repaired {c} × {r}");
        }
    }
    Ok(())
}

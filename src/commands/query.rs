//! `citytwin query`: bbox, nearest-k and point queries.

use super::load;
use crate::cli::QueryArgs;
use anyhow::{anyhow, Context, Result};
use citytwin_engine::{spatial, Feature, Layer, Scene};
use geo_types::{Coord, LineString, Polygon};
use serde_json::{json, Map, Value as Json};

struct Row<'a> {
    layer: &'a Layer,
    feature: &'a Feature,
    distance: Option<f64>,
}

fn to_local(scene: &Scene, crs: Option<&str>, pts: &mut [(f64, f64)]) -> Result<()> {
    match crs {
        Some(c) => scene
            .frame
            .to_local(c)
            .and_then(|tf| tf.apply(pts))
            .with_context(|| format!("--crs {c}")),
        None => {
            for p in pts.iter_mut() {
                p.0 -= scene.frame.origin[0];
                p.1 -= scene.frame.origin[1];
            }
            Ok(())
        }
    }
}

fn row_json(r: &Row<'_>) -> Json {
    let mut o = Map::new();
    o.insert("layer".into(), json!(r.layer.name));
    o.insert("id".into(), json!(r.feature.id.0));
    if let Some(d) = r.distance {
        o.insert("distance".into(), json!(d));
    }
    let attrs: Map<String, Json> = r
        .layer
        .named_attributes(r.feature)
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_json()))
        .collect();
    o.insert("attributes".into(), Json::Object(attrs));
    if let Some(b) = &r.feature.building {
        o.insert(
            "building".into(),
            json!({"height": b.height, "height_source": b.height_source.as_str(), "min_height": b.min_height,
                   "base_elevation": b.base_elevation, "levels": b.levels, "usage": b.usage}),
        );
    }
    Json::Object(o)
}

fn label(r: &Row<'_>) -> String {
    for k in [
        "name",
        "cityjson_id",
        "highway",
        "building",
        "landuse",
        "power",
        "waterway",
    ] {
        if let Some(v) = r.layer.attribute(r.feature, k) {
            return format!("{k}={v}");
        }
    }
    String::new()
}

pub fn run(a: QueryArgs) -> Result<()> {
    let scene = load(&a.scene)?;
    let layers: Vec<&Layer> = if a.layer.is_empty() {
        scene.layers.iter().collect()
    } else {
        a.layer
            .iter()
            .map(|n| {
                scene
                    .layer(n)
                    .map_err(|e| anyhow!("{}: {e}", a.scene.display()))
            })
            .collect::<Result<_>>()?
    };
    let crs = a.crs.as_deref();
    let mut rows: Vec<Row<'_>> = Vec::new();
    if let Some([x0, y0, x1, y1]) = a.bbox {
        if !(x0 <= x1 && y0 <= y1) {
            return Err(anyhow!("--bbox wants MINX,MINY,MAXX,MAXY with MIN <= MAX"));
        }
        // The box is straight in its own CRS, not in the scene's: transform a densified outline.
        let n = 16;
        let mut ring = Vec::with_capacity(4 * n + 1);
        for i in 0..n {
            ring.push((x0 + (x1 - x0) * i as f64 / n as f64, y0));
        }
        for i in 0..n {
            ring.push((x1, y0 + (y1 - y0) * i as f64 / n as f64));
        }
        for i in 0..n {
            ring.push((x1 - (x1 - x0) * i as f64 / n as f64, y1));
        }
        for i in 0..n {
            ring.push((x0, y1 - (y1 - y0) * i as f64 / n as f64));
        }
        ring.push((x0, y0));
        to_local(&scene, crs, &mut ring)?;
        let region = Polygon::new(
            LineString::new(ring.into_iter().map(|(x, y)| Coord { x, y }).collect()),
            vec![],
        );
        for l in &layers {
            rows.extend(spatial::query_region(l, &region).into_iter().map(|f| Row {
                layer: l,
                feature: f,
                distance: None,
            }));
        }
    } else if let Some([x, y]) = a.nearest.or(a.point) {
        let mut p = [(x, y)];
        to_local(&scene, crs, &mut p)?;
        let p = [p[0].0, p[0].1];
        for l in &layers {
            let hits = if a.nearest.is_some() {
                spatial::nearest(l, p, a.k)
            } else {
                spatial::pick(l, p, a.tolerance)
            };
            rows.extend(hits.into_iter().map(|h| Row {
                layer: l,
                feature: h.feature,
                distance: Some(h.distance),
            }));
        }
        // Across layers: nearest first, ties by layer order then id.
        let order = |r: &Row<'_>| {
            layers
                .iter()
                .position(|l| std::ptr::eq(*l, r.layer))
                .unwrap_or(0)
        };
        rows.sort_by(|a, b| {
            a.distance
                .unwrap_or(0.0)
                .total_cmp(&b.distance.unwrap_or(0.0))
                .then(order(a).cmp(&order(b)))
                .then(a.feature.id.cmp(&b.feature.id))
        });
        if a.nearest.is_some() {
            rows.truncate(a.k);
        }
    }
    let total = rows.len();
    if let Some(limit) = a.limit {
        rows.truncate(limit);
    }
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&rows.iter().map(row_json).collect::<Vec<_>>())?
        );
        return Ok(());
    }
    for r in &rows {
        match r.distance {
            Some(d) => println!(
                "{:<14} {:>9} {:>9.2} m  {}",
                r.layer.name,
                r.feature.id.0,
                d,
                label(r)
            ),
            None => println!("{:<14} {:>9}  {}", r.layer.name, r.feature.id.0, label(r)),
        }
    }
    if rows.len() < total {
        println!("… {} more (raise --limit)", total - rows.len());
    }
    eprintln!("{total} features");
    Ok(())
}

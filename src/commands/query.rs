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

/// The closed outline of a box, 16 points a side: straight in its own CRS, curved once transformed.
fn outline([x0, y0, x1, y1]: [f64; 4]) -> Vec<(f64, f64)> {
    let n = 16;
    let at = |a: f64, b: f64, i: usize| a + (b - a) * i as f64 / n as f64;
    let mut ring = Vec::with_capacity(4 * n + 1);
    ring.extend((0..n).map(|i| (at(x0, x1, i), y0)));
    ring.extend((0..n).map(|i| (x1, at(y0, y1, i))));
    ring.extend((0..n).map(|i| (at(x1, x0, i), y1)));
    ring.extend((0..n).map(|i| (x0, at(y1, y0, i))));
    ring.push((x0, y0));
    ring
}

/// The scene's extent in the query's coordinates (the scene CRS without `--crs`), grown by 1 % on each side so
/// that the curvature between outline points cannot cut a feature off. `None` for an empty scene.
fn scene_extent_in(scene: &Scene, crs: Option<&str>) -> Result<Option<[f64; 4]>> {
    let Some(b) = scene.bbox() else {
        return Ok(None);
    };
    let mut ring = outline(b);
    match crs {
        Some(c) => scene
            .frame
            .from_local(c)
            .and_then(|tf| tf.apply(&mut ring))
            .with_context(|| format!("--crs {c}"))?,
        None => {
            for p in ring.iter_mut() {
                p.0 += scene.frame.origin[0];
                p.1 += scene.frame.origin[1];
            }
        }
    }
    let mut e = [
        f64::INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NEG_INFINITY,
    ];
    for &(x, y) in ring.iter().filter(|p| p.0.is_finite() && p.1.is_finite()) {
        e = [e[0].min(x), e[1].min(y), e[2].max(x), e[3].max(y)];
    }
    if !(e[0] <= e[2] && e[1] <= e[3]) {
        return Ok(None);
    }
    let (gx, gy) = ((e[2] - e[0]) * 0.01, (e[3] - e[1]) * 0.01);
    // A scene of one point still gets a box: 1e-9 of its coordinates' magnitude.
    let pad = |g: f64, v: f64| g.max(v.abs() * 1e-9).max(1e-9);
    Ok(Some([
        e[0] - pad(gx, e[0]),
        e[1] - pad(gy, e[1]),
        e[2] + pad(gx, e[2]),
        e[3] + pad(gy, e[3]),
    ]))
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
        // Only the part of the box over the scene matters. Clamping first keeps a huge box (-1e308..1e308, or
        // the whole globe in EPSG:4326) from overflowing or leaving the domain of the scene's projection.
        let clamped = scene_extent_in(&scene, crs)?
            .map(|[ex0, ey0, ex1, ey1]| [x0.max(ex0), y0.max(ey0), x1.min(ex1), y1.min(ey1)])
            .filter(|b| b[0] <= b[2] && b[1] <= b[3]);
        // A box that misses the scene finds nothing.
        let mut ring = clamped.map(outline).unwrap_or_default();
        to_local(&scene, crs, &mut ring)?;
        // The box is straight in its own CRS, not in the scene's: a densified outline, transformed.
        let region = Polygon::new(
            LineString::new(ring.into_iter().map(|(x, y)| Coord { x, y }).collect()),
            vec![],
        );
        for l in layers.iter().filter(|_| clamped.is_some()) {
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

//! GeoJSON, streamed: features are read one at a time from the `features` array (the `geojson` crate's
//! `FeatureReader`), so a file larger than memory imports.
//!
//! Coordinates are WGS 84 longitude/latitude by RFC 7946 (EPSG:4326); `--src-crs` overrides for legacy files.

use crate::attrs::json_to_value;
use crate::classify::{layer_kind, network_kind, GeometryFamily};
use crate::{default_layer_name, ImportError, ImportOptions, LayerBuilder};
use citytwin_engine::geometry::polygon_from_rings;
use citytwin_engine::{Layer, LayerKind, LayerSource, Value};
use geo_types::{Coord, Geometry};
use geojson::{GeometryValue, Position};
use indicatif::ProgressBar;
use std::io::{BufReader, Read};
use std::path::Path;

/// How many features to look at before deciding the layer kind.
const SNIFF: usize = 256;

fn ring(positions: &[Position]) -> Vec<Coord<f64>> {
    positions
        .iter()
        .map(|p| {
            let s = p.as_slice();
            Coord {
                x: s.first().copied().unwrap_or(f64::NAN),
                y: s.get(1).copied().unwrap_or(f64::NAN),
            }
        })
        .collect()
}

enum Parsed {
    /// Polygon rings kept raw, so an unclosed ring is seen (and counted) before it is closed.
    Rings(Vec<Vec<Vec<Coord<f64>>>>),
    Other(Option<Geometry<f64>>),
}

fn parse_geometry(g: Option<geojson::Geometry>) -> Parsed {
    match g {
        None => Parsed::Other(None),
        Some(g) => match g.value {
            GeometryValue::Polygon { coordinates } => {
                Parsed::Rings(vec![coordinates.iter().map(|r| ring(r)).collect()])
            }
            GeometryValue::MultiPolygon { coordinates } => Parsed::Rings(
                coordinates
                    .iter()
                    .map(|p| p.iter().map(|r| ring(r)).collect())
                    .collect(),
            ),
            _ => Parsed::Other(Geometry::<f64>::try_from(g).ok()),
        },
    }
}

fn family(p: &Parsed) -> GeometryFamily {
    match p {
        Parsed::Rings(_) => GeometryFamily::Polygon,
        Parsed::Other(Some(Geometry::LineString(_) | Geometry::MultiLineString(_))) => {
            GeometryFamily::Line
        }
        Parsed::Other(Some(Geometry::Point(_) | Geometry::MultiPoint(_))) => GeometryFamily::Point,
        _ => GeometryFamily::Unknown,
    }
}

/// Imports a GeoJSON file as one layer.
///
/// # Errors
/// [`ImportError::Corrupt`] with the feature number for malformed or truncated JSON; [`ImportError::Io`].
pub fn import(
    path: &Path,
    opts: &ImportOptions,
    progress: &ProgressBar,
) -> Result<Layer, ImportError> {
    let file = std::fs::File::open(path).map_err(|source| ImportError::Io {
        path: path.to_owned(),
        source,
    })?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    progress.set_length(size);
    let reader = BufReader::with_capacity(1 << 20, progress.wrap_read(file));
    import_from(reader, path, opts)
}

fn import_from(reader: impl Read, path: &Path, opts: &ImportOptions) -> Result<Layer, ImportError> {
    let name = opts
        .layer_name
        .clone()
        .unwrap_or_else(|| default_layer_name(path));
    let crs = opts.src_crs.clone().unwrap_or_else(|| "EPSG:4326".into());
    let source = LayerSource {
        path: path.display().to_string(),
        format: "GeoJSON".into(),
        crs,
    };
    let corrupt = |i: usize, e: geojson::Error| ImportError::Corrupt {
        path: path.to_owned(),
        format: "GeoJSON".into(),
        detail: format!("at feature {}: {e}", i + 1),
    };
    // Fused: the reader's iterator must not be polled again once it has said it is done.
    let mut features = geojson::FeatureReader::from_reader(reader)
        .features()
        .fuse();
    // Read a few features to decide the kind, then stream the rest.
    let mut head = Vec::with_capacity(SNIFF);
    for i in 0..SNIFF {
        match features.next() {
            Some(f) => head.push(f.map_err(|e| corrupt(i, e))?),
            None => break,
        }
    }
    let mut keys: Vec<String> = head
        .iter()
        .flat_map(|f| f.properties.iter().flat_map(|p| p.keys().cloned()))
        .collect();
    keys.sort();
    keys.dedup();
    let fam = head
        .iter()
        .map(|f| family(&parse_geometry(f.geometry.clone())))
        .find(|f| *f != GeometryFamily::Unknown)
        .unwrap_or(GeometryFamily::Unknown);
    let kind = opts.kind.unwrap_or_else(|| layer_kind(&name, &keys, fam));
    let net = (kind == LayerKind::Infrastructure && fam == GeometryFamily::Line)
        .then(|| network_kind(&name, &keys));
    let mut b = LayerBuilder::new(name, kind, source, net, opts);
    let add = |b: &mut LayerBuilder, f: geojson::Feature| {
        let mut attrs: Vec<(String, Value)> = f
            .properties
            .iter()
            .flat_map(|p| p.iter().map(|(k, v)| (k.clone(), json_to_value(v))))
            .collect();
        if let Some(id) = &f.id {
            let v = match id {
                geojson::feature::Id::String(s) => Value::Text(s.clone()),
                geojson::feature::Id::Number(n) => {
                    json_to_value(&serde_json::Value::Number(n.clone()))
                }
            };
            attrs.push(("geojson_id".into(), v));
        }
        match parse_geometry(f.geometry) {
            Parsed::Rings(polys) => {
                b.count_source_object();
                let mut parts = Vec::new();
                let mut err = None;
                let mut repairs = Vec::new();
                for rings in &polys {
                    match polygon_from_rings(rings) {
                        Ok(c) => {
                            repairs.extend(c.repairs);
                            if let Geometry::Polygon(p) = c.geometry {
                                parts.push(p);
                            }
                        }
                        Err(e) => err = Some(e),
                    }
                }
                match (parts.len(), err) {
                    (0, e) => b.skip(e.map_or("empty geometry", |e| e.as_str())),
                    (_, Some(e)) if polys.len() == 1 => b.skip(e.as_str()),
                    (n, e) => {
                        if e.is_some() {
                            repairs.push("dropped invalid part");
                        }
                        let geometry = if n == 1 {
                            Geometry::Polygon(parts.remove(0))
                        } else {
                            Geometry::MultiPolygon(geo_types::MultiPolygon::new(parts))
                        };
                        b.add_clean(
                            citytwin_engine::geometry::Cleaned { geometry, repairs },
                            attrs,
                        );
                    }
                }
            }
            Parsed::Other(g) => b.add(g, attrs),
        }
    };
    for f in head {
        add(&mut b, f);
    }
    for (i, f) in features.enumerate() {
        add(&mut b, f.map_err(|e| corrupt(i + SNIFF, e))?);
    }
    Ok(b.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use citytwin_engine::HeightSource;

    const FC: &str = r#"{"type":"FeatureCollection","features":[
      {"type":"Feature","properties":{"building":"yes","height":"12"},"geometry":{"type":"Polygon","coordinates":[[[26.94,60.52],[26.941,60.52],[26.941,60.521],[26.94,60.521]]]}},
      {"type":"Feature","properties":{"building":"house","building:levels":2},"geometry":{"type":"Polygon","coordinates":[[[26.95,60.52],[26.951,60.52],[26.951,60.521],[26.95,60.52]]]}},
      {"type":"Feature","properties":{"building":"bad"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[2,2],[2,0],[0,2],[0,0]]]}},
      {"type":"Feature","properties":{"building":"nothing"},"geometry":null}
    ]}"#;

    #[test]
    fn buildings_with_repairs_and_skips() {
        let l = import_from(
            FC.as_bytes(),
            Path::new("b.geojson"),
            &ImportOptions::default(),
        )
        .expect("import");
        assert_eq!(l.kind, LayerKind::Buildings);
        assert_eq!(l.features.len(), 2);
        assert_eq!(l.report.source_objects, 4);
        assert_eq!(l.report.repaired.get("closed ring"), Some(&1));
        assert_eq!(l.report.skipped.get("self-intersecting ring"), Some(&1));
        assert_eq!(l.report.skipped.get("empty geometry"), Some(&1));
        let b0 = l.features[0].building.as_ref().expect("building");
        assert_eq!(
            (b0.height, b0.height_source),
            (12.0, HeightSource::HeightAttribute)
        );
        let b1 = l.features[1].building.as_ref().expect("building");
        assert_eq!((b1.height, b1.height_source), (6.0, HeightSource::Levels));
    }

    #[test]
    fn truncated_file_is_an_error() {
        let cut = &FC[..FC.len() / 2];
        let e = import_from(
            cut.as_bytes(),
            Path::new("cut.geojson"),
            &ImportOptions::default(),
        )
        .expect_err("truncated");
        assert!(matches!(e, ImportError::Corrupt { .. }), "{e}");
        assert!(e.to_string().contains("cut.geojson"));
    }

    #[test]
    fn lines_make_a_network() {
        let roads = r#"{"type":"FeatureCollection","features":[
          {"type":"Feature","properties":{"highway":"residential","oneway":"yes"},"geometry":{"type":"LineString","coordinates":[[0,0],[1,0]]}},
          {"type":"Feature","properties":{"highway":"residential"},"geometry":{"type":"LineString","coordinates":[[1,0],[1,1]]}}
        ]}"#;
        let l = import_from(
            roads.as_bytes(),
            Path::new("roads.geojson"),
            &ImportOptions::default(),
        )
        .expect("import");
        assert_eq!(l.kind, LayerKind::Infrastructure);
        let n = l.network.as_ref().expect("network");
        assert_eq!((n.nodes.len(), n.edges.len()), (3, 2));
        assert_eq!(
            n.edges[0].to, n.edges[1].from,
            "shared endpoint is one node"
        );
    }
}

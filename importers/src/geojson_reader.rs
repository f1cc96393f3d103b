//! GeoJSON, streamed: the top-level object is walked with serde, and the `features` array is handed on in
//! batches of raw feature texts, parsed ([`crate::geojson_de`]), validated and converted on all cores; a file
//! larger than memory imports.
//!
//! Coordinates are WGS 84 longitude/latitude by RFC 7946 (EPSG:4326); `--src-crs` overrides for legacy files.

use crate::classify::{layer_kind, network_kind, GeometryFamily};
use crate::geojson_de::{FeatureDe, GeometryDe};
use crate::geojson_stream::{walk, Batch, Msg, WalkError};
use crate::layer_builder::Ready;
use crate::{default_layer_name, ImportError, ImportOptions, LayerBuilder};
use citytwin_engine::geometry::{clean_geometry, polygon_from_rings, Cleaned, SkipReason};
use citytwin_engine::{Layer, LayerKind, LayerSource, Value};
use geo_types::{Coord, Geometry};
use indicatif::ProgressBar;
use std::borrow::Cow;
use std::io::Read;
use std::path::Path;

/// How many features to look at before deciding the layer kind.
const SNIFF: usize = 256;

/// The family of a geometry (a collection of one geometry by its member's).
fn family(g: Option<&GeometryDe>) -> GeometryFamily {
    match g {
        Some(GeometryDe::Polygon(_) | GeometryDe::MultiPolygon(_)) => GeometryFamily::Polygon,
        Some(GeometryDe::LineString(_) | GeometryDe::MultiLineString(_)) => GeometryFamily::Line,
        Some(GeometryDe::Point(_) | GeometryDe::MultiPoint(_)) => GeometryFamily::Point,
        Some(GeometryDe::Collection(g)) if g.len() == 1 => family(g.first()),
        _ => GeometryFamily::Unknown,
    }
}

/// A geometry other than a polygon as a `geo` geometry; `None` for one with a short position.
fn to_geo(g: GeometryDe) -> Option<Geometry<f64>> {
    use geo_types::{LineString, MultiLineString, MultiPoint, Point, Polygon};
    let ring = |r: Vec<Coord<f64>>| LineString::new(r);
    Some(match g {
        GeometryDe::Point(c) => Geometry::Point(Point(c)),
        GeometryDe::MultiPoint(v) => {
            Geometry::MultiPoint(MultiPoint(v.into_iter().map(Point).collect()))
        }
        GeometryDe::LineString(v) => Geometry::LineString(ring(v)),
        GeometryDe::MultiLineString(v) => {
            Geometry::MultiLineString(MultiLineString(v.into_iter().map(ring).collect()))
        }
        GeometryDe::Polygon(mut rings) => {
            let outer = if rings.is_empty() {
                Vec::new()
            } else {
                rings.remove(0)
            };
            Geometry::Polygon(Polygon::new(
                ring(outer),
                rings.into_iter().map(ring).collect(),
            ))
        }
        GeometryDe::MultiPolygon(polys) => Geometry::MultiPolygon(geo_types::MultiPolygon(
            polys
                .into_iter()
                .filter_map(|p| match to_geo(GeometryDe::Polygon(p)) {
                    Some(Geometry::Polygon(p)) => Some(p),
                    _ => None,
                })
                .collect(),
        )),
        GeometryDe::Collection(v) => Geometry::GeometryCollection(geo_types::GeometryCollection(
            v.into_iter().map(to_geo).collect::<Option<_>>()?,
        )),
        GeometryDe::Short => return None,
    })
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
    import_from(progress.wrap_read(file), path, opts, size)
}

/// A feature with its geometry validated, or why it is skipped.
enum Prepared<'a> {
    Add(Cleaned, Vec<(Cow<'a, str>, Value)>),
    Skip(&'static str),
}

/// Converts one feature (in parallel with others): attributes, geometry, validation.
fn prepare(f: FeatureDe<'_>) -> Prepared<'_> {
    let mut attrs = f.properties;
    if let Some(id) = f.id {
        attrs.push((Cow::Borrowed("geojson_id"), id));
    }
    // Polygon rings are kept raw, so an unclosed ring is seen (and counted) before it is closed.
    let polygons = match f.geometry {
        Some(GeometryDe::Polygon(rings)) => Ok(vec![rings]),
        Some(GeometryDe::MultiPolygon(polys)) => Ok(polys),
        other => Err(other),
    };
    match polygons {
        Ok(polys) => {
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
                (0, e) => Prepared::Skip(e.map_or(SkipReason::Empty.as_str(), |e| e.as_str())),
                (_, Some(e)) if polys.len() == 1 => Prepared::Skip(e.as_str()),
                (n, e) => {
                    if e.is_some() {
                        repairs.push("dropped invalid part");
                    }
                    let geometry = if n == 1 {
                        Geometry::Polygon(parts.remove(0))
                    } else {
                        Geometry::MultiPolygon(geo_types::MultiPolygon::new(parts))
                    };
                    Prepared::Add(Cleaned { geometry, repairs }, attrs)
                }
            }
        }
        Err(None) => Prepared::Skip(SkipReason::Empty.as_str()),
        Err(Some(GeometryDe::Collection(gc))) if gc.len() != 1 => {
            Prepared::Skip(if gc.is_empty() {
                SkipReason::Empty.as_str()
            } else {
                "GeometryCollection of several geometries (split it into features)"
            })
        }
        Err(Some(g)) => match to_geo(g) {
            None => Prepared::Skip("position with fewer than 2 coordinates"),
            Some(g) => match clean_geometry(g) {
                Ok(c) => Prepared::Add(c, attrs),
                Err(r) => Prepared::Skip(r.as_str()),
            },
        },
    }
}

/// One feature's text parsed (borrowing its property names).
fn parse_feature(text: &[u8]) -> Result<FeatureDe<'_>, String> {
    serde_json::from_slice(text).map_err(|e| e.to_string())
}

/// The layer being built: created once the first batch has shown what the features are.
struct Sink<'a> {
    path: &'a Path,
    opts: &'a ImportOptions,
    name: String,
    crs: String,
    builder: Option<LayerBuilder>,
    /// The file's size in bytes (0 when unknown), to reserve room for the features once the first batch
    /// shows how long one is.
    size: u64,
}

impl Sink<'_> {
    fn source(&self) -> LayerSource {
        LayerSource {
            path: self.path.display().to_string(),
            format: "GeoJSON".into(),
            crs: self.crs.clone(),
        }
    }

    /// Parses and prepares a batch of features on all cores, then adds them in order.
    fn batch(&mut self, raw: &Batch) -> Result<(), ImportError> {
        use rayon::prelude::*;
        let texts: Vec<&[u8]> = raw.features().collect();
        let ready = |b: &LayerBuilder, f: FeatureDe<'_>| match prepare(f) {
            Prepared::Add(c, attrs) => b.prepare(c, attrs, None),
            Prepared::Skip(reason) => Ready::skip(reason),
        };
        let made: Vec<Result<Ready, String>> = match &self.builder {
            Some(b) => texts
                .par_iter()
                .map(|t| parse_feature(t).map(|f| ready(b, f)))
                .collect(),
            // The first batch decides the layer kind: parsed, looked at, then made ready.
            None => {
                let parsed: Vec<_> = texts.par_iter().map(|t| parse_feature(t)).collect();
                let size = self.size;
                let b = self.start(&parsed);
                if let (Some(first), Some(last)) = (raw.ranges.first(), raw.ranges.last()) {
                    // Room for every feature at once: growing the vector by doubling would copy it and hold
                    // both copies at the end, when it is largest (reserved room untouched costs no memory).
                    let per_feature = (last.end - first.start) as f64 / raw.ranges.len() as f64;
                    b.reserve((size as f64 / per_feature * 1.05) as usize);
                }
                parsed
                    .into_par_iter()
                    .map(|p| p.map(|f| ready(b, f)))
                    .collect()
            }
        };
        let Some(b) = self.builder.as_mut() else {
            return Ok(());
        };
        for (i, r) in made.into_iter().enumerate() {
            b.count_source_object();
            match r {
                Ok(r) => b.add_ready(r),
                // Well-formed JSON that is no GeoJSON feature: skipped and counted, like a bad geometry.
                Err(e) => {
                    tracing::debug!(feature = raw.first + i + 1, "not a GeoJSON feature: {e}");
                    b.skip("not a valid GeoJSON feature");
                }
            }
        }
        Ok(())
    }

    /// Creates the layer builder, of the kind the first features show.
    fn start(&mut self, first: &[Result<FeatureDe<'_>, String>]) -> &mut LayerBuilder {
        let sniffed = || first.iter().take(SNIFF).filter_map(|p| p.as_ref().ok());
        let mut keys: Vec<String> = sniffed()
            .flat_map(|f| f.properties.iter().map(|(k, _)| k.to_string()))
            .collect();
        keys.sort();
        keys.dedup();
        let fam = sniffed()
            .map(|f| family(f.geometry.as_ref()))
            .find(|f| *f != GeometryFamily::Unknown)
            .unwrap_or(GeometryFamily::Unknown);
        let kind = self
            .opts
            .kind
            .unwrap_or_else(|| layer_kind(&self.name, &keys, fam));
        let net = (kind == LayerKind::Infrastructure && fam == GeometryFamily::Line)
            .then(|| network_kind(&self.name, &keys));
        self.builder.insert(LayerBuilder::new(
            self.name.clone(),
            kind,
            self.source(),
            net,
            self.opts,
        ))
    }

    fn finish(mut self) -> Layer {
        if self.builder.is_none() {
            // No features at all: an empty layer, which the caller reports.
            let _ = self.batch(&Batch::default());
        }
        match self.builder {
            Some(b) => b.finish(),
            None => Layer::new(self.name.clone(), LayerKind::Framework, self.source()),
        }
    }
}

/// Reads GeoJSON from `reader`: one thread walks the text and cuts out raw features, while this one parses,
/// validates and converts each batch on the rayon pool, so that the serial scan overlaps the parallel work.
fn import_from(
    reader: impl Read + Send,
    path: &Path,
    opts: &ImportOptions,
    size: u64,
) -> Result<Layer, ImportError> {
    let name = opts
        .layer_name
        .clone()
        .unwrap_or_else(|| default_layer_name(path));
    let mut sink = Sink {
        path,
        opts,
        name,
        crs: opts.src_crs.clone().unwrap_or_else(|| "EPSG:4326".into()),
        builder: None,
        size,
    };
    let corrupt = |detail: String| ImportError::Corrupt {
        path: path.to_owned(),
        format: "GeoJSON".into(),
        detail,
    };
    // One batch in the channel, one being filled, one being parsed: memory stays at a few buffers; used buffers
    // go back to the walker.
    let (tx, rx) = std::sync::mpsc::sync_channel::<Msg>(1);
    let (spare_tx, spare) = std::sync::mpsc::channel::<Vec<u8>>();
    let (walked, failure) = std::thread::scope(|scope| {
        let walker = scope.spawn(move || walk(reader, &tx, &spare));
        let mut failure = None;
        while let Ok(m) = rx.recv() {
            let r = match m {
                Msg::Crs(v) => legacy_crs(&v, path, opts, &mut sink),
                Msg::Batch(b) => {
                    let r = sink.batch(&b);
                    // The walker may be gone already; the buffer is then simply dropped.
                    let _ = spare_tx.send(b.buf);
                    r
                }
            };
            if let Err(e) = r {
                failure = Some(e);
                break;
            }
        }
        // Dropping the receiver makes the walker's next send fail, so it stops.
        drop(rx);
        (walker.join(), failure)
    });
    if let Some(e) = failure {
        return Err(e);
    }
    let top = match walked.map_err(|_| corrupt("the reading thread failed".into()))? {
        Ok(top) => top,
        Err(WalkError::Io(source)) => {
            return Err(ImportError::Io {
                path: path.to_owned(),
                source,
            })
        }
        Err(WalkError::Syntax(detail)) => return Err(corrupt(detail)),
        Err(WalkError::Stopped) => return Err(corrupt("reading stopped".into())),
    };
    match top.kind.as_deref() {
        Some("FeatureCollection") => {}
        Some("Feature") if !top.had_features => {
            let mut m = top.members;
            m.insert("type".into(), "Feature".into());
            sink.batch(&Batch::one(serde_json::Value::Object(m).to_string()))?;
        }
        Some(
            t @ ("Point" | "MultiPoint" | "LineString" | "MultiLineString" | "Polygon"
            | "MultiPolygon" | "GeometryCollection"),
        ) if !top.had_features => {
            let mut m = top.members;
            m.insert("type".into(), t.into());
            let feature = serde_json::json!({"type": "Feature", "properties": {}, "geometry": m});
            sink.batch(&Batch::one(feature.to_string()))?;
        }
        Some(t) => {
            return Err(corrupt(format!(
            "the top-level object is of type `{t}`, not a FeatureCollection, Feature or geometry"
        )))
        }
        None => return Err(corrupt("the top-level object has no `type` member".into())),
    }
    Ok(sink.finish())
}

/// A pre-RFC 7946 `crs` member (`{"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3067"}}`),
/// which GDAL honours too: used when no --src-crs is given, refused when PROJ does not know it.
fn legacy_crs(
    crs: &serde_json::Value,
    path: &Path,
    opts: &ImportOptions,
    sink: &mut Sink<'_>,
) -> Result<(), ImportError> {
    if opts.src_crs.is_some() || crs.is_null() {
        return Ok(());
    }
    let name = crs
        .pointer("/properties/name")
        .and_then(|v| v.as_str())
        .ok_or_else(|| ImportError::Corrupt {
            path: path.to_owned(),
            format: "GeoJSON".into(),
            detail: "the `crs` member has no properties.name".into(),
        })?;
    // OGC URNs name the authority and code: urn:ogc:def:crs:EPSG::3067, or CRS84 for WGS 84 lon/lat.
    let def = match name.rsplit_once(':') {
        _ if name.ends_with("CRS84") => "EPSG:4326".to_owned(),
        Some((head, code)) if head.contains("EPSG") => format!("EPSG:{code}"),
        _ => name.to_owned(),
    };
    citytwin_engine::crs::describe(&def).map_err(|source| ImportError::Crs {
        path: path.to_owned(),
        source,
    })?;
    if def != sink.crs {
        if sink.builder.is_some() {
            // Features were already built as WGS 84 (network endpoints snapped at a tolerance in degrees).
            return Err(ImportError::Unsupported {
                path: path.to_owned(),
                detail: format!(
                    "the `crs` member ({def}) comes after the features; give it with --src-crs {def}"
                ),
            });
        }
        sink.crs = def;
    }
    Ok(())
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
            0,
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
            0,
        )
        .expect_err("truncated");
        assert!(matches!(e, ImportError::Corrupt { .. }), "{e}");
        assert!(e.to_string().contains("cut.geojson"));
    }

    fn read(text: &str) -> Result<Layer, ImportError> {
        import_from(
            text.as_bytes(),
            Path::new("t.geojson"),
            &ImportOptions::default(),
            0,
        )
    }

    #[test]
    fn every_valid_geojson_shape_is_read() {
        // Regressions: a lone Feature and an empty FeatureCollection, both valid GeoJSON, were "corrupt or
        // truncated"; a bbox array before the features was taken for the features.
        let point = r#"{"type":"Point","coordinates":[26.9,60.5]}"#;
        let one = format!(r#"{{"type":"Feature","properties":{{"name":"a"}},"geometry":{point}}}"#);
        assert_eq!(read(&one).expect("feature").features.len(), 1);
        assert_eq!(read(point).expect("geometry").features.len(), 1);
        let empty = read(r#"{"type":"FeatureCollection","features":[]}"#).expect("empty");
        assert_eq!(empty.features.len(), 0);
        let boxed = format!(
            r#"{{"bbox":[26,60,27,61],"type":"FeatureCollection","features":[{one},{one}],"name":"x"}}"#
        );
        assert_eq!(read(&boxed).expect("bbox first").features.len(), 2);
        // A GeometryCollection of several geometries is skipped with its reason.
        let gc = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},
            "geometry":{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[1,2]},
            {"type":"Point","coordinates":[3,4]}]}}]}"#;
        let l = read(gc).expect("gc");
        assert_eq!(l.report.source_objects, 1);
        assert_eq!(
            l.report.skipped.keys().next().map(String::as_str),
            Some("GeometryCollection of several geometries (split it into features)")
        );
    }

    #[test]
    fn trailing_data_and_unknown_crs_are_errors() {
        let fc = r#"{"type":"FeatureCollection","features":[]}"#;
        let e = read(&format!("{fc} garbage")).expect_err("trailing garbage");
        assert!(e.to_string().contains("after the end"), "{e}");
        assert!(
            read(&format!("{fc}\n\n")).is_ok(),
            "trailing whitespace is fine"
        );
        let crs = |name: &str| {
            format!(
                r#"{{"type":"FeatureCollection","crs":{{"type":"name","properties":{{"name":"{name}"}}}},"features":[
                {{"type":"Feature","properties":{{}},"geometry":{{"type":"Point","coordinates":[500000,6700000]}}}}]}}"#
            )
        };
        let l = read(&crs("urn:ogc:def:crs:EPSG::3067")).expect("named CRS");
        assert_eq!(l.source.crs, "EPSG:3067");
        let e = read(&crs("urn:ogc:def:crs:EPSG::99999")).expect_err("unknown");
        assert!(matches!(e, ImportError::Crs { .. }), "{e}");
        // Regression (found by fuzzing): a position of one number panicked inside geojson's conversion.
        let short = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},
            "geometry":{"type":"MultiLineString","coordinates":[[[2]],[[26.9,60.5],[26.95,60.5]]]}}]}"#;
        let l = read(short).expect("skipped, not fatal");
        assert_eq!(
            l.report
                .skipped
                .get("position with fewer than 2 coordinates"),
            Some(&1)
        );
        let e = read(r#"{"type":"Topology","objects":{}}"#).expect_err("TopoJSON");
        assert!(e.to_string().contains("Topology"), "{e}");
    }

    #[test]
    fn a_feature_longer_than_a_block_through_short_reads() {
        // A pipe hands over 64 KiB at a time; one ring of 150,000 vertices (5.7 MB) is longer than the walker's
        // block, and small features on both sides share buffers with it.
        struct Pipe(Vec<u8>, usize);
        impl Read for Pipe {
            fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
                let n = (self.0.len() - self.1).min(out.len()).min(65_536);
                out[..n].copy_from_slice(&self.0[self.1..self.1 + n]);
                self.1 += n;
                Ok(n)
            }
        }
        let n = 150_000;
        let ring: Vec<String> = (0..=n)
            .map(|i| {
                let a = std::f64::consts::TAU * (i % n) as f64 / n as f64;
                format!(
                    "[{:.9},{:.9}]",
                    26.9 + 0.01 * a.cos(),
                    60.5 + 0.005 * a.sin()
                )
            })
            .collect();
        let small = r#"{"type":"Feature","properties":{"building":"yes"},"geometry":{"type":"Polygon","coordinates":[[[26.94,60.52],[26.941,60.52],[26.941,60.521],[26.94,60.52]]]}}"#;
        let big = format!(
            r#"{{"type":"Feature","properties":{{"building":"big"}},"geometry":{{"type":"Polygon","coordinates":[[{}]]}}}}"#,
            ring.join(",")
        );
        let smalls = vec![small; 3000].join(",\n");
        let text =
            format!(r#"{{"type":"FeatureCollection","features":[{smalls},{big},{smalls}]}}"#);
        assert!(big.len() > 4 << 20);
        let l = import_from(
            Pipe(text.into_bytes(), 0),
            Path::new("pipe.geojson"),
            &ImportOptions::default(),
            0,
        )
        .expect("import");
        assert_eq!(l.features.len(), 6001);
        let big = &l.features[3000];
        assert_eq!(
            big.building.as_ref().and_then(|b| b.usage.as_deref()),
            Some("big")
        );
        let Geometry::Polygon(p) = &big.geometry else {
            panic!("a polygon")
        };
        assert_eq!(p.exterior().0.len(), n + 1);
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
            0,
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

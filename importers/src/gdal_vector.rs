//! Every vector format GDAL reads (Shapefile, GeoPackage, FlatGeobuf, GML, KML, CSV with WKT, ...), through the
//! `gdal` crate on the system libgdal. Each source layer becomes one scene layer.

use crate::classify::{layer_kind, network_kind, GeometryFamily};
use crate::{ImportError, ImportOptions, LayerBuilder};
use citytwin_engine::{Layer, LayerKind, LayerSource, Value};
use gdal::spatial_ref::SpatialRef;
use gdal::vector::{FieldValue, LayerAccess};
use gdal::Dataset;
use geo_types::Geometry;
use indicatif::ProgressBar;
use std::path::Path;

/// The CRS definition of a GDAL spatial reference: `AUTHORITY:CODE` where GDAL identifies one, else WKT.
pub fn srs_definition(srs: &SpatialRef) -> Result<String, gdal::errors::GdalError> {
    if let (Some(name), Ok(code)) = (srs.auth_name(), srs.auth_code()) {
        return Ok(format!("{name}:{code}"));
    }
    srs.to_wkt()
}

fn value_of(v: FieldValue) -> Value {
    match v {
        FieldValue::IntegerValue(i) => Value::Int(i as i64),
        FieldValue::Integer64Value(i) => Value::Int(i),
        FieldValue::RealValue(f) => Value::Float(f),
        FieldValue::StringValue(s) => Value::Text(s),
        FieldValue::DateValue(d) => Value::Text(d.to_string()),
        FieldValue::DateTimeValue(d) => Value::Text(d.to_string()),
        FieldValue::IntegerListValue(l) => Value::Text(format!("{l:?}")),
        FieldValue::Integer64ListValue(l) => Value::Text(format!("{l:?}")),
        FieldValue::RealListValue(l) => Value::Text(format!("{l:?}")),
        FieldValue::StringListValue(l) => Value::Text(l.join(";")),
    }
}

fn family(g: &Geometry<f64>) -> GeometryFamily {
    match g {
        Geometry::Point(_) | Geometry::MultiPoint(_) => GeometryFamily::Point,
        Geometry::Line(_) | Geometry::LineString(_) | Geometry::MultiLineString(_) => {
            GeometryFamily::Line
        }
        Geometry::Polygon(_)
        | Geometry::MultiPolygon(_)
        | Geometry::Rect(_)
        | Geometry::Triangle(_) => GeometryFamily::Polygon,
        Geometry::GeometryCollection(_) => GeometryFamily::Unknown,
    }
}

/// Imports every layer of a GDAL vector dataset.
///
/// # Errors
/// [`ImportError::Gdal`] if GDAL cannot open or read it, [`ImportError::MissingCrs`] for a layer without a CRS
/// and no `--src-crs`.
pub fn import(
    path: &Path,
    opts: &ImportOptions,
    progress: &ProgressBar,
) -> Result<Vec<Layer>, ImportError> {
    let gdal_err = |source| ImportError::Gdal {
        path: path.to_owned(),
        source,
    };
    let ds = Dataset::open(path).map_err(gdal_err)?;
    let driver = ds.driver().short_name();
    let count = ds.layer_count();
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        let mut l = ds.layer(i).map_err(gdal_err)?;
        let src_name = l.name();
        let name = match (&opts.layer_name, count) {
            (Some(p), 1) => p.clone(),
            (Some(p), _) => format!("{p}_{src_name}"),
            (None, _) => src_name.clone(),
        };
        let crs = match (&opts.src_crs, l.spatial_ref()) {
            (Some(c), _) => c.clone(),
            (None, Some(srs)) => srs_definition(&srs).map_err(gdal_err)?,
            (None, None) => {
                return Err(ImportError::MissingCrs {
                    path: path.to_owned(),
                    what: format!("layer `{src_name}`"),
                })
            }
        };
        let keys: Vec<String> = l.defn().fields().map(|f| f.name()).collect();
        // Sniff the geometry family from the first features, then read from the start.
        let fam = l
            .features()
            .take(256)
            .filter_map(|f| f.geometry().and_then(|g| g.to_geo().ok()))
            .map(|g| family(&g))
            .find(|f| *f != GeometryFamily::Unknown)
            .unwrap_or(GeometryFamily::Unknown);
        l.reset_feature_reading();
        let kind = opts.kind.unwrap_or_else(|| layer_kind(&name, &keys, fam));
        let net = (kind == LayerKind::Infrastructure && fam == GeometryFamily::Line)
            .then(|| network_kind(&name, &keys));
        let source = LayerSource {
            path: path.display().to_string(),
            format: driver.clone(),
            crs,
        };
        let mut b = LayerBuilder::new(name, kind, source, net, opts);
        progress.set_length(l.feature_count());
        progress.set_position(0);
        progress.set_message(format!("{driver} layer {src_name}"));
        crate::take_gdal_failure();
        let mut read = 0u64;
        for f in l.features() {
            read += 1;
            progress.inc(1);
            let mut attrs: Vec<(String, Value)> = f
                .fields()
                .filter_map(|(k, v)| v.map(|v| (k, value_of(v))))
                .collect();
            if let Some(fid) = f.fid() {
                attrs.push(("source_fid".into(), Value::Int(fid as i64)));
            }
            match f.geometry().map(|g| g.to_geo()) {
                None => b.add(None, attrs),
                Some(Ok(g)) => b.add(Some(g), attrs),
                Some(Err(_)) => {
                    b.count_source_object();
                    b.skip("unsupported geometry type (curves, TIN...)");
                }
            }
        }
        // A driver that meets a truncated or corrupt feature reports it and ends the iteration early: that is
        // a broken file, not a shorter layer.
        if let Some(msg) = crate::take_gdal_failure() {
            return Err(ImportError::Corrupt {
                path: path.to_owned(),
                format: driver.clone(),
                detail: format!("{msg}, after {read} features of layer {src_name}"),
            });
        }
        out.push(b.finish());
    }
    if out.is_empty() {
        return Err(ImportError::Unsupported {
            path: path.to_owned(),
            detail: "no vector layers".into(),
        });
    }
    Ok(out)
}

//! Export of a scene layer through GDAL: GeoPackage, FlatGeobuf, GeoJSON, Shapefile (by extension).
//!
//! Written into a temporary directory beside the target and renamed into place, so an existing file is replaced
//! only by a complete one. Coordinates go out in the scene CRS (absolute, origin added back) or in `--crs`;
//! GeoJSON defaults to EPSG:4326 as RFC 7946 requires. Besides the source attributes, each feature carries
//! `ct_id` (the scene feature id) and, for buildings, `ct_height`, `ct_hsrc`, `ct_minh`, `ct_base`.

use citytwin_engine::crs::CrsError;
use citytwin_engine::{Layer, SceneFrame, ValueRef};
use gdal::spatial_ref::{AxisMappingStrategy, SpatialRef};
use gdal::vector::{Feature, LayerAccess, LayerOptions, OGRFieldType, OGRwkbGeometryType, ToGdal};
use gdal::DriverManager;
use geo_types::{Geometry, MultiLineString, MultiPolygon};
use indicatif::ProgressBar;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Export errors.
#[derive(Debug, Error)]
pub enum ExportError {
    /// The extension names no format we write.
    #[error("{path}: unknown output format (use .gpkg, .fgb, .geojson or .shp)")]
    UnknownFormat {
        /// The output path.
        path: PathBuf,
    },
    /// The output CRS is unusable.
    #[error("{path}")]
    Crs {
        /// The output path.
        path: PathBuf,
        /// Cause.
        #[source]
        source: CrsError,
    },
    /// GDAL failed.
    #[error("{path}: GDAL")]
    Gdal {
        /// The output path.
        path: PathBuf,
        /// Cause.
        #[source]
        source: gdal::errors::GdalError,
    },
    /// The file system failed.
    #[error("{path}")]
    Io {
        /// The output path.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
}

/// The GDAL driver and default CRS for an output path.
fn driver_for(path: &Path) -> Option<(&'static str, Option<&'static str>)> {
    let name = path.file_name()?.to_string_lossy().to_ascii_lowercase();
    Some(if name.ends_with(".gpkg") {
        ("GPKG", None)
    } else if name.ends_with(".fgb") {
        ("FlatGeobuf", None)
    } else if name.ends_with(".geojson") || name.ends_with(".json") {
        ("GeoJSON", Some("EPSG:4326"))
    } else if name.ends_with(".shp") {
        ("ESRI Shapefile", None)
    } else {
        return None;
    })
}

#[derive(Clone, Copy, PartialEq)]
enum FieldKind {
    Int,
    Real,
    Text,
}

fn field_kinds(layer: &Layer) -> Vec<Option<FieldKind>> {
    let mut kinds: Vec<Option<FieldKind>> = vec![None; layer.keys.names().len()];
    for f in &layer.features {
        for (k, v) in f.attributes.iter() {
            let new = match v {
                ValueRef::Null => continue,
                ValueRef::Bool(_) | ValueRef::Int(_) => FieldKind::Int,
                ValueRef::Float(_) => FieldKind::Real,
                ValueRef::Text(_) => FieldKind::Text,
            };
            let slot = &mut kinds[k as usize];
            *slot = Some(match (*slot, new) {
                (None, n) => n,
                (Some(a), b) if a == b => a,
                (Some(FieldKind::Int), FieldKind::Real)
                | (Some(FieldKind::Real), FieldKind::Int) => FieldKind::Real,
                _ => FieldKind::Text,
            });
        }
    }
    kinds
}

/// The layer's geometry type: one type if uniform, the multi type if single and multi are mixed.
fn geometry_type(layer: &Layer) -> (OGRwkbGeometryType::Type, bool) {
    use OGRwkbGeometryType::*;
    let (mut poly, mut mpoly, mut line, mut mline, mut point, mut other) =
        (false, false, false, false, false, false);
    for f in &layer.features {
        match f.geometry {
            Geometry::Polygon(_) => poly = true,
            Geometry::MultiPolygon(_) => mpoly = true,
            Geometry::LineString(_) => line = true,
            Geometry::MultiLineString(_) => mline = true,
            Geometry::Point(_) => point = true,
            _ => other = true,
        }
    }
    match (poly, mpoly, line, mline, point, other) {
        (true, false, false, false, false, false) => (wkbPolygon, false),
        (_, true, false, false, false, false) => (wkbMultiPolygon, true),
        (false, false, true, false, false, false) => (wkbLineString, false),
        (false, false, _, true, false, false) => (wkbMultiLineString, true),
        (false, false, false, false, true, false) => (wkbPoint, false),
        _ => (wkbUnknown, false),
    }
}

/// Writes `layer` of a scene in `frame` to `path`, in `crs` (default: the scene CRS, or EPSG:4326 for GeoJSON).
/// Returns the number of features written.
///
/// # Errors
/// [`ExportError`] naming the output; an existing file at `path` is left as it was.
pub fn export_layer(
    layer: &Layer,
    frame: &SceneFrame,
    path: &Path,
    crs: Option<&str>,
    progress: &ProgressBar,
) -> Result<usize, ExportError> {
    crate::route_gdal_messages();
    let (driver_name, default_crs) =
        driver_for(path).ok_or_else(|| ExportError::UnknownFormat {
            path: path.to_owned(),
        })?;
    let out_crs = crs.or(default_crs).unwrap_or(&frame.crs).to_owned();
    let gdal_err = |source| ExportError::Gdal {
        path: path.to_owned(),
        source,
    };
    let io_err = |source| ExportError::Io {
        path: path.to_owned(),
        source,
    };
    let tf = frame
        .from_local(&out_crs)
        .map_err(|source| ExportError::Crs {
            path: path.to_owned(),
            source,
        })?;
    use citytwin_engine::store::atomic;
    // A symlink is written through; a device or directory is refused, not replaced.
    let target = atomic::resolve_target(path).map_err(io_err)?;
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    atomic::remove_stale_temporaries(&dir);
    let tmp = tempfile::Builder::new()
        .prefix(&atomic::temp_prefix())
        .suffix(atomic::TEMP_SUFFIX)
        .tempdir_in(&dir)
        .map_err(io_err)?;
    let file_name = target
        .file_name()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("out"));
    let tmp_path = tmp.path().join(&file_name);

    let driver = DriverManager::get_driver_by_name(driver_name).map_err(gdal_err)?;
    let mut ds = driver.create_vector_only(&tmp_path).map_err(gdal_err)?;
    let mut srs = SpatialRef::from_definition(&out_crs).map_err(gdal_err)?;
    srs.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
    // GeoPackage is SQLite: one transaction makes the writes fast; other drivers write directly.
    if driver_name == "GPKG" {
        let mut txn = ds.start_transaction().map_err(gdal_err)?;
        write_features(&mut txn, layer, &srs, &tf, path, progress)?;
        txn.commit().map_err(gdal_err)?;
    } else {
        write_features(&mut ds, layer, &srs, &tf, path, progress)?;
    }
    ds.close().map_err(gdal_err)?;
    // Move every file the driver wrote (a shapefile is several) into place.
    for entry in std::fs::read_dir(tmp.path()).map_err(io_err)? {
        let entry = entry.map_err(io_err)?;
        std::fs::rename(entry.path(), dir.join(entry.file_name())).map_err(io_err)?;
    }
    Ok(layer.features.len())
}

fn write_features(
    target: &mut gdal::Dataset,
    layer: &Layer,
    srs: &SpatialRef,
    tf: &citytwin_engine::FrameTransform,
    path: &Path,
    progress: &ProgressBar,
) -> Result<(), ExportError> {
    let gdal_err = |source| ExportError::Gdal {
        path: path.to_owned(),
        source,
    };
    let (gtype, promote) = geometry_type(layer);
    let kinds = field_kinds(layer);
    let is_building = layer.features.iter().any(|f| f.building.is_some());
    {
        let out = target
            .create_layer(LayerOptions {
                name: &layer.name,
                srs: Some(srs),
                ty: gtype,
                options: None,
            })
            .map_err(gdal_err)?;
        let mut fields: Vec<(String, OGRFieldType::Type)> =
            vec![("ct_id".into(), OGRFieldType::OFTInteger64)];
        if is_building {
            fields.push(("ct_height".into(), OGRFieldType::OFTReal));
            fields.push(("ct_hsrc".into(), OGRFieldType::OFTString));
            fields.push(("ct_minh".into(), OGRFieldType::OFTReal));
            fields.push(("ct_base".into(), OGRFieldType::OFTReal));
        }
        for (i, k) in kinds.iter().enumerate() {
            if let Some(k) = k {
                let ty = match k {
                    FieldKind::Int => OGRFieldType::OFTInteger64,
                    FieldKind::Real => OGRFieldType::OFTReal,
                    FieldKind::Text => OGRFieldType::OFTString,
                };
                fields.push((layer.keys.name(i as u32).to_owned(), ty));
            }
        }
        let defs: Vec<(&str, OGRFieldType::Type)> =
            fields.iter().map(|(n, t)| (n.as_str(), *t)).collect();
        out.create_defn_fields(&defs).map_err(gdal_err)?;
        // Field positions by our order (drivers may launder names, never reorder).
        let attr_slot: Vec<Option<usize>> = {
            let mut next = if is_building { 5 } else { 1 };
            kinds
                .iter()
                .map(|k| {
                    k.map(|_| {
                        next += 1;
                        next - 1
                    })
                })
                .collect()
        };
        progress.set_length(layer.features.len() as u64);
        progress.set_message(format!("export {}", layer.name));
        for f in &layer.features {
            progress.inc(1);
            let mut g = f.geometry.clone();
            tf.geometry(&mut g).map_err(|source| ExportError::Crs {
                path: path.to_owned(),
                source,
            })?;
            if promote {
                g = match g {
                    Geometry::Polygon(p) => Geometry::MultiPolygon(MultiPolygon::new(vec![p])),
                    Geometry::LineString(l) => {
                        Geometry::MultiLineString(MultiLineString::new(vec![l]))
                    }
                    other => other,
                };
            }
            let mut feat = Feature::new(out.defn()).map_err(gdal_err)?;
            feat.set_geometry(g.to_gdal().map_err(gdal_err)?)
                .map_err(gdal_err)?;
            feat.set_field_integer64(0, f.id.0 as i64)
                .map_err(gdal_err)?;
            if let Some(b) = &f.building {
                feat.set_field_double(1, b.height).map_err(gdal_err)?;
                feat.set_field_string(2, b.height_source.as_str())
                    .map_err(gdal_err)?;
                feat.set_field_double(3, b.min_height).map_err(gdal_err)?;
                feat.set_field_double(4, b.base_elevation)
                    .map_err(gdal_err)?;
            }
            for (k, v) in f.attributes.iter() {
                let (Some(slot), Some(kind)) = (attr_slot[k as usize], kinds[k as usize]) else {
                    continue;
                };
                let r = match (kind, v) {
                    (_, ValueRef::Null) => feat.set_field_null(slot),
                    (FieldKind::Int, ValueRef::Int(i)) => feat.set_field_integer64(slot, i),
                    (FieldKind::Int, ValueRef::Bool(b)) => {
                        feat.set_field_integer64(slot, i64::from(b))
                    }
                    (FieldKind::Real, v) => {
                        feat.set_field_double(slot, v.as_f64().unwrap_or(f64::NAN))
                    }
                    (_, v) => feat.set_field_string(slot, &v.to_string()),
                };
                r.map_err(gdal_err)?;
            }
            feat.create(&out).map_err(gdal_err)?;
        }
    }
    Ok(())
}

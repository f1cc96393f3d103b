//! Terrain from any raster GDAL reads (GeoTIFF DEMs, ASCII grids, ...): band 1 as heights in metres.

use crate::gdal_vector::srs_definition;
use crate::{default_layer_name, ImportError, ImportOptions};
use citytwin_engine::{Layer, LayerKind, LayerSource, Terrain, Value};
use gdal::Dataset;
use geo_types::{Geometry, Rect};
use indicatif::ProgressBar;
use std::path::Path;

/// Rows read per GDAL request.
const ROWS_PER_READ: usize = 256;

/// Imports band 1 of a raster as a terrain layer (kind framework) with one feature: the grid's extent.
///
/// # Errors
/// [`ImportError::Gdal`], [`ImportError::MissingCrs`], or [`ImportError::Unsupported`] for a raster without a
/// georeference or a rotated one.
pub fn import(
    path: &Path,
    opts: &ImportOptions,
    progress: &ProgressBar,
) -> Result<Layer, ImportError> {
    let gdal_err = |source| ImportError::Gdal {
        path: path.to_owned(),
        source,
    };
    let unsupported = |detail: &str| ImportError::Unsupported {
        path: path.to_owned(),
        detail: detail.to_owned(),
    };
    let ds = Dataset::open(path).map_err(gdal_err)?;
    let driver = ds.driver().short_name();
    let (cols, rows) = ds.raster_size();
    if cols == 0 || rows == 0 {
        return Err(unsupported("the raster is empty"));
    }
    let gt = ds
        .geo_transform()
        .map_err(|_| unsupported("the raster has no georeference (geotransform)"))?;
    if gt[2] != 0.0 || gt[4] != 0.0 {
        return Err(unsupported(
            "rotated or sheared rasters are not supported; warp it north-up first (gdalwarp)",
        ));
    }
    let (dx, dy) = (gt[1], gt[5]);
    if dx.is_nan() || dx <= 0.0 || dy.is_nan() || dy == 0.0 {
        return Err(unsupported(
            "the geotransform has a zero or negative pixel size",
        ));
    }
    let crs = match &opts.src_crs {
        Some(c) => c.clone(),
        None => match ds.spatial_ref() {
            Ok(srs) => srs_definition(&srs).map_err(gdal_err)?,
            Err(_) => {
                return Err(ImportError::MissingCrs {
                    path: path.to_owned(),
                    what: "the raster".into(),
                })
            }
        },
    };
    let band = ds.rasterband(1).map_err(gdal_err)?;
    let nodata = band.no_data_value();
    progress.set_length(rows as u64);
    progress.set_position(0);
    progress.set_message(format!("{driver} terrain"));
    let mut heights = Vec::with_capacity(cols * rows);
    let mut r0 = 0;
    while r0 < rows {
        let n = ROWS_PER_READ.min(rows - r0);
        let buf = band
            .read_as::<f64>((0, r0 as isize), (cols, n), (cols, n), None)
            .map_err(gdal_err)?;
        heights.extend(buf.data().iter().map(|&h| {
            if !h.is_finite() || nodata.is_some_and(|nd| h == nd) {
                f32::NAN
            } else {
                h as f32
            }
        }));
        r0 += n;
        progress.inc(n as u64);
    }
    let (origin, heights) = if dy < 0.0 {
        ([gt[0], gt[3]], heights)
    } else {
        // South-up: flip rows so row 0 is the northernmost.
        let mut flipped = Vec::with_capacity(heights.len());
        for r in (0..rows).rev() {
            flipped.extend_from_slice(&heights[r * cols..(r + 1) * cols]);
        }
        ([gt[0], gt[3] + rows as f64 * dy], flipped)
    };
    let terrain = Terrain {
        origin,
        cell_size: [dx, dy.abs()],
        cols,
        rows,
        heights,
    };
    let Some((lo, hi)) = terrain.height_range() else {
        return Err(unsupported(
            "the raster holds no valid heights (all no data)",
        ));
    };
    let name = opts
        .layer_name
        .clone()
        .unwrap_or_else(|| default_layer_name(path));
    let mut layer = Layer::new(
        name,
        opts.kind.unwrap_or(LayerKind::Framework),
        LayerSource {
            path: path.display().to_string(),
            format: driver,
            crs,
        },
    );
    let e = terrain.extent();
    layer.push_feature(
        Geometry::Polygon(Rect::new((e[0], e[1]), (e[2], e[3])).to_polygon()),
        [
            ("kind", Value::Text("terrain".into())),
            ("cols", Value::Int(cols as i64)),
            ("rows", Value::Int(rows as i64)),
            ("min_elevation_m", Value::Float(lo)),
            ("max_elevation_m", Value::Float(hi)),
        ],
        None,
    );
    layer.report.source_objects = 1;
    layer.terrain = Some(terrain);
    Ok(layer)
}

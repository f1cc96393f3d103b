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

/// The smallest whole factor that brings `cols × rows` within `max` cells.
fn decimation(cols: usize, rows: usize, max: usize) -> usize {
    let mut f = 1;
    while cols.div_ceil(f).saturating_mul(rows.div_ceil(f)) > max {
        f += 1;
    }
    f
}

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
    // A raster with more cells than a terrain keeps is averaged down by a whole factor as it is read.
    let factor = decimation(cols, rows, opts.max_terrain_cells.max(1));
    let (src_cols, src_rows) = (cols, rows);
    let (cols, rows) = (cols.div_ceil(factor), rows.div_ceil(factor));
    let (dx, dy) = (
        dx * src_cols as f64 / cols as f64,
        dy * src_rows as f64 / rows as f64,
    );
    progress.set_length(rows as u64);
    progress.set_position(0);
    progress.set_message(format!("{driver} terrain"));
    let mut heights = Vec::with_capacity(cols * rows);
    let mut r0 = 0;
    while r0 < rows {
        let n = ROWS_PER_READ.min(rows - r0);
        let (sr0, sr1) = (
            r0 * src_rows / rows,
            ((r0 + n) * src_rows / rows).min(src_rows),
        );
        let buf = band
            .read_as::<f64>(
                (0, sr0 as isize),
                (src_cols, sr1 - sr0),
                (cols, n),
                (factor > 1).then_some(gdal::raster::ResampleAlg::Average),
            )
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
    if factor > 1 {
        layer.report.repair(format!(
            "averaged {src_cols}×{src_rows} cells to {cols}×{rows} (at most {} cells; see --max-terrain-cells)",
            opts.max_terrain_cells
        ));
    }
    layer.terrain = Some(terrain);
    Ok(layer)
}

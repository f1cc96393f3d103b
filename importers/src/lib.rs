//! # citytwin importers
//!
//! Reads city data files into [`citytwin_engine::Layer`]s, geometry still in the source CRS (recorded in
//! `layer.source.crs`); [`citytwin_engine::Scene::ingest`] then brings each into the scene frame.
//!
//! Entry point: [`import`], which detects the format from the file's content ([`detect`]) and dispatches:
//! - [`osm`]: OpenStreetMap PBF (osmpbf): buildings, roads as a routable graph, power lines, pipelines, waterways,
//!   railways, land use;
//! - [`geojson_reader`]: GeoJSON, streamed feature by feature;
//! - [`gdal_vector`]: every vector format GDAL reads (Shapefile, GeoPackage, FlatGeobuf, GML, KML, CSV...);
//! - [`gdal_raster`]: DEMs (GeoTIFF or any GDAL raster) into terrain grids;
//! - [`cityjson`]: CityJSON 1.x/2.0 buildings with their best LOD;
//! - [`sumo`]: SUMO road networks (`.net.xml`) as road layers, and SUMO or CSV demand as trips;
//! - [`epanet`]: EPANET water networks (`.inp`): the hydraulic model, and a water layer for the scene;
//! - [`pandapower`]: pandapower electricity networks (`to_json`): the power-flow model, and a power layer.
//!
//! Bad features are skipped or repaired and counted per reason in each layer's report; bad files (truncated,
//! corrupt, no CRS, wrong extension) fail the import with an [`ImportError`] naming the file.
//!
//! # Glossary
//! - **source CRS**: the CRS of the input coordinates; `--src-crs` overrides or supplies it.
//! - **layer kind**: buildings, framework or infrastructure; from `--kind` or detected ([`classify`]).
//! - **storey height**: metres per level when a height is estimated from `building:levels`.

pub mod attrs;
pub mod cityjson;
pub mod classify;
pub mod detect;
pub mod epanet;
mod error;
pub mod export;
pub mod gdal_raster;
pub mod gdal_vector;
mod geojson_de;
pub mod geojson_reader;
mod geojson_stream;
mod layer_builder;
pub mod osm;
pub mod pandapower;
pub mod sumo;

pub use detect::Format;
pub use error::ImportError;
pub use layer_builder::LayerBuilder;

use citytwin_engine::{Layer, LayerKind};
use indicatif::ProgressBar;
use std::path::Path;

/// Options for an import.
#[derive(Clone, Debug)]
pub struct ImportOptions {
    /// Force the layer kind instead of detecting it.
    pub kind: Option<LayerKind>,
    /// Name for the layer (for multi-layer sources, a prefix).
    pub layer_name: Option<String>,
    /// CRS of the input, overriding (or supplying, when the file has none) the file's own.
    pub src_crs: Option<String>,
    /// Attribute holding the building height, metres (default: common names such as `height`).
    pub height_attr: Option<String>,
    /// Attribute holding the number of storeys (default: `building:levels`, `levels`, `floors`...).
    pub levels_attr: Option<String>,
    /// Attribute holding the building use (default: `building`, `use`, `function`...).
    pub use_attr: Option<String>,
    /// Metres per storey for heights from levels.
    pub storey_height_m: f64,
    /// Height of buildings with no height information, metres.
    pub default_height_m: f64,
    /// Scale and offset applied to the file's coordinates before its CRS applies (for schematic or local
    /// drawings: EPANET and pandapower examples, CAD exports): `x' = x·sx + ox`, `y' = y·sy + oy`.
    pub placement: Option<Placement>,
    /// The most cells a terrain layer keeps: a larger raster is averaged down on read (GDAL) to fit, so that a
    /// 20000 × 20000 DEM imports as the scene needs rather than as 1.6 GB of heights.
    pub max_terrain_cells: usize,
}

/// An affine placement of a file's coordinates: scale, then offset.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Placement {
    /// Scale factors along x and y.
    pub scale: [f64; 2],
    /// Offset added after scaling, in the target CRS's units.
    pub offset: [f64; 2],
}

impl Placement {
    fn apply(&self, x: f64, y: f64) -> (f64, f64) {
        (
            x * self.scale[0] + self.offset[0],
            y * self.scale[1] + self.offset[1],
        )
    }
}

/// Applies a placement to everything of a layer that has coordinates.
fn place(layer: &mut Layer, p: &Placement, path: &Path) -> Result<(), ImportError> {
    use geo::MapCoordsInPlace;
    if layer.terrain.is_some() {
        return Err(ImportError::Unsupported {
            path: path.to_owned(),
            detail: "--scale and --offset place vector data, not rasters".into(),
        });
    }
    for f in &mut layer.features {
        f.geometry.map_coords_in_place(|c| {
            let (x, y) = p.apply(c.x, c.y);
            geo_types::Coord { x, y }
        });
        if let Some(s) = f.building.as_mut().and_then(|b| b.surfaces.as_mut()) {
            for v in &mut s.vertices {
                (v[0], v[1]) = p.apply(v[0], v[1]);
            }
        }
    }
    if let Some(net) = &mut layer.network {
        for n in &mut net.nodes {
            let (x, y) = p.apply(n.position[0], n.position[1]);
            n.position = [x, y];
        }
    }
    Ok(())
}

/// The default of [`ImportOptions::max_terrain_cells`]: 4096 × 4096 (64 MB of heights).
pub const DEFAULT_MAX_TERRAIN_CELLS: usize = 4096 * 4096;

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            kind: None,
            layer_name: None,
            src_crs: None,
            height_attr: None,
            levels_attr: None,
            use_attr: None,
            storey_height_m: 3.0,
            default_height_m: 9.0,
            placement: None,
            max_terrain_cells: DEFAULT_MAX_TERRAIN_CELLS,
        }
    }
}

/// Imports one file into one or more layers (in the source CRS, draft ids), reporting progress on `progress`.
///
/// # Errors
/// [`ImportError`] naming the file: unreadable, unrecognised or mismatched format, truncated or corrupt, no CRS,
/// unknown CRS.
pub fn import(
    path: &Path,
    opts: &ImportOptions,
    progress: &ProgressBar,
) -> Result<Vec<Layer>, ImportError> {
    route_gdal_messages();
    let format = detect::detect(path)?;
    tracing::info!(path = %path.display(), ?format, "importing");
    if let Some(crs) = &opts.src_crs {
        citytwin_engine::crs::describe(crs).map_err(|source| ImportError::Crs {
            path: path.to_owned(),
            source,
        })?;
    }
    let layers = match format {
        Format::OsmPbf => osm::import(path, opts, progress)?,
        Format::GeoJson => vec![geojson_reader::import(path, opts, progress)?],
        Format::CityJson => vec![cityjson::import(path, opts, progress)?],
        Format::GdalVector(_) => gdal_vector::import(path, opts, progress)?,
        Format::GdalRaster(_) => vec![gdal_raster::import(path, opts, progress)?],
        Format::SumoNet => vec![sumo::import(path, opts, progress)?],
        Format::EpanetInp => vec![epanet::import_layer(path, opts, progress)?],
        Format::Pandapower => vec![pandapower::import_layer(path, opts, progress)?],
    };
    let mut layers = layers;
    if let Some(p) = &opts.placement {
        for l in &mut layers {
            place(l, p, path)?;
        }
    }
    for l in &layers {
        citytwin_engine::crs::describe(&l.source.crs).map_err(|source| ImportError::Crs {
            path: path.to_owned(),
            source,
        })?;
    }
    Ok(layers)
}

/// Sends GDAL's own messages to the log (`citytwin -v`) instead of straight to stderr: a failure is reported
/// by the importer, naming the file (GDAL's last error message travels in the error), and repairs are counted.
pub(crate) fn route_gdal_messages() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        gdal::config::set_error_handler(|class, code, msg| {
            use gdal::errors::CplErrType;
            match class {
                CplErrType::Warning => tracing::info!(target: "gdal", code, "{msg}"),
                CplErrType::Failure | CplErrType::Fatal => {
                    tracing::debug!(target: "gdal", ?class, code, "{msg}");
                    GDAL_FAILURE.with(|f| *f.borrow_mut() = Some(msg.to_owned()));
                }
                _ => tracing::debug!(target: "gdal", ?class, code, "{msg}"),
            }
        });
    });
}

thread_local! {
    /// The last failure GDAL reported on this thread since [`take_gdal_failure`]: a driver that meets a broken
    /// feature says so here and then simply ends the iteration.
    static GDAL_FAILURE: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// The failure GDAL reported on this thread since the last call, if any.
pub(crate) fn take_gdal_failure() -> Option<String> {
    GDAL_FAILURE.with(|f| f.borrow_mut().take())
}

/// The default layer name for a file: its stem without extensions (`kotka.osm.pbf` → `kotka`).
pub fn default_layer_name(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "layer".into());
    let stem = name.split('.').next().unwrap_or(&name).to_owned();
    if stem.is_empty() {
        "layer".into()
    } else {
        stem
    }
}

//! Building properties: height, where it came from, base elevation, and optional 3D surfaces (CityJSON LOD2).

use serde::{Deserialize, Serialize};

/// Where a building's height came from, best first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum HeightSource {
    /// Measured 3D geometry (CityJSON solids or surfaces).
    Geometry,
    /// An explicit height attribute (OSM `height`, a `height` field...).
    HeightAttribute,
    /// Number of storeys × the storey height.
    Levels,
    /// No information: the importer's default height.
    Default,
}

impl HeightSource {
    /// A short lowercase name for reports and exports.
    pub fn as_str(self) -> &'static str {
        match self {
            HeightSource::Geometry => "geometry",
            HeightSource::HeightAttribute => "height_attribute",
            HeightSource::Levels => "levels",
            HeightSource::Default => "default",
        }
    }
}

/// 3D surfaces of a building in the scene's local frame (x, y in metres from the origin; z in metres as in the
/// source's vertical datum). Each polygon is a list of rings (outer first), each ring a list of vertex indices.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Surfaces {
    /// Level of detail of the source geometry, e.g. `"2.2"`.
    pub lod: String,
    /// Vertices `[x, y, z]`.
    pub vertices: Vec<[f64; 3]>,
    /// Polygons, each a list of rings of vertex indices.
    pub polygons: Vec<Vec<Vec<u32>>>,
}

/// What a building feature adds to a plain polygon feature.
///
/// # Units
/// All lengths in metres. `height` is measured from the base (`base_elevation + min_height` is the bottom of the
/// volume, `base_elevation + height` its top).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Building {
    /// Height of the top above the base.
    pub height: f64,
    /// Where `height` came from.
    pub height_source: HeightSource,
    /// Height of the bottom above the base (OSM `min_height`, building parts over passages).
    pub min_height: f64,
    /// Ground elevation under the building: from the scene terrain, or from the 3D geometry's lowest point.
    pub base_elevation: f64,
    /// Number of storeys above ground, when known.
    pub levels: Option<f32>,
    /// Use or class (OSM `building=*`, a `use` field...), when known.
    pub usage: Option<Box<str>>,
    /// Best-LOD 3D surfaces, when the source had them.
    pub surfaces: Option<Box<Surfaces>>,
}

impl Building {
    /// A building of `height` metres with no other information.
    pub fn with_height(height: f64, height_source: HeightSource) -> Self {
        Building {
            height,
            height_source,
            min_height: 0.0,
            base_elevation: 0.0,
            levels: None,
            usage: None,
            surfaces: None,
        }
    }
}

//! The scene: a city of layers in one local projected frame.
//!
//! Entry type: [`Scene`]. Importers hand it [`Layer`]s whose geometry is still in their source CRS and whose
//! feature ids are drafts (`0..n`); [`Scene::ingest`] transforms them into the scene's [`SceneFrame`], gives the
//! features their scene-wide ids, measures network edges and sets building base elevations from the terrain.
//!
//! # Glossary
//! - **frame**: the scene's projected CRS (metres) and origin; local coordinates are CRS coordinates minus origin.
//! - **layer kind**: buildings, framework (terrain, boundaries, land use) or infrastructure (networks).
//! - **LOD1**: a building as its footprint extruded to one height. **LOD2**: with roof shapes (CityJSON surfaces).
//! - **DEM**: digital elevation model, a raster of ground heights; here a [`Terrain`] grid.

mod attributes;
mod building;
mod feature;
mod frame;
mod integrity;
mod layer;
mod network;
mod terrain;

pub use attributes::{
    parse_number_prefix, AttrIter, Attributes, KeyIndex, KeyTable, Value, ValueRef,
};
pub use building::{Building, HeightSource, Surfaces, Usage};
pub use feature::Feature;
pub use frame::{FrameTransform, SceneFrame};
pub use layer::{Layer, LayerKind, LayerReport, LayerSource};
pub use network::{
    Edge, EdgeProps, Links, Modes, Network, NetworkBuilder, NetworkKind, Node, NodeKind, PipeProps,
    PowerLineProps, RoadClass, RoadProps, Turn,
};
pub use terrain::Terrain;

use crate::crs::CrsError;
use crate::ids::FeatureId;
use geo::{Euclidean, Length};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Errors from scene edits.
#[derive(Debug, Error)]
pub enum SceneError {
    /// A layer of that name exists already.
    #[error("the scene already has a layer named `{0}` (choose another name with --layer, or --replace it)")]
    DuplicateLayer(String),
    /// No layer of that name.
    #[error("the scene has no layer named `{name}` (it has: {available})")]
    UnknownLayer {
        /// The name asked for.
        name: String,
        /// The names there are.
        available: String,
    },
    /// The layer's coordinates could not be brought into the scene frame.
    #[error("layer `{layer}` cannot be transformed into the scene frame")]
    Transform {
        /// Layer name.
        layer: String,
        /// Cause.
        #[source]
        source: CrsError,
    },
    /// A terrain grid transforms into nothing usable.
    #[error("terrain of layer `{0}` does not overlap any valid part of the scene frame")]
    EmptyTerrain(String),
}

/// A city scene.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Scene {
    /// The local projected frame all geometry is in.
    pub frame: SceneFrame,
    /// Layers, in import order.
    pub layers: Vec<Layer>,
    /// Named cameras for the viewer and `render --bookmark`, sorted by name.
    pub bookmarks: Vec<Bookmark>,
    /// The next feature id to hand out.
    next_feature_id: u64,
}

/// A named camera: an orbit around `target`.
///
/// # Units
/// Local frame metres; angles in degrees (heading clockwise from north, pitch below the horizon).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Bookmark {
    /// Name.
    pub name: String,
    /// The point looked at, local frame `[x, y, z]`.
    pub target: [f64; 3],
    /// Eye distance from the target.
    pub distance: f64,
    /// View heading.
    pub heading_deg: f64,
    /// View pitch.
    pub pitch_deg: f64,
}

impl Scene {
    /// An empty scene in `frame`.
    pub fn new(frame: SceneFrame) -> Self {
        Scene {
            frame,
            layers: Vec::new(),
            bookmarks: Vec::new(),
            next_feature_id: 1,
        }
    }

    /// The layer called `name`.
    ///
    /// # Errors
    /// [`SceneError::UnknownLayer`] listing the names there are.
    pub fn layer(&self, name: &str) -> Result<&Layer, SceneError> {
        self.layers
            .iter()
            .find(|l| l.name == name)
            .ok_or_else(|| SceneError::UnknownLayer {
                name: name.to_owned(),
                available: self.layer_names(),
            })
    }

    /// Names of all layers, comma-separated.
    pub fn layer_names(&self) -> String {
        let names: Vec<_> = self.layers.iter().map(|l| l.name.as_str()).collect();
        if names.is_empty() {
            "no layers".into()
        } else {
            names.join(", ")
        }
    }

    /// The feature with `id` and its layer.
    pub fn feature(&self, id: FeatureId) -> Option<(&Layer, &crate::Feature)> {
        self.locate(id)
            .map(|(li, fi)| (&self.layers[li], &self.layers[li].features[fi]))
    }

    /// Where the feature with `id` is: `(layer index, feature index)`.
    ///
    /// # Performance
    /// Each layer holds its features sorted by id, so this is a range check per layer and one binary search.
    pub fn locate(&self, id: FeatureId) -> Option<(usize, usize)> {
        self.layers.iter().enumerate().find_map(|(li, l)| {
            let (first, last) = (l.features.first()?.id, l.features.last()?.id);
            if id < first || id > last {
                return None;
            }
            l.features
                .binary_search_by_key(&id, |f| f.id)
                .ok()
                .map(|fi| (li, fi))
        })
    }

    /// The id the next imported feature will get (ids below it are taken or retired).
    pub fn next_feature_id(&self) -> FeatureId {
        FeatureId(self.next_feature_id)
    }

    /// Total number of features.
    pub fn feature_count(&self) -> usize {
        self.layers.iter().map(|l| l.features.len()).sum()
    }

    /// Bounding box of everything, local frame.
    pub fn bbox(&self) -> Option<[f64; 4]> {
        self.layers.iter().filter_map(Layer::bbox).reduce(|a, b| {
            [
                a[0].min(b[0]),
                a[1].min(b[1]),
                a[2].max(b[2]),
                a[3].max(b[3]),
            ]
        })
    }

    /// Adds `layer`, whose geometry is in `layer.source.crs` and whose feature ids are drafts (`0..n`, as given by
    /// [`Layer::push_feature`]): transforms it into the scene frame, assigns scene ids, measures network edges and
    /// sets building base elevations from the terrain. With `replace`, a layer of the same name is replaced.
    ///
    /// # Errors
    /// [`SceneError::DuplicateLayer`] if the name is taken and `replace` is false; [`SceneError::Transform`] if a
    /// coordinate cannot be transformed. On error the scene is unchanged.
    pub fn ingest(&mut self, mut layer: Layer, replace: bool) -> Result<(), SceneError> {
        let existing = self.layers.iter().position(|l| l.name == layer.name);
        if existing.is_some() && !replace {
            return Err(SceneError::DuplicateLayer(layer.name));
        }
        let tf =
            self.frame
                .to_local(&layer.source.crs)
                .map_err(|source| SceneError::Transform {
                    layer: layer.name.clone(),
                    source,
                })?;
        frame::transform_layer(&mut layer, &tf).map_err(|e| match e {
            frame::LayerTransformError::Crs(source) => SceneError::Transform {
                layer: layer.name.clone(),
                source,
            },
            frame::LayerTransformError::EmptyTerrain => {
                SceneError::EmptyTerrain(layer.name.clone())
            }
        })?;

        // Scene ids: drafts are 0..n in order.
        let base = self.next_feature_id;
        let mut max = 0;
        for f in &mut layer.features {
            max = max.max(f.id.0);
            f.id = FeatureId(base + f.id.0);
        }
        // Importers give drafts in order; a stable sort would set aside half the layer (44 MB at 1M buildings)
        // even to find nothing to do. Ids are unique, so an unstable sort gives the same order when one is needed.
        if !layer.features.is_sorted_by_key(|f| f.id) {
            layer.features.sort_unstable_by_key(|f| f.id);
        }
        if let Some(net) = &mut layer.network {
            for e in &mut net.edges {
                e.feature = FeatureId(base + e.feature.0);
            }
            for n in &mut net.nodes {
                if let Some(f) = &mut n.feature {
                    *f = FeatureId(base + f.0);
                }
            }
        }
        if let Some(u) = &mut layer.utility {
            u.remap_features(|f| FeatureId(base + f.0));
        }
        self.next_feature_id = base + max + 1;

        // Measure edges in metres, now that geometry is in the frame (unless the source gave lengths).
        if let Some(net) = &mut layer.network {
            for e in net.edges.iter_mut().filter(|e| !e.length_from_source) {
                if let Some(f) = layer
                    .features
                    .binary_search_by_key(&e.feature, |f| f.id)
                    .ok()
                    .map(|i| &layer.features[i])
                {
                    if let geo_types::Geometry::LineString(ls) = &f.geometry {
                        e.length_m = Euclidean.length(ls);
                    }
                }
            }
        }
        layer.invalidate_index();
        let has_terrain = layer.terrain.is_some();
        match existing {
            Some(i) => self.layers[i] = layer,
            None => self.layers.push(layer),
        }
        if has_terrain {
            for i in 0..self.layers.len() {
                self.apply_terrain_to(i);
            }
        } else {
            let i = existing.unwrap_or(self.layers.len() - 1);
            self.apply_terrain_to(i);
        }
        Ok(())
    }

    /// Adds or replaces the bookmark of the same name.
    pub fn set_bookmark(&mut self, b: Bookmark) {
        match self.bookmarks.binary_search_by(|x| x.name.cmp(&b.name)) {
            Ok(i) => self.bookmarks[i] = b,
            Err(i) => self.bookmarks.insert(i, b),
        }
    }

    /// The bookmark called `name`.
    pub fn bookmark(&self, name: &str) -> Option<&Bookmark> {
        self.bookmarks.iter().find(|b| b.name == name)
    }

    /// Removes the layer called `name`.
    ///
    /// # Errors
    /// [`SceneError::UnknownLayer`].
    pub fn remove_layer(&mut self, name: &str) -> Result<Layer, SceneError> {
        let i = self
            .layers
            .iter()
            .position(|l| l.name == name)
            .ok_or_else(|| SceneError::UnknownLayer {
                name: name.to_owned(),
                available: self.layer_names(),
            })?;
        Ok(self.layers.remove(i))
    }

    /// The terrain (the last terrain layer's grid), if any.
    pub fn terrain(&self) -> Option<&Terrain> {
        self.layers.iter().rev().find_map(|l| l.terrain.as_ref())
    }

    /// Sets the base elevation of the buildings of layer `i` from the terrain (the lowest terrain height under
    /// the footprint's outer ring; buildings whose heights come from 3D geometry keep the geometry's base), and
    /// the elevation of its network nodes (where the source gave none).
    fn apply_terrain_to(&mut self, i: usize) {
        let Some(terrain) = self.terrain() else {
            return;
        };
        let lowest_under = |g: &geo_types::Geometry<f64>| -> Option<f64> {
            let rings: Vec<&geo_types::LineString<f64>> = match g {
                geo_types::Geometry::Polygon(p) => vec![p.exterior()],
                geo_types::Geometry::MultiPolygon(mp) => mp.iter().map(|p| p.exterior()).collect(),
                _ => return None,
            };
            rings
                .into_iter()
                .flat_map(|r| r.coords())
                .filter_map(|c| terrain.sample(c.x, c.y))
                .reduce(f64::min)
        };
        let bases: Vec<(usize, f64)> = self.layers[i]
            .features
            .iter()
            .enumerate()
            .filter(|(_, f)| {
                f.building
                    .as_ref()
                    .is_some_and(|b| b.height_source != HeightSource::Geometry)
            })
            .filter_map(|(j, f)| lowest_under(&f.geometry).map(|h| (j, h)))
            .collect();
        let node_heights: Vec<Option<f64>> = self.layers[i]
            .network
            .iter()
            .flat_map(|n| &n.nodes)
            .map(|n| terrain.sample(n.position[0], n.position[1]))
            .collect();
        let layer = &mut self.layers[i];
        for (j, h) in bases {
            if let Some(b) = &mut layer.features[j].building {
                b.base_elevation = h;
            }
        }
        if let Some(net) = &mut layer.network {
            for (n, h) in net.nodes.iter_mut().zip(node_heights) {
                if !n.elevation_from_source {
                    n.elevation_m = h;
                }
            }
        }
    }

    pub(crate) fn after_load(&mut self) {
        for l in &mut self.layers {
            l.after_load();
        }
    }
}

//! A feature: one object of a layer with its geometry, attributes and (for buildings) volume.

use super::attributes::Attributes;
use super::building::Building;
use crate::ids::FeatureId;
use geo::BoundingRect;
use geo_types::Geometry;
use serde::{Deserialize, Serialize};

/// One feature. Geometry is 2D in the scene's local frame (metres east and north of the scene origin).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Feature {
    /// Scene-wide stable id.
    pub id: FeatureId,
    /// Footprint, line or point, local frame.
    pub geometry: Geometry<f64>,
    /// Attributes, keys interned in the layer's [`crate::KeyTable`].
    pub attributes: Attributes,
    /// Volume information for buildings; `None` for other features.
    pub building: Option<Box<Building>>,
}

impl Feature {
    /// Bounding box `[min_x, min_y, max_x, max_y]` of the geometry, `None` if it is empty.
    pub fn bbox(&self) -> Option<[f64; 4]> {
        self.geometry
            .bounding_rect()
            .map(|r| [r.min().x, r.min().y, r.max().x, r.max().y])
    }
}

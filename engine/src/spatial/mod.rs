//! Spatial queries over a layer: an R-tree (rstar) of feature bounding boxes, bulk-loaded, refined by exact
//! geometry tests (geo).
//!
//! Entry type: [`LayerIndex`], built lazily by [`crate::Layer::index`]. The queries ([`query_region`],
//! [`nearest`], [`pick`], [`ray_pick`]) return features sorted (by id, or by distance then id), so their output is
//! deterministic and equal to a brute-force scan (see the property tests).
//!
//! # Units
//! Local frame metres, like all scene geometry.

mod query;
mod ray;

pub use query::{nearest, pick, query_rect, query_region, Hit};
pub use ray::{ray_pick, Ray, RayHit};

use crate::Feature;
use rstar::{PointDistance, RTree, RTreeObject, AABB};

/// One R-tree entry: a feature's bounding box and its index in the layer's feature list.
#[derive(Clone, Debug, PartialEq)]
pub struct IndexEntry {
    envelope: AABB<[f64; 2]>,
    /// Index into [`crate::Layer::features`].
    pub index: u32,
}

impl RTreeObject for IndexEntry {
    type Envelope = AABB<[f64; 2]>;
    fn envelope(&self) -> Self::Envelope {
        self.envelope
    }
}

impl PointDistance for IndexEntry {
    /// Squared distance from the point to the bounding box: a lower bound of the distance to the geometry.
    fn distance_2(&self, point: &[f64; 2]) -> f64 {
        self.envelope.distance_2(point)
    }
}

/// The R-tree of one layer.
#[derive(Debug)]
pub struct LayerIndex {
    tree: RTree<IndexEntry>,
}

impl LayerIndex {
    /// Bulk-loads the index over `features` (features with empty geometry are left out).
    pub fn build(features: &[Feature]) -> Self {
        let entries: Vec<IndexEntry> = features
            .iter()
            .enumerate()
            .filter_map(|(i, f)| {
                f.bbox().map(|b| IndexEntry {
                    envelope: AABB::from_corners([b[0], b[1]], [b[2], b[3]]),
                    index: i as u32,
                })
            })
            .collect();
        LayerIndex {
            tree: RTree::bulk_load(entries),
        }
    }

    /// The underlying R-tree.
    pub fn tree(&self) -> &RTree<IndexEntry> {
        &self.tree
    }

    /// Number of indexed features.
    pub fn len(&self) -> usize {
        self.tree.size()
    }

    /// Whether nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.tree.size() == 0
    }
}

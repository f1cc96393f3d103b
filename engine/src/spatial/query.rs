//! Region, nearest-k and point-pick queries.

use crate::{Feature, Layer};
use geo::{Distance, Euclidean, Intersects};
use geo_types::{Point, Polygon, Rect};
use rstar::AABB;

/// A feature found by a distance query.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Hit<'a> {
    /// Distance from the query point to the geometry, metres (0 inside a polygon).
    pub distance: f64,
    /// The feature.
    pub feature: &'a Feature,
}

/// Features of `layer` whose geometry intersects `rect`, sorted by id.
pub fn query_rect(layer: &Layer, rect: Rect<f64>) -> Vec<&Feature> {
    query_region(layer, &rect.to_polygon())
}

/// Features of `layer` whose geometry intersects `region` (a polygon in the local frame), sorted by id.
pub fn query_region<'a>(layer: &'a Layer, region: &Polygon<f64>) -> Vec<&'a Feature> {
    use geo::BoundingRect;
    let Some(r) = region.bounding_rect() else {
        return Vec::new();
    };
    let env = AABB::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]);
    let mut out: Vec<&Feature> = layer
        .index()
        .tree()
        .locate_in_envelope_intersecting(&env)
        .map(|e| &layer.features[e.index as usize])
        .filter(|f| f.geometry.intersects(region))
        .collect();
    out.sort_by_key(|f| f.id);
    out
}

/// The `k` features of `layer` nearest to `point`, sorted by distance then id. Distances are to the geometry
/// itself (0 inside a polygon), not to its bounding box. Any `k` is safe: more than the layer holds gives all.
pub fn nearest<'a>(layer: &'a Layer, point: [f64; 2], k: usize) -> Vec<Hit<'a>> {
    let k = k.min(layer.features.len());
    if k == 0 {
        return Vec::new();
    }
    let p = Point::new(point[0], point[1]);
    let mut best: Vec<Hit<'a>> = Vec::with_capacity(k + 1);
    for (entry, env_d2) in layer
        .index()
        .tree()
        .nearest_neighbor_iter_with_distance_2(&point)
    {
        // Boxes come in order of box distance, a lower bound of the true distance: once the next box is farther
        // than the k-th best true distance, nothing later can enter the result.
        if best.len() == k {
            let kth = best[k - 1].distance;
            if env_d2.sqrt() > kth {
                break;
            }
        }
        let f = &layer.features[entry.index as usize];
        let d = Euclidean.distance(&p, &f.geometry);
        let hit = Hit {
            distance: d,
            feature: f,
        };
        let pos = best
            .binary_search_by(|h| cmp_hits(h, &hit))
            .unwrap_or_else(|e| e);
        if pos < k {
            best.insert(pos, hit);
            best.truncate(k);
        }
    }
    best
}

/// Features of `layer` within `tolerance` metres of `point` (containing it, for polygons), nearest first, ties
/// by id.
pub fn pick<'a>(layer: &'a Layer, point: [f64; 2], tolerance: f64) -> Vec<Hit<'a>> {
    let p = Point::new(point[0], point[1]);
    let t = tolerance.max(0.0);
    let env = AABB::from_corners([point[0] - t, point[1] - t], [point[0] + t, point[1] + t]);
    let mut out: Vec<Hit<'a>> = layer
        .index()
        .tree()
        .locate_in_envelope_intersecting(&env)
        .map(|e| &layer.features[e.index as usize])
        .filter_map(|f| {
            let d = Euclidean.distance(&p, &f.geometry);
            (d <= t).then_some(Hit {
                distance: d,
                feature: f,
            })
        })
        .collect();
    out.sort_by(cmp_hits);
    out
}

fn cmp_hits(a: &Hit<'_>, b: &Hit<'_>) -> std::cmp::Ordering {
    a.distance
        .total_cmp(&b.distance)
        .then(a.feature.id.cmp(&b.feature.id))
}

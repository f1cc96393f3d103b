//! Ray picking: the first feature a 3D ray hits, buildings as extruded prisms.

use crate::spatial::IndexEntry;
use crate::{Feature, Layer};
use geo::{Contains, Distance, Euclidean};
use geo_types::{Geometry, LineString, Point, Polygon};
use rstar::{SelectionFunction, AABB};

/// A ray in the local frame: `origin + t * direction`, `t >= 0`. z is metres of elevation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ray {
    /// Start point `[x, y, z]`.
    pub origin: [f64; 3],
    /// Direction (need not be unit length; `t` is in multiples of it).
    pub direction: [f64; 3],
}

/// What a ray hit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RayHit<'a> {
    /// Ray parameter of the hit.
    pub t: f64,
    /// The feature hit.
    pub feature: &'a Feature,
}

/// Tolerance, metres, within which a ray meeting the ground hits a line or point feature.
const LINE_PICK_TOLERANCE_M: f64 = 1.0;

struct RaySelect {
    ray: Ray,
    max_t: f64,
}

impl RaySelect {
    /// 2D slab test of the ray's ground projection against a box (grown by the line tolerance).
    fn hits_box(&self, env: &AABB<[f64; 2]>) -> bool {
        let (lo, hi) = (env.lower(), env.upper());
        let mut t0 = 0.0f64;
        let mut t1 = self.max_t;
        for axis in 0..2 {
            let o = self.ray.origin[axis];
            let d = self.ray.direction[axis];
            let (a, b) = (
                lo[axis] - LINE_PICK_TOLERANCE_M,
                hi[axis] + LINE_PICK_TOLERANCE_M,
            );
            if d.abs() < 1e-15 {
                if o < a || o > b {
                    return false;
                }
            } else {
                let (mut ta, mut tb) = ((a - o) / d, (b - o) / d);
                if ta > tb {
                    std::mem::swap(&mut ta, &mut tb);
                }
                t0 = t0.max(ta);
                t1 = t1.min(tb);
                if t0 > t1 {
                    return false;
                }
            }
        }
        true
    }
}

impl SelectionFunction<IndexEntry> for RaySelect {
    fn should_unpack_parent(&self, envelope: &AABB<[f64; 2]>) -> bool {
        self.hits_box(envelope)
    }
    fn should_unpack_leaf(&self, leaf: &IndexEntry) -> bool {
        use rstar::RTreeObject;
        self.hits_box(&leaf.envelope())
    }
}

/// The first feature of `layer` hit by `ray` within `max_t`: buildings as prisms from
/// `base_elevation + min_height` to `base_elevation + height`, other polygons as flat areas at elevation 0, lines
/// and points within 1 m of where the ray meets elevation 0. Ties go to the lower id.
pub fn ray_pick<'a>(layer: &'a Layer, ray: Ray, max_t: f64) -> Option<RayHit<'a>> {
    let sel = RaySelect { ray, max_t };
    let mut best: Option<RayHit<'a>> = None;
    for e in layer.index().tree().locate_with_selection_function(sel) {
        let f = &layer.features[e.index as usize];
        if let Some(t) = hit_feature(f, &ray, max_t) {
            let better = match &best {
                None => true,
                Some(b) => t < b.t || (t == b.t && f.id < b.feature.id),
            };
            if better {
                best = Some(RayHit { t, feature: f });
            }
        }
    }
    best
}

fn hit_feature(f: &Feature, ray: &Ray, max_t: f64) -> Option<f64> {
    let (z0, z1) = match &f.building {
        Some(b) => (b.base_elevation + b.min_height, b.base_elevation + b.height),
        None => (0.0, 0.0),
    };
    match &f.geometry {
        Geometry::Polygon(p) => hit_prism(std::slice::from_ref(p), z0, z1, ray, max_t),
        Geometry::MultiPolygon(mp) => hit_prism(&mp.0, z0, z1, ray, max_t),
        g => {
            // Lines and points: where the ray meets the ground.
            let dz = ray.direction[2];
            if dz.abs() < 1e-15 {
                return None;
            }
            let t = (0.0 - ray.origin[2]) / dz;
            if !(0.0..=max_t).contains(&t) {
                return None;
            }
            let p = Point::new(
                ray.origin[0] + t * ray.direction[0],
                ray.origin[1] + t * ray.direction[1],
            );
            (Euclidean.distance(&p, g) <= LINE_PICK_TOLERANCE_M).then_some(t)
        }
    }
}

/// Earliest `t` in `[0, max_t]` where the ray is inside the prism of `polys` between `z0` and `z1`.
fn hit_prism(polys: &[Polygon<f64>], z0: f64, z1: f64, ray: &Ray, max_t: f64) -> Option<f64> {
    let [ox, oy, oz] = ray.origin;
    let [dx, dy, dz] = ray.direction;
    // Interval of t where the ray's elevation is within [z0, z1].
    let (tz0, tz1) = if dz.abs() < 1e-15 {
        if oz < z0 || oz > z1 {
            return None;
        }
        (0.0, max_t)
    } else {
        let (a, b) = ((z0 - oz) / dz, (z1 - oz) / dz);
        (a.min(b).max(0.0), a.max(b).min(max_t))
    };
    if tz0 > tz1 {
        return None;
    }
    // Interval(s) of t where the ground projection is inside the footprint: crossings of the ring edges.
    let inside_at = |t: f64| {
        polys
            .iter()
            .any(|p| p.contains(&Point::new(ox + t * dx, oy + t * dy)))
    };
    if dx.abs() < 1e-15 && dy.abs() < 1e-15 {
        return inside_at(tz0).then_some(tz0);
    }
    let mut cuts = vec![tz0, tz1];
    let mut ring_cuts = |ring: &LineString<f64>| {
        for seg in ring.lines() {
            let (ax, ay) = (seg.start.x, seg.start.y);
            let (ex, ey) = (seg.end.x - ax, seg.end.y - ay);
            let den = dx * ey - dy * ex;
            if den.abs() < 1e-15 {
                continue;
            }
            let t = ((ax - ox) * ey - (ay - oy) * ex) / den;
            let s = ((ax - ox) * dy - (ay - oy) * dx) / den;
            if (0.0..=1.0).contains(&s) && t > tz0 && t < tz1 {
                cuts.push(t);
            }
        }
    };
    for p in polys {
        ring_cuts(p.exterior());
        p.interiors().iter().for_each(&mut ring_cuts);
    }
    cuts.sort_by(f64::total_cmp);
    cuts.dedup();
    // The ray enters the footprint at a cut; test each piece at its midpoint, and the start point itself.
    if inside_at(tz0) || on_boundary(polys, ox + tz0 * dx, oy + tz0 * dy) {
        return Some(tz0);
    }
    for w in cuts.windows(2) {
        let mid = 0.5 * (w[0] + w[1]);
        if inside_at(mid) {
            return Some(w[0]);
        }
    }
    None
}

fn on_boundary(polys: &[Polygon<f64>], x: f64, y: f64) -> bool {
    let p = Point::new(x, y);
    polys
        .iter()
        .any(|poly| Euclidean.distance(&p, poly.exterior()) < 1e-9)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Building, HeightSource, LayerKind, LayerSource};
    use geo_types::polygon;

    fn layer_with_two_towers() -> Layer {
        let mut l = Layer::new("b", LayerKind::Buildings, LayerSource::default());
        let sq = |x: f64| {
            Geometry::Polygon(
                polygon![(x: x, y: 0.0), (x: x + 10.0, y: 0.0), (x: x + 10.0, y: 10.0), (x: x, y: 10.0), (x: x, y: 0.0)],
            )
        };
        l.push_feature(
            sq(0.0),
            Vec::<(&str, _)>::new(),
            Some(Building::with_height(20.0, HeightSource::Default)),
        );
        l.push_feature(
            sq(30.0),
            Vec::<(&str, _)>::new(),
            Some(Building::with_height(50.0, HeightSource::Default)),
        );
        l
    }

    #[test]
    fn horizontal_ray_hits_the_first_wall() {
        let l = layer_with_two_towers();
        let r = Ray {
            origin: [-10.0, 5.0, 10.0],
            direction: [1.0, 0.0, 0.0],
        };
        let hit = ray_pick(&l, r, 1000.0).expect("hits the first tower");
        assert_eq!(hit.feature.id.0, 0);
        assert!((hit.t - 10.0).abs() < 1e-9);
        // Above the first (20 m) tower, below the second (50 m): passes over the first.
        let r = Ray {
            origin: [-10.0, 5.0, 30.0],
            direction: [1.0, 0.0, 0.0],
        };
        let hit = ray_pick(&l, r, 1000.0).expect("hits the second tower");
        assert_eq!(hit.feature.id.0, 1);
        assert!((hit.t - 40.0).abs() < 1e-9);
    }

    #[test]
    fn downward_ray_hits_the_roof() {
        let l = layer_with_two_towers();
        let r = Ray {
            origin: [35.0, 5.0, 100.0],
            direction: [0.0, 0.0, -1.0],
        };
        let hit = ray_pick(&l, r, 1000.0).expect("roof");
        assert_eq!(hit.feature.id.0, 1);
        assert!((hit.t - 50.0).abs() < 1e-9);
        let miss = Ray {
            origin: [20.0, 5.0, 100.0],
            direction: [0.0, 0.0, -1.0],
        };
        assert!(ray_pick(&l, miss, 1000.0).is_none());
    }

    #[test]
    fn slanted_ray_hits_roof_or_wall() {
        let l = layer_with_two_towers();
        // From above-left, descending 1 m per metre: enters the first tower's roof at z = 20.
        let r = Ray {
            origin: [-5.0, 5.0, 30.0],
            direction: [1.0, 0.0, -1.0],
        };
        let hit = ray_pick(&l, r, 1000.0).expect("hit");
        assert_eq!(hit.feature.id.0, 0);
        assert!((hit.t - 10.0).abs() < 1e-9, "x = 5 at z = 20: {}", hit.t);
    }
}

//! A synthetic city for benchmarks and stress tests: a street grid with rectangular buildings, seeded.
//!
//! The same `(buildings, seed)` always gives the same scene, on any machine and thread count.

use crate::{
    Building, EdgeProps, HeightSource, Layer, LayerKind, LayerSource, NetworkBuilder, NetworkKind,
    RoadClass, RoadProps, Scene, SceneFrame, Value,
};
use geo_types::{Geometry, LineString, Polygon};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Buildings per block (4 × 4 plots).
const PLOTS_PER_SIDE: usize = 4;
/// Block pitch including the street, metres.
const BLOCK_M: f64 = 100.0;
/// Street width, metres.
const STREET_M: f64 = 16.0;

/// Building uses and their shares (per thousand): mostly homes, with the workplaces, shops, schools and
/// leisure a town has, so a simulated population finds every activity.
const USES: [(&str, u32); 9] = [
    ("residential", 330),
    ("apartments", 270),
    ("commercial", 80),
    ("office", 80),
    ("retail", 80),
    ("industrial", 80),
    ("school", 30),
    ("public", 30),
    ("sports_centre", 20),
];

fn draw_use(rng: &mut ChaCha8Rng) -> &'static str {
    let total: u32 = USES.iter().map(|u| u.1).sum();
    let mut x = rng.random_range(0..total);
    for (u, w) in USES {
        if x < w {
            return u;
        }
        x -= w;
    }
    USES[0].0
}

/// Generates a city of `buildings` buildings and its street grid, in EPSG:3067 around Helsinki.
///
/// # Examples
/// ```
/// let s = citytwin_engine::generate::city(1000, 42);
/// assert_eq!(s.layer("buildings").map(|l| l.features.len()).ok(), Some(1000));
/// ```
pub fn city(buildings: usize, seed: u64) -> Scene {
    let crs = "EPSG:3067";
    let origin = [385_000.0, 6_672_000.0];
    // Infallible for this fixed, known CRS.
    let frame = SceneFrame {
        crs: crs.into(),
        origin,
    };
    let mut scene = Scene::new(frame);
    let per_block = PLOTS_PER_SIDE * PLOTS_PER_SIDE;
    let blocks = buildings.div_ceil(per_block).max(1);
    let side = (blocks as f64).sqrt().ceil() as usize;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let source = LayerSource {
        path: format!("generated:{buildings}:{seed}"),
        format: "generated".into(),
        crs: crs.into(),
    };

    let mut layer = Layer::new("buildings", LayerKind::Buildings, source.clone());
    let plot = (BLOCK_M - STREET_M) / PLOTS_PER_SIDE as f64;
    'outer: for by in 0..side {
        for bx in 0..side {
            for py in 0..PLOTS_PER_SIDE {
                for px in 0..PLOTS_PER_SIDE {
                    if layer.features.len() == buildings {
                        break 'outer;
                    }
                    let x0 = origin[0] + bx as f64 * BLOCK_M + STREET_M / 2.0 + px as f64 * plot;
                    let y0 = origin[1] + by as f64 * BLOCK_M + STREET_M / 2.0 + py as f64 * plot;
                    let w = rng.random_range(0.5..0.9) * plot;
                    let d = rng.random_range(0.5..0.9) * plot;
                    let (ox, oy) = ((plot - w) / 2.0, (plot - d) / 2.0);
                    let ring = vec![
                        (x0 + ox, y0 + oy),
                        (x0 + ox + w, y0 + oy),
                        (x0 + ox + w, y0 + oy + d),
                        (x0 + ox, y0 + oy + d),
                        (x0 + ox, y0 + oy),
                    ];
                    let levels: u8 = rng.random_range(1..=12);
                    let usage = draw_use(&mut rng);
                    let mut b = Building::with_height(levels as f64 * 3.0, HeightSource::Levels);
                    b.levels = Some(levels as f32);
                    b.usage = Some(usage.into());
                    layer.push_feature(
                        Geometry::Polygon(Polygon::new(LineString::from(ring), vec![])),
                        [
                            ("building", Value::Text(usage.into())),
                            ("building:levels", Value::Int(levels as i64)),
                        ],
                        Some(b),
                    );
                }
            }
        }
    }
    layer.report.source_objects = layer.features.len() as u64;

    // Street grid: one edge per block side, noded at every crossing.
    let mut roads = Layer::new("roads", LayerKind::Infrastructure, source);
    let mut net = NetworkBuilder::new(NetworkKind::Road, 0.01);
    let at = |i: usize, j: usize| {
        [
            origin[0] + i as f64 * BLOCK_M,
            origin[1] + j as f64 * BLOCK_M,
        ]
    };
    for j in 0..=side {
        for i in 0..=side {
            for (di, dj) in [(1, 0), (0, 1)] {
                let (i2, j2) = (i + di, j + dj);
                if i2 > side || j2 > side {
                    continue;
                }
                let (a, b) = (at(i, j), at(i2, j2));
                let class = if (i % 5 == 0 && di == 0) || (j % 5 == 0 && dj == 0) {
                    "secondary"
                } else {
                    "residential"
                };
                let fid = roads.push_feature(
                    Geometry::LineString(LineString::from(vec![(a[0], a[1]), (b[0], b[1])])),
                    [("highway", Value::Text(class.into()))],
                    None,
                );
                let (na, nb) = (net.node_at(a), net.node_at(b));
                let mut props = RoadProps::new(RoadClass::from_osm(class));
                props.lanes_forward = if class == "secondary" { 2 } else { 1 };
                props.lanes_backward = props.lanes_forward;
                net.add_edge(na, nb, fid, 0.0, EdgeProps::Road(props));
            }
        }
    }
    roads.network = Some(net.finish());
    roads.report.source_objects = roads.features.len() as u64;

    // Both layers are in the frame's CRS: ingest cannot fail.
    for l in [layer, roads] {
        if let Err(e) = scene.ingest(l, false) {
            unreachable!("generated layers are valid: {e}");
        }
    }
    scene
}

#[cfg(test)]
mod tests {
    #[test]
    fn deterministic() {
        let a = super::city(500, 7);
        let b = super::city(500, 7);
        let c = super::city(500, 8);
        assert_eq!(a.layers[0].features, b.layers[0].features);
        assert_ne!(a.layers[0].features, c.layers[0].features);
        assert_eq!(a.layers[0].features.len(), 500);
        let roads = a.layers[1].network.as_ref().expect("graph");
        assert_eq!(roads.connected_components(), 1);
        assert!(roads
            .edges
            .iter()
            .all(|e| (e.length_m - 100.0).abs() < 1e-6));
    }
}

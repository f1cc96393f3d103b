//! CPU meshing: a scene becomes triangle meshes in tiles, per layer.
//!
//! Every vertex carries the *slot* of its feature, an index into the GPU colour table ([`crate::colour`]); slot
//! 0 is the ground plane. Vertex positions are f32 relative to their tile's origin (f64, local frame), so the GPU
//! never sees large coordinates: the renderer adds `tile origin − eye` per tile in f32 (camera-relative
//! rendering, no jitter at city scale).
//!
//! - buildings: LOD1 prisms from footprints (holes included; roofs by earcut), or the CityJSON surfaces as given;
//! - terrain: the height grid (decimated to at most 512 × 512 vertices);
//! - other polygons: flat areas draped on the terrain;
//! - lines: ribbons, roads by lanes or class, power lines raised to pylon height.

use bytemuck::{Pod, Zeroable};
use citytwin_engine::{Feature, FeatureId, Layer, LayerKind, NetworkKind, Scene, Terrain};
use geo::{orient::Direction, Orient, TriangulateEarcut};
use geo_types::{Coord, Geometry, LineString, Polygon};
use rayon::prelude::*;
use std::collections::BTreeMap;

/// Tile edge, metres.
pub const TILE_M: f64 = 500.0;
/// Slot of the ground plane.
pub const GROUND_SLOT: u32 = 0;
/// Height of drawn power lines above ground, metres.
const POWER_LINE_Z: f64 = 18.0;

/// One vertex: 20 bytes.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Pod, Zeroable)]
pub struct Vertex {
    /// Position relative to the tile origin, metres.
    pub pos: [f32; 3],
    /// Unit normal as snorm8 (w unused).
    pub normal: [i8; 4],
    /// Colour-table slot.
    pub slot: u32,
}
const _: () = assert!(std::mem::size_of::<Vertex>() == 20);

/// Which feature a slot belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slot {
    /// Index into `scene.layers`.
    pub layer: usize,
    /// Index into that layer's features.
    pub feature: usize,
}

/// Merged geometry of one tile of one layer.
#[derive(Clone, Debug, Default)]
pub struct TileMesh {
    /// Origin of the vertex positions, local frame.
    pub origin: [f64; 3],
    /// Bounds `[min_x, min_y, min_z, max_x, max_y, max_z]`, local frame.
    pub bounds: [f64; 6],
    /// Vertices.
    pub vertices: Vec<Vertex>,
    /// Triangle list indices.
    pub indices: Vec<u32>,
}

/// The tiles of one layer.
#[derive(Clone, Debug)]
pub struct LayerMesh {
    /// Index into `scene.layers`.
    pub layer: usize,
    /// Tiles, sorted by tile key.
    pub tiles: Vec<TileMesh>,
}

/// A whole scene, meshed.
#[derive(Clone, Debug)]
pub struct SceneMesh {
    /// Per-layer meshes (layers without drawable geometry have no tiles).
    pub layers: Vec<LayerMesh>,
    /// Slot `s` (from 1) belongs to `slots[s - 1]`.
    pub slots: Vec<Slot>,
    /// First slot of each layer.
    pub layer_first_slot: Vec<u32>,
    /// Bounds of everything, local frame.
    pub bounds: [f64; 6],
    /// The ground plane (one tile).
    pub ground: TileMesh,
}

impl SceneMesh {
    /// Number of colour-table entries (slots), the ground included.
    pub fn slot_count(&self) -> usize {
        self.slots.len() + 1
    }

    /// The slot of feature `feature` of layer `layer`.
    pub fn slot_of(&self, layer: usize, feature: usize) -> u32 {
        self.layer_first_slot[layer] + feature as u32
    }

    /// The slot of the feature with `id` in `scene` (the scene this mesh was built from).
    pub fn slot_of_feature(&self, scene: &Scene, id: FeatureId) -> Option<u32> {
        scene.locate(id).map(|(li, fi)| self.slot_of(li, fi))
    }
}

fn snorm(n: [f64; 3]) -> [i8; 4] {
    let len = (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]).sqrt().max(1e-12);
    let q = |x: f64| ((x / len) * 127.0).round().clamp(-127.0, 127.0) as i8;
    [q(n[0]), q(n[1]), q(n[2]), 0]
}

/// Triangles of one feature in absolute local coordinates, before tiling.
#[derive(Default)]
struct Piece {
    verts: Vec<([f64; 3], [i8; 4])>,
    idx: Vec<u32>,
}

impl Piece {
    fn push(&mut self, p: [f64; 3], n: [i8; 4]) -> u32 {
        self.verts.push((p, n));
        (self.verts.len() - 1) as u32
    }
    fn quad(&mut self, a: [f64; 3], b: [f64; 3], c: [f64; 3], d: [f64; 3], n: [i8; 4]) {
        let i = self.push(a, n);
        self.push(b, n);
        self.push(c, n);
        self.push(d, n);
        self.idx
            .extend_from_slice(&[i, i + 1, i + 2, i, i + 2, i + 3]);
    }
}

fn ground_at(t: Option<&Terrain>, x: f64, y: f64) -> f64 {
    t.and_then(|t| t.sample(x, y)).unwrap_or(0.0)
}

/// Roof (earcut) and walls of a prism over `poly` from `z0` to `z1`.
fn prism(piece: &mut Piece, poly: &Polygon<f64>, z0: f64, z1: f64) {
    let poly = poly.orient(Direction::Default);
    let up = snorm([0.0, 0.0, 1.0]);
    let tri = poly.earcut_triangles_raw();
    let base = piece.verts.len() as u32;
    for v in &tri.vertices {
        piece.push([v[0], v[1], z1], up);
    }
    piece
        .idx
        .extend(tri.triangle_indices.iter().map(|&i| base + i as u32));
    if z1 - z0 <= 1e-6 {
        return;
    }
    for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
        for seg in ring.lines() {
            let (dx, dy) = (seg.end.x - seg.start.x, seg.end.y - seg.start.y);
            if dx == 0.0 && dy == 0.0 {
                continue;
            }
            let n = snorm([dy, -dx, 0.0]);
            let (a, b) = (seg.start, seg.end);
            piece.quad(
                [a.x, a.y, z0],
                [b.x, b.y, z0],
                [b.x, b.y, z1],
                [a.x, a.y, z1],
                n,
            );
        }
    }
}

/// A flat area draped on the terrain, lifted by `lift` metres.
fn area(piece: &mut Piece, poly: &Polygon<f64>, terrain: Option<&Terrain>, lift: f64) {
    let up = snorm([0.0, 0.0, 1.0]);
    let tri = poly.earcut_triangles_raw();
    let base = piece.verts.len() as u32;
    for v in &tri.vertices {
        piece.push([v[0], v[1], ground_at(terrain, v[0], v[1]) + lift], up);
    }
    piece
        .idx
        .extend(tri.triangle_indices.iter().map(|&i| base + i as u32));
}

/// A ribbon of `width` metres along `line`, at `lift` metres above the terrain.
fn ribbon(
    piece: &mut Piece,
    line: &LineString<f64>,
    width: f64,
    terrain: Option<&Terrain>,
    lift: f64,
) {
    let up = snorm([0.0, 0.0, 1.0]);
    let h = width / 2.0;
    for seg in line.lines() {
        let (dx, dy) = (seg.end.x - seg.start.x, seg.end.y - seg.start.y);
        let len = (dx * dx + dy * dy).sqrt();
        if len < 1e-9 {
            continue;
        }
        let (nx, ny) = (-dy / len * h, dx / len * h);
        let z = |c: Coord<f64>| ground_at(terrain, c.x, c.y) + lift;
        let (a, b) = (seg.start, seg.end);
        piece.quad(
            [a.x - nx, a.y - ny, z(a)],
            [b.x - nx, b.y - ny, z(b)],
            [b.x + nx, b.y + ny, z(b)],
            [a.x + nx, a.y + ny, z(a)],
            up,
        );
    }
}

/// CityJSON surfaces: each polygon triangulated in its own plane.
fn surfaces(piece: &mut Piece, s: &citytwin_engine::Surfaces) {
    for rings in &s.polygons {
        let Some(outer) = rings.first().filter(|r| r.len() >= 3) else {
            continue;
        };
        let v = |i: u32| s.vertices.get(i as usize).copied().unwrap_or([0.0; 3]);
        // Newell normal of the outer ring.
        let mut n = [0.0; 3];
        for k in 0..outer.len() {
            let (a, b) = (v(outer[k]), v(outer[(k + 1) % outer.len()]));
            n[0] += (a[1] - b[1]) * (a[2] + b[2]);
            n[1] += (a[2] - b[2]) * (a[0] + b[0]);
            n[2] += (a[0] - b[0]) * (a[1] + b[1]);
        }
        // Project onto the plane of the dominant axis and earcut there.
        let ax = if n[0].abs() >= n[1].abs() && n[0].abs() >= n[2].abs() {
            0
        } else if n[1].abs() >= n[2].abs() {
            1
        } else {
            2
        };
        let (u, w) = match ax {
            0 => (1, 2),
            1 => (2, 0),
            _ => (0, 1),
        };
        let ring2d = |r: &Vec<u32>| {
            LineString::new(
                r.iter()
                    .map(|&i| Coord {
                        x: v(i)[u],
                        y: v(i)[w],
                    })
                    .collect(),
            )
        };
        let poly = Polygon::new(
            ring2d(outer),
            rings[1..]
                .iter()
                .filter(|r| r.len() >= 3)
                .map(ring2d)
                .collect(),
        );
        let order: Vec<u32> = std::iter::once(outer)
            .chain(rings[1..].iter().filter(|r| r.len() >= 3))
            .flatten()
            .copied()
            .collect();
        let tri = poly.earcut_triangles_raw();
        if tri.vertices.len() != order.len() {
            continue;
        }
        let nn = snorm(n);
        let base = piece.verts.len() as u32;
        for &i in &order {
            piece.push(v(i), nn);
        }
        piece
            .idx
            .extend(tri.triangle_indices.iter().map(|&i| base + i as u32));
    }
}

fn line_width(layer: &Layer, f: &Feature) -> (f64, f64) {
    let net = layer.network.as_ref().map(|n| n.kind);
    let class = layer
        .attribute(f, "highway")
        .map(|v| v.to_string())
        .unwrap_or_default();
    match net {
        Some(NetworkKind::Road) => {
            let lanes = layer.attribute(f, "lanes").and_then(|v| v.as_f64());
            let w = match (lanes, class.as_str()) {
                (Some(l), _) if l >= 1.0 => l * 3.25,
                (_, "motorway" | "trunk") => 14.0,
                (_, "primary" | "secondary" | "motorway_link") => 9.0,
                (_, "tertiary" | "residential" | "unclassified" | "living_street") => 6.5,
                (_, "service" | "track") => 4.0,
                _ => 2.5,
            };
            (w, 0.15)
        }
        Some(NetworkKind::Power) => (1.2, POWER_LINE_Z),
        Some(NetworkKind::Waterway) => (4.0, 0.1),
        _ => (2.5, 0.12),
    }
}

fn feature_piece(layer: &Layer, f: &Feature, terrain: Option<&Terrain>) -> Piece {
    let mut p = Piece::default();
    if let Some(b) = &f.building {
        if let Some(s) = &b.surfaces {
            surfaces(&mut p, s);
            return p;
        }
        let (z0, z1) = (b.base_elevation + b.min_height, b.base_elevation + b.height);
        match &f.geometry {
            Geometry::Polygon(poly) => prism(&mut p, poly, z0, z1),
            Geometry::MultiPolygon(mp) => mp.iter().for_each(|poly| prism(&mut p, poly, z0, z1)),
            _ => {}
        }
        return p;
    }
    let lift = if layer.kind == LayerKind::Framework {
        0.05
    } else {
        0.1
    };
    match &f.geometry {
        Geometry::Polygon(poly) => area(&mut p, poly, terrain, lift),
        Geometry::MultiPolygon(mp) => mp.iter().for_each(|poly| area(&mut p, poly, terrain, lift)),
        Geometry::LineString(ls) => {
            let (w, z) = line_width(layer, f);
            ribbon(&mut p, ls, w, terrain, z);
        }
        Geometry::MultiLineString(mls) => {
            let (w, z) = line_width(layer, f);
            mls.iter().for_each(|ls| ribbon(&mut p, ls, w, terrain, z));
        }
        Geometry::Point(pt) => {
            let sq = Polygon::new(
                LineString::from(vec![
                    (pt.x() - 1.5, pt.y() - 1.5),
                    (pt.x() + 1.5, pt.y() - 1.5),
                    (pt.x() + 1.5, pt.y() + 1.5),
                    (pt.x() - 1.5, pt.y() + 1.5),
                ]),
                vec![],
            );
            let g = ground_at(terrain, pt.x(), pt.y());
            prism(&mut p, &sq, g, g + 3.0);
        }
        _ => {}
    }
    p
}

/// Markers at the nodes of utility networks (not roads, whose junctions are everywhere): pylons for power lines,
/// small posts for pipes and others. A marker takes the colour slot of its first edge.
fn node_markers(l: &Layer, first_slot: u32, terrain: Option<&Terrain>) -> Vec<(u32, Piece)> {
    let Some(net) = &l.network else {
        return Vec::new();
    };
    if net.kind == NetworkKind::Road {
        return Vec::new();
    }
    let mut edge_of = vec![None; net.nodes.len()];
    for e in &net.edges {
        for n in [e.from, e.to] {
            edge_of[n.0 as usize].get_or_insert(e.feature);
        }
    }
    let (half, height) = if net.kind == NetworkKind::Power {
        (1.0, POWER_LINE_Z)
    } else {
        (1.2, 2.0)
    };
    net.nodes
        .iter()
        .zip(edge_of)
        .filter_map(|(n, fid)| {
            let fi = l.features.binary_search_by_key(&fid?, |f| f.id).ok()?;
            let [x, y] = n.position;
            let sq = Polygon::new(
                LineString::from(vec![
                    (x - half, y - half),
                    (x + half, y - half),
                    (x + half, y + half),
                    (x - half, y + half),
                ]),
                vec![],
            );
            let g = ground_at(terrain, x, y);
            let mut p = Piece::default();
            prism(&mut p, &sq, g, g + height);
            Some((first_slot + fi as u32, p))
        })
        .collect()
}

/// The terrain grid as a mesh (decimated to at most 512 × 512 vertices), in one piece.
fn terrain_piece(t: &Terrain) -> Piece {
    let mut p = Piece::default();
    let step = (t.cols.max(t.rows) / 512 + 1).max(1);
    let (nc, nr) = (t.cols.div_ceil(step), t.rows.div_ceil(step));
    let at = |c: usize, r: usize| -> [f64; 3] {
        let (c, r) = ((c * step).min(t.cols - 1), (r * step).min(t.rows - 1));
        let x = t.origin[0] + (c as f64 + 0.5) * t.cell_size[0];
        let y = t.origin[1] - (r as f64 + 0.5) * t.cell_size[1];
        [x, y, t.cell(c, r).unwrap_or(f64::NAN)]
    };
    let mut index = vec![u32::MAX; nc * nr];
    for r in 0..nr {
        for c in 0..nc {
            let v = at(c, r);
            if !v[2].is_finite() {
                continue;
            }
            let (l, rr) = (at(c.saturating_sub(1), r), at((c + 1).min(nc - 1), r));
            let (u, d) = (at(c, r.saturating_sub(1)), at(c, (r + 1).min(nr - 1)));
            let dzdx = if l[2].is_finite() && rr[2].is_finite() && rr[0] != l[0] {
                (rr[2] - l[2]) / (rr[0] - l[0])
            } else {
                0.0
            };
            let dzdy = if u[2].is_finite() && d[2].is_finite() && u[1] != d[1] {
                (u[2] - d[2]) / (u[1] - d[1])
            } else {
                0.0
            };
            index[r * nc + c] = p.push(v, snorm([-dzdx, -dzdy, 1.0]));
        }
    }
    for r in 0..nr.saturating_sub(1) {
        for c in 0..nc.saturating_sub(1) {
            let (a, b, cc, d) = (
                index[r * nc + c],
                index[r * nc + c + 1],
                index[(r + 1) * nc + c + 1],
                index[(r + 1) * nc + c],
            );
            if [a, b, cc, d].contains(&u32::MAX) {
                continue;
            }
            p.idx.extend_from_slice(&[a, d, cc, a, cc, b]);
        }
    }
    p
}

fn tile_key(p: &Piece) -> (i64, i64) {
    let (mut x, mut y) = (0.0, 0.0);
    for (v, _) in &p.verts {
        x += v[0];
        y += v[1];
    }
    let n = p.verts.len().max(1) as f64;
    (
        (x / n / TILE_M).floor() as i64,
        (y / n / TILE_M).floor() as i64,
    )
}

fn append(tile: &mut TileMesh, piece: &Piece, slot: u32) {
    let base = tile.vertices.len() as u32;
    for (v, n) in &piece.verts {
        grow(&mut tile.bounds, &[v[0], v[1], v[2], v[0], v[1], v[2]]);
        tile.vertices.push(Vertex {
            pos: [
                (v[0] - tile.origin[0]) as f32,
                (v[1] - tile.origin[1]) as f32,
                (v[2] - tile.origin[2]) as f32,
            ],
            normal: *n,
            slot,
        });
    }
    tile.indices.extend(piece.idx.iter().map(|i| base + i));
}

/// An empty bounding box `[min_x, min_y, min_z, max_x, max_y, max_z]` that any [`grow`] replaces.
pub const EMPTY_BOUNDS: [f64; 6] = [f64::MAX, f64::MAX, f64::MAX, f64::MIN, f64::MIN, f64::MIN];

/// Grows box `b` to contain box `o`.
pub fn grow(b: &mut [f64; 6], o: &[f64; 6]) {
    for (k, v) in o.iter().enumerate() {
        b[k] = if k < 3 { b[k].min(*v) } else { b[k].max(*v) };
    }
}

fn empty_tile(origin: [f64; 3]) -> TileMesh {
    TileMesh {
        origin,
        bounds: EMPTY_BOUNDS,
        vertices: Vec::new(),
        indices: Vec::new(),
    }
}

/// Meshes a whole scene (features in parallel).
pub fn build(scene: &Scene) -> SceneMesh {
    let terrain = scene.terrain();
    let mut slots = Vec::with_capacity(scene.feature_count());
    let mut layer_first_slot = Vec::with_capacity(scene.layers.len());
    for (li, l) in scene.layers.iter().enumerate() {
        layer_first_slot.push(slots.len() as u32 + 1);
        slots.extend((0..l.features.len()).map(|fi| Slot {
            layer: li,
            feature: fi,
        }));
    }
    let mut layers = Vec::with_capacity(scene.layers.len());
    let mut bounds = EMPTY_BOUNDS;
    for (li, l) in scene.layers.iter().enumerate() {
        let first = layer_first_slot[li];
        let pieces: Vec<(u32, Piece)> = if let Some(t) = &l.terrain {
            vec![(first, terrain_piece(t))]
        } else {
            l.features
                .par_iter()
                .enumerate()
                .map(|(fi, f)| (first + fi as u32, feature_piece(l, f, terrain)))
                .filter(|(_, p)| !p.idx.is_empty())
                .collect()
        };
        let mut pieces = pieces;
        pieces.extend(node_markers(l, first, terrain));
        let mut tiles: BTreeMap<(i64, i64), TileMesh> = BTreeMap::new();
        for (slot, p) in &pieces {
            let key = tile_key(p);
            // 16-bit-safe tiles are not needed (u32 indices), but keep tiles under ~4M vertices for culling.
            let tile = tiles.entry(key).or_insert_with(|| {
                empty_tile([
                    (key.0 as f64 + 0.5) * TILE_M,
                    (key.1 as f64 + 0.5) * TILE_M,
                    0.0,
                ])
            });
            append(tile, p, *slot);
        }
        let tiles: Vec<TileMesh> = tiles
            .into_values()
            .filter(|t| !t.indices.is_empty())
            .collect();
        for t in &tiles {
            grow(&mut bounds, &t.bounds);
        }
        layers.push(LayerMesh { layer: li, tiles });
    }
    if bounds[0] > bounds[3] {
        bounds = [-100.0, -100.0, 0.0, 100.0, 100.0, 10.0];
    }
    // Ground: a plane a little larger than everything, just under the lowest terrain.
    let pad = 0.08 * (bounds[3] - bounds[0]).max(bounds[4] - bounds[1]) + 100.0;
    let gz = terrain
        .and_then(|t| t.height_range())
        .map_or(0.0, |(lo, _)| lo - 0.5)
        .min(bounds[2].min(0.0) - 0.02);
    let mut ground = empty_tile([
        (bounds[0] + bounds[3]) / 2.0,
        (bounds[1] + bounds[4]) / 2.0,
        gz,
    ]);
    let mut gp = Piece::default();
    gp.quad(
        [bounds[0] - pad, bounds[1] - pad, gz],
        [bounds[3] + pad, bounds[1] - pad, gz],
        [bounds[3] + pad, bounds[4] + pad, gz],
        [bounds[0] - pad, bounds[4] + pad, gz],
        snorm([0.0, 0.0, 1.0]),
    );
    append(&mut ground, &gp, GROUND_SLOT);
    SceneMesh {
        layers,
        slots,
        layer_first_slot,
        bounds,
        ground,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use citytwin_engine::generate;

    #[test]
    fn a_box_building_has_roof_and_walls() {
        let mut p = Piece::default();
        let sq = Polygon::new(
            LineString::from(vec![
                (0.0, 0.0),
                (10.0, 0.0),
                (10.0, 10.0),
                (0.0, 10.0),
                (0.0, 0.0),
            ]),
            vec![],
        );
        prism(&mut p, &sq, 0.0, 12.0);
        assert_eq!(p.idx.len(), 6 + 4 * 6, "2 roof triangles + 4 wall quads");
        // Wall normals point outwards: the wall along y = 0 faces south.
        let south = p
            .verts
            .iter()
            .find(|(v, n)| v[1] == 0.0 && v[2] == 0.0 && n[2] == 0)
            .map(|(_, n)| *n);
        assert_eq!(south, Some([0, -127, 0, 0]));
    }

    #[test]
    fn every_feature_gets_a_slot_and_tiles_bound_their_vertices() {
        let s = generate::city(300, 3);
        let m = build(&s);
        assert_eq!(m.slot_count(), 1 + s.feature_count());
        let b = &m.layers[0];
        let drawn: std::collections::BTreeSet<u32> = b
            .tiles
            .iter()
            .flat_map(|t| t.vertices.iter().map(|v| v.slot))
            .collect();
        assert_eq!(drawn.len(), 300, "every building drawn");
        for t in &b.tiles {
            for v in &t.vertices {
                let x = t.origin[0] + v.pos[0] as f64;
                assert!(x >= t.bounds[0] - 1e-3 && x <= t.bounds[3] + 1e-3);
            }
        }
    }
}

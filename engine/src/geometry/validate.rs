//! Validates and safely repairs geometries before they enter a scene.
//!
//! Safe repairs (counted, the feature kept): closing an unclosed ring, dropping repeated consecutive vertices,
//! dropping a degenerate hole or a degenerate part of a multi-geometry. Everything else that is invalid is skipped
//! with a [`SkipReason`]: non-finite coordinates, empty geometry, fewer than 3 distinct points, self-intersecting
//! rings (guessing the intended shape is not safe), zero area.

use geo::Area;
use geo_types::{Coord, Geometry, LineString, MultiLineString, MultiPolygon, Polygon};

/// Why a feature was skipped. The text (`as_str`) is what reports count by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SkipReason {
    /// No geometry, or an empty one.
    Empty,
    /// NaN or infinite coordinate.
    NonFinite,
    /// A ring with fewer than 3 distinct points, or a line with fewer than 2.
    TooFewPoints,
    /// A ring crosses itself.
    SelfIntersection,
    /// Rings of a polygon cross each other, or a hole lies outside its shell.
    InvalidRings,
    /// A polygon of no area.
    ZeroArea,
    /// A geometry type this layer cannot hold (e.g. a point in a buildings layer).
    WrongType,
}

impl SkipReason {
    /// Short text used as the report key.
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::Empty => "empty geometry",
            SkipReason::NonFinite => "non-finite coordinate",
            SkipReason::TooFewPoints => "fewer than 3 distinct points",
            SkipReason::SelfIntersection => "self-intersecting ring",
            SkipReason::InvalidRings => "invalid rings (crossing or hole outside shell)",
            SkipReason::ZeroArea => "zero area",
            SkipReason::WrongType => "unsupported geometry type for layer",
        }
    }
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A geometry that passed, with the repairs made to it (report keys).
#[derive(Clone, Debug, PartialEq)]
pub struct Cleaned {
    /// The clean geometry.
    pub geometry: Geometry<f64>,
    /// Repairs made, e.g. `"closed ring"`.
    pub repairs: Vec<&'static str>,
}

const CLOSED_RING: &str = "closed ring";
const REPEATED_VERTICES: &str = "removed repeated vertices";
const DROPPED_HOLE: &str = "dropped degenerate hole";
const DROPPED_PART: &str = "dropped invalid part";

fn finite(c: &Coord<f64>) -> bool {
    c.x.is_finite() && c.y.is_finite()
}

/// Cleans one ring given as raw coordinates (closed or not). Returns the closed ring.
fn clean_ring(
    raw: &[Coord<f64>],
    repairs: &mut Vec<&'static str>,
) -> Result<LineString<f64>, SkipReason> {
    if raw.is_empty() {
        return Err(SkipReason::Empty);
    }
    if !raw.iter().all(finite) {
        return Err(SkipReason::NonFinite);
    }
    let closed = raw.first() == raw.last();
    // Room for exactly the raw ring, closed: a ring is most of a footprint's memory, and one spare vertex
    // would take a five-vertex ring from 80 to 96 bytes.
    let mut pts: Vec<Coord<f64>> = Vec::with_capacity(raw.len() + usize::from(!closed));
    for c in raw {
        if pts.last() != Some(c) {
            pts.push(*c);
        }
    }
    if pts.len() > 1 && pts.first() == pts.last() {
        pts.pop();
    }
    if pts.len() + usize::from(closed) < raw.len() {
        repairs.push(REPEATED_VERTICES);
    }
    if pts.len() < 3 {
        return Err(SkipReason::TooFewPoints);
    }
    if !closed {
        repairs.push(CLOSED_RING);
    }
    pts.push(pts[0]);
    Ok(LineString::new(pts))
}

/// Builds a valid polygon from raw rings (outer first), closing and de-duplicating rings where needed.
/// Degenerate holes are dropped (a repair); a bad outer ring skips the polygon.
///
/// # Errors
/// The [`SkipReason`] when the polygon cannot be kept.
pub fn polygon_from_rings(rings: &[Vec<Coord<f64>>]) -> Result<Cleaned, SkipReason> {
    let mut repairs = Vec::new();
    let poly = polygon_inner(rings, &mut repairs)?;
    Ok(Cleaned {
        geometry: Geometry::Polygon(poly),
        repairs,
    })
}

fn polygon_inner(
    rings: &[Vec<Coord<f64>>],
    repairs: &mut Vec<&'static str>,
) -> Result<Polygon<f64>, SkipReason> {
    let (outer, holes) = rings.split_first().ok_or(SkipReason::Empty)?;
    let exterior = clean_ring(outer, repairs)?;
    let mut interiors = Vec::with_capacity(holes.len());
    for h in holes {
        match clean_ring(h, repairs) {
            Ok(r) => interiors.push(r),
            Err(SkipReason::NonFinite) => return Err(SkipReason::NonFinite),
            Err(_) => repairs.push(DROPPED_HOLE),
        }
    }
    let poly = Polygon::new(exterior, interiors);
    check_polygon(&poly)?;
    Ok(poly)
}

fn check_polygon(p: &Polygon<f64>) -> Result<(), SkipReason> {
    for ring in std::iter::once(p.exterior()).chain(p.interiors()) {
        if ring.0.len() < 4 {
            return Err(SkipReason::TooFewPoints);
        }
        if !ring.0.iter().all(finite) {
            return Err(SkipReason::NonFinite);
        }
        if ring_crosses_itself(ring) {
            return Err(SkipReason::SelfIntersection);
        }
    }
    if !p.interiors().is_empty() && !holes_are_valid(p) {
        return Err(SkipReason::InvalidRings);
    }
    if p.unsigned_area() <= 0.0 {
        return Err(SkipReason::ZeroArea);
    }
    Ok(())
}

/// Whether two segments of a closed ring cross or touch anywhere but at the vertex they share. The same test as
/// geo's validation (which compares every pair, quadratic: a 20,000-vertex ring took 40 s), over an R-tree of the
/// segments' boxes, so that only segments whose boxes overlap are compared: n log n on real rings. Rings of a few
/// segments (most footprints) compare every pair directly: the same answer, without building a tree.
fn ring_crosses_itself(ring: &LineString<f64>) -> bool {
    use geo::Intersects;
    use rstar::primitives::{GeomWithData, Rectangle};
    use rstar::{RTree, RTreeObject};
    // Neighbours meet at their shared vertex; that is no crossing.
    let cross = |a: geo_types::Line<f64>, c: geo_types::Line<f64>| {
        a.start != c.end && a.end != c.start && a.intersects(&c)
    };
    if ring.0.len() <= 17 {
        let lines: Vec<geo_types::Line<f64>> = ring.lines().collect();
        return lines
            .iter()
            .enumerate()
            .any(|(i, &a)| lines[i + 1..].iter().any(|&c| cross(a, c)));
    }
    let lines: Vec<geo_types::Line<f64>> = ring.lines().collect();
    let boxes: Vec<GeomWithData<Rectangle<[f64; 2]>, usize>> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let r = Rectangle::from_corners(
                [l.start.x.min(l.end.x), l.start.y.min(l.end.y)],
                [l.start.x.max(l.end.x), l.start.y.max(l.end.y)],
            );
            GeomWithData::new(r, i)
        })
        .collect();
    let tree = RTree::bulk_load(boxes);
    let crossing = tree.iter().any(|b| {
        let a = lines[b.data];
        tree.locate_in_envelope_intersecting(&b.envelope())
            .filter(|o| o.data > b.data)
            .any(|o| cross(a, lines[o.data]))
    });
    crossing
}

/// Whether the (each valid) parts of a multipolygon neither overlap nor share a line — geo's rule, with the
/// pairs to relate found through an R-tree of the parts' boxes rather than all pairs.
fn parts_are_disjoint(mp: &MultiPolygon<f64>) -> bool {
    use geo::coordinate_position::CoordPos;
    use geo::dimensions::Dimensions;
    use geo::{BoundingRect, Relate};
    use rstar::primitives::{GeomWithData, Rectangle};
    use rstar::{RTree, RTreeObject};
    let boxes: Vec<GeomWithData<Rectangle<[f64; 2]>, usize>> =
        mp.0.iter()
            .enumerate()
            .filter_map(|(i, p)| {
                let r = p.bounding_rect()?;
                Some(GeomWithData::new(
                    Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]),
                    i,
                ))
            })
            .collect();
    let tree = RTree::bulk_load(boxes);
    let prepared: Vec<_> = mp.0.iter().map(geo::PreparedGeometry::from).collect();
    let disjoint = tree.iter().all(|b| {
        tree.locate_in_envelope_intersecting(&b.envelope())
            .filter(|o| o.data > b.data)
            .all(|o| {
                let m = prepared[b.data].relate(&prepared[o.data]);
                m.get(CoordPos::Inside, CoordPos::Inside) != Dimensions::TwoDimensional
                    && m.get(CoordPos::OnBoundary, CoordPos::OnBoundary)
                        != Dimensions::OneDimensional
            })
    });
    disjoint
}

/// Whether every hole lies inside the shell, touching it at most at points, and the holes neither overlap nor
/// share a line (geo's rules; rings are known to be simple here). Holes are related pairwise: fine for the few
/// holes real footprints have.
fn holes_are_valid(p: &Polygon<f64>) -> bool {
    use geo::coordinate_position::CoordPos;
    use geo::dimensions::Dimensions;
    use geo::Relate;
    let shell = Polygon::new(p.exterior().clone(), vec![]);
    let shell = geo::PreparedGeometry::from(&shell);
    let holes: Vec<Polygon<f64>> = p
        .interiors()
        .iter()
        .map(|r| Polygon::new(r.clone(), vec![]))
        .collect();
    let prepared: Vec<_> = holes.iter().map(geo::PreparedGeometry::from).collect();
    for (i, h) in prepared.iter().enumerate() {
        let m = shell.relate(h);
        if !m.is_contains()
            || m.get(CoordPos::OnBoundary, CoordPos::OnBoundary) == Dimensions::OneDimensional
        {
            return false;
        }
        for other in &prepared[i + 1..] {
            let m = h.relate(other);
            if m.get(CoordPos::Inside, CoordPos::Inside) == Dimensions::TwoDimensional
                || m.get(CoordPos::OnBoundary, CoordPos::OnBoundary) == Dimensions::OneDimensional
            {
                return false;
            }
        }
    }
    true
}

fn clean_line(
    ls: &LineString<f64>,
    repairs: &mut Vec<&'static str>,
) -> Result<LineString<f64>, SkipReason> {
    if ls.0.is_empty() {
        return Err(SkipReason::Empty);
    }
    if !ls.0.iter().all(finite) {
        return Err(SkipReason::NonFinite);
    }
    let mut pts: Vec<Coord<f64>> = Vec::with_capacity(ls.0.len());
    for c in &ls.0 {
        if pts.last() != Some(c) {
            pts.push(*c);
        }
    }
    if pts.len() < ls.0.len() {
        repairs.push(REPEATED_VERTICES);
    }
    if pts.len() < 2 {
        return Err(SkipReason::TooFewPoints);
    }
    Ok(LineString::new(pts))
}

fn rings_of(p: &Polygon<f64>) -> Vec<Vec<Coord<f64>>> {
    std::iter::once(p.exterior())
        .chain(p.interiors())
        .map(|r| r.0.clone())
        .collect()
}

/// Validates any geometry, repairing where safe. Multi-geometries keep their valid parts (a repair) as long as
/// one is left. Geometry collections are flattened into their single type where possible.
///
/// # Errors
/// The [`SkipReason`] when nothing valid is left.
pub fn clean_geometry(g: Geometry<f64>) -> Result<Cleaned, SkipReason> {
    let mut repairs = Vec::new();
    let geometry = match g {
        Geometry::Point(p) => {
            if !finite(&p.0) {
                return Err(SkipReason::NonFinite);
            }
            Geometry::Point(p)
        }
        Geometry::MultiPoint(mp) => {
            if mp.0.is_empty() {
                return Err(SkipReason::Empty);
            }
            if !mp.0.iter().all(|p| finite(&p.0)) {
                return Err(SkipReason::NonFinite);
            }
            Geometry::MultiPoint(mp)
        }
        Geometry::Line(l) => Geometry::LineString(clean_line(
            &LineString::new(vec![l.start, l.end]),
            &mut repairs,
        )?),
        Geometry::LineString(ls) => Geometry::LineString(clean_line(&ls, &mut repairs)?),
        Geometry::MultiLineString(mls) => {
            let mut parts = Vec::new();
            let mut first_err = SkipReason::Empty;
            for ls in &mls.0 {
                match clean_line(ls, &mut repairs) {
                    Ok(l) => parts.push(l),
                    Err(e) => {
                        if e == SkipReason::NonFinite {
                            return Err(e);
                        }
                        first_err = e;
                    }
                }
            }
            if parts.is_empty() {
                return Err(first_err);
            }
            if parts.len() < mls.0.len() {
                repairs.push(DROPPED_PART);
            }
            if parts.len() == 1 {
                Geometry::LineString(parts.remove(0))
            } else {
                Geometry::MultiLineString(MultiLineString::new(parts))
            }
        }
        Geometry::Polygon(p) => Geometry::Polygon(polygon_inner(&rings_of(&p), &mut repairs)?),
        Geometry::Rect(r) => {
            Geometry::Polygon(polygon_inner(&rings_of(&r.to_polygon()), &mut repairs)?)
        }
        Geometry::Triangle(t) => {
            Geometry::Polygon(polygon_inner(&rings_of(&t.to_polygon()), &mut repairs)?)
        }
        Geometry::MultiPolygon(mp) => {
            let mut parts = Vec::new();
            let mut first_err = SkipReason::Empty;
            for p in &mp.0 {
                match polygon_inner(&rings_of(p), &mut repairs) {
                    Ok(p) => parts.push(p),
                    Err(e) => {
                        if e == SkipReason::NonFinite {
                            return Err(e);
                        }
                        first_err = e;
                    }
                }
            }
            if parts.is_empty() {
                return Err(first_err);
            }
            if parts.len() < mp.0.len() {
                repairs.push(DROPPED_PART);
            }
            if parts.len() == 1 {
                Geometry::Polygon(parts.remove(0))
            } else {
                let mp = MultiPolygon::new(parts);
                if !parts_are_disjoint(&mp) {
                    return Err(SkipReason::InvalidRings);
                }
                Geometry::MultiPolygon(mp)
            }
        }
        Geometry::GeometryCollection(gc) => {
            let mut gc = gc.0;
            if gc.len() == 1 {
                return clean_geometry(gc.remove(0));
            }
            return Err(if gc.is_empty() {
                SkipReason::Empty
            } else {
                SkipReason::WrongType
            });
        }
    };
    Ok(Cleaned { geometry, repairs })
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo_types::{coord, line_string, polygon};

    fn c(x: f64, y: f64) -> Coord<f64> {
        coord! { x: x, y: y }
    }

    #[test]
    fn unclosed_ring_is_closed() {
        let r =
            polygon_from_rings(&[vec![c(0., 0.), c(1., 0.), c(1., 1.), c(0., 1.)]]).expect("kept");
        assert_eq!(r.repairs, vec![CLOSED_RING]);
        let Geometry::Polygon(p) = r.geometry else {
            panic!("polygon")
        };
        assert_eq!(p.exterior().0.len(), 5);
    }

    #[test]
    fn repeated_vertices_are_removed() {
        let r = polygon_from_rings(&[vec![c(0., 0.), c(1., 0.), c(1., 0.), c(1., 1.), c(0., 0.)]])
            .expect("kept");
        assert_eq!(r.repairs, vec![REPEATED_VERTICES]);
    }

    #[test]
    fn bad_rings_are_skipped_with_reasons() {
        assert_eq!(
            polygon_from_rings(&[vec![c(0., 0.), c(1., 0.), c(0., 0.)]]),
            Err(SkipReason::TooFewPoints)
        );
        assert_eq!(
            polygon_from_rings(&[vec![c(0., 0.), c(f64::NAN, 0.), c(1., 1.)]]),
            Err(SkipReason::NonFinite)
        );
        assert_eq!(polygon_from_rings(&[]), Err(SkipReason::Empty));
        // A bow tie crosses itself.
        let bow = vec![c(0., 0.), c(2., 2.), c(2., 0.), c(0., 2.), c(0., 0.)];
        assert_eq!(
            polygon_from_rings(&[bow]),
            Err(SkipReason::SelfIntersection)
        );
        // Collinear points have no area.
        let flat = vec![c(0., 0.), c(1., 0.), c(2., 0.), c(0., 0.)];
        assert!(polygon_from_rings(&[flat]).is_err());
    }

    #[test]
    fn degenerate_hole_is_dropped() {
        let r = polygon_from_rings(&[
            vec![c(0., 0.), c(10., 0.), c(10., 10.), c(0., 10.), c(0., 0.)],
            vec![c(1., 1.), c(2., 1.)],
        ])
        .expect("kept");
        assert_eq!(r.repairs, vec![DROPPED_HOLE]);
    }

    #[test]
    fn lines_and_multis() {
        assert_eq!(
            clean_geometry(Geometry::LineString(
                line_string![(x: 0., y: 0.), (x: 0., y: 0.)]
            )),
            Err(SkipReason::TooFewPoints)
        );
        let good = polygon![(x: 0., y: 0.), (x: 1., y: 0.), (x: 1., y: 1.), (x: 0., y: 0.)];
        let bad = polygon![(x: 5., y: 5.), (x: 6., y: 5.), (x: 5., y: 5.)];
        let r = clean_geometry(Geometry::MultiPolygon(MultiPolygon::new(vec![
            good.clone(),
            bad,
        ])))
        .expect("kept");
        assert_eq!(r.geometry, Geometry::Polygon(good));
        assert!(r.repairs.contains(&DROPPED_PART));
    }

    /// A ring of `n` vertices around a circle with a wobbling radius: simple, and no two segment boxes overlap
    /// much.
    fn star(n: usize) -> Vec<Coord<f64>> {
        (0..n)
            .map(|i| {
                let a = i as f64 / n as f64 * std::f64::consts::TAU;
                let r = 100.0 + if i % 2 == 0 { 1.0 } else { 0.0 };
                c(r * a.cos(), r * a.sin())
            })
            .collect()
    }

    #[test]
    fn small_and_large_rings_get_the_same_answers() {
        // Rings on both sides of the size where the pairwise test gives way to the R-tree: simple stars, the same
        // with two vertices swapped (crossing), and with a vertex moved onto a non-adjacent vertex (touching).
        for n in [4, 5, 8, 15, 16, 17, 18, 30, 64] {
            let mut ring = star(n);
            ring.push(ring[0]);
            let line = LineString::new(ring.clone());
            assert!(!ring_crosses_itself(&line), "star of {n}");
            if n >= 5 {
                let mut bad = ring.clone();
                bad.swap(1, n / 2 + 1);
                assert!(
                    ring_crosses_itself(&LineString::new(bad)),
                    "swapped star of {n}"
                );
            }
            if n >= 8 {
                let mut touch = ring.clone();
                touch[n / 2] = ring[1];
                assert!(
                    ring_crosses_itself(&LineString::new(touch)),
                    "touching star of {n}"
                );
            }
        }
    }

    #[test]
    fn huge_rings_validate_in_n_log_n() {
        // Regression: the self-intersection test compared all pairs of segments; 20,000 vertices took 40 s and a
        // 1,000,000-vertex polygon hung the import.
        let ring = star(50_000);
        let ok = polygon_from_rings(std::slice::from_ref(&ring)).expect("a simple ring");
        assert!(matches!(ok.geometry, Geometry::Polygon(_)));
        // Swap two far-apart vertices: the ring now crosses itself.
        let mut bad = ring.clone();
        bad.swap(10, 25_000);
        assert_eq!(
            polygon_from_rings(&[bad]),
            Err(SkipReason::SelfIntersection)
        );
        // A big hole inside, and one that pokes out of the shell.
        let hole: Vec<Coord<f64>> = star(5_000)
            .iter()
            .map(|p| c(p.x / 2.0, p.y / 2.0))
            .collect();
        assert!(polygon_from_rings(&[ring.clone(), hole]).is_ok());
        let out: Vec<Coord<f64>> = star(5_000)
            .iter()
            .map(|p| c(p.x / 2.0 + 80.0, p.y / 2.0))
            .collect();
        assert_eq!(
            polygon_from_rings(&[ring, out]),
            Err(SkipReason::InvalidRings)
        );
    }

    proptest::proptest! {
        /// The R-tree ring and hole tests accept exactly what geo's (quadratic) validation accepts.
        #[test]
        fn same_verdict_as_geo_validation(
            shell in proptest::collection::vec((0i8..6, 0i8..6), 3..9),
            hole in proptest::collection::vec((0i8..6, 0i8..6), 0..6),
        ) {
            use geo::Validation;
            let ring = |pts: &[(i8, i8)]| {
                let mut r: Vec<Coord<f64>> = pts.iter().map(|&(x, y)| c(x.into(), y.into())).collect();
                r.dedup();
                if r.len() > 1 && r.first() == r.last() {
                    r.pop();
                }
                if let Some(&f) = r.first() {
                    r.push(f);
                }
                LineString::new(r)
            };
            let (s, h) = (ring(&shell), ring(&hole));
            proptest::prop_assume!(s.0.len() >= 4 && (hole.is_empty() || h.0.len() >= 4));
            let p = Polygon::new(s, if hole.is_empty() { vec![] } else { vec![h] });
            let geo_ok = p.is_valid() && p.unsigned_area() > 0.0;
            proptest::prop_assert_eq!(check_polygon(&p).is_ok(), geo_ok, "{:?}", p);
        }
    }
}

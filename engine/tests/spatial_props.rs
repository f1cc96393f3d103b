//! Property tests: every spatial query equals a brute-force scan over the same features.
#![allow(clippy::unwrap_used)]

use citytwin_engine::{spatial, Layer, LayerKind, LayerSource, Value};
use geo::{Distance, Euclidean, Intersects};
use geo_types::{Geometry, LineString, Point, Polygon, Rect};
use proptest::prelude::*;

/// A random mix of small polygons, lines and points in a 1 km square.
fn layer_strategy() -> impl Strategy<Value = Layer> {
    prop::collection::vec(
        (
            0u8..3,
            0.0..1000.0f64,
            0.0..1000.0f64,
            1.0..60.0f64,
            1.0..60.0f64,
        ),
        1..200,
    )
    .prop_map(|items| {
        let mut l = Layer::new("t", LayerKind::Framework, LayerSource::default());
        for (kind, x, y, w, h) in items {
            let g = match kind {
                0 => Geometry::Polygon(Polygon::new(
                    LineString::from(vec![(x, y), (x + w, y), (x + w * 0.5, y + h), (x, y)]),
                    vec![],
                )),
                1 => Geometry::LineString(LineString::from(vec![
                    (x, y),
                    (x + w, y + h),
                    (x + 2.0 * w, y),
                ])),
                _ => Geometry::Point(Point::new(x, y)),
            };
            l.push_feature(g, Vec::<(&str, Value)>::new(), None);
        }
        l
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn bbox_equals_brute_force(l in layer_strategy(), x in -50.0..1000.0f64, y in -50.0..1000.0f64, w in 0.0..400.0f64, h in 0.0..400.0f64) {
        let r = Rect::new((x, y), (x + w, y + h));
        let got: Vec<_> = spatial::query_rect(&l, r).iter().map(|f| f.id).collect();
        let want: Vec<_> = l.features.iter().filter(|f| f.geometry.intersects(&r)).map(|f| f.id).collect();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn nearest_equals_brute_force(l in layer_strategy(), x in -100.0..1100.0f64, y in -100.0..1100.0f64, k in 0usize..12) {
        let p = Point::new(x, y);
        let got: Vec<_> = spatial::nearest(&l, [x, y], k).iter().map(|h| (h.feature.id, h.distance)).collect();
        let mut all: Vec<_> = l.features.iter().map(|f| (f.id, Euclidean.distance(&p, &f.geometry))).collect();
        all.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        all.truncate(k);
        prop_assert_eq!(got, all);
    }

    #[test]
    fn pick_equals_brute_force(l in layer_strategy(), x in 0.0..1000.0f64, y in 0.0..1000.0f64, tol in 0.0..20.0f64) {
        let p = Point::new(x, y);
        let got: Vec<_> = spatial::pick(&l, [x, y], tol).iter().map(|h| h.feature.id).collect();
        let mut want: Vec<_> = l.features.iter()
            .map(|f| (Euclidean.distance(&p, &f.geometry), f.id))
            .filter(|(d, _)| *d <= tol)
            .collect();
        want.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        prop_assert_eq!(got, want.into_iter().map(|(_, id)| id).collect::<Vec<_>>());
    }
}

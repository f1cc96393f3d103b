//! The scene frame: a projected CRS in metres and an origin, and the transformation of layers into it.

use super::layer::Layer;
use super::terrain::Terrain;
use crate::crs::{self, CrsError, Transform};
use geo::MapCoordsInPlace;
use geo_types::Coord;
use serde::{Deserialize, Serialize};

/// The scene's coordinate frame. A local point `(x, y)` is the CRS point `(x + origin[0], y + origin[1])`.
///
/// # Units
/// Metres.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SceneFrame {
    /// The projected CRS, as `AUTHORITY:CODE` or WKT.
    pub crs: String,
    /// The CRS coordinates of the local origin.
    pub origin: [f64; 2],
}

/// A transformation from some CRS into local frame coordinates, or from local coordinates out to some CRS.
#[derive(Debug)]
pub struct FrameTransform {
    transform: Transform,
    origin: [f64; 2],
    to_local: bool,
}

impl FrameTransform {
    /// The same transformation for this thread, from `recipe` (the original's): a PROJ object serves one thread, so
    /// parallel work builds one per worker.
    ///
    /// # Errors
    /// As [`Transform::new`] (which built this one already, so in practice none).
    fn fork(
        recipe: &crs::TransformRecipe,
        origin: [f64; 2],
        to_local: bool,
    ) -> Result<Self, CrsError> {
        Ok(FrameTransform {
            transform: recipe.build()?,
            origin,
            to_local,
        })
    }

    /// Transforms points in place.
    ///
    /// # Errors
    /// [`CrsError::OutOfDomain`] for a point PROJ cannot transform.
    pub fn apply(&self, points: &mut [(f64, f64)]) -> Result<(), CrsError> {
        if self.to_local {
            self.transform.apply(points)?;
            for p in points.iter_mut() {
                p.0 -= self.origin[0];
                p.1 -= self.origin[1];
            }
        } else {
            for p in points.iter_mut() {
                p.0 += self.origin[0];
                p.1 += self.origin[1];
            }
            self.transform.apply(points)?;
        }
        Ok(())
    }

    /// Transforms one point.
    ///
    /// # Errors
    /// As [`Self::apply`].
    pub fn point(&self, x: f64, y: f64) -> Result<(f64, f64), CrsError> {
        let mut p = [(x, y)];
        self.apply(&mut p)?;
        Ok(p[0])
    }

    /// Transforms every coordinate of a geometry in place.
    ///
    /// # Errors
    /// As [`Self::apply`]; the geometry is then unchanged.
    pub fn geometry(&self, g: &mut geo_types::Geometry<f64>) -> Result<(), CrsError> {
        use geo::CoordsIter;
        let mut pts: Vec<(f64, f64)> = g.coords_iter().map(|c| (c.x, c.y)).collect();
        self.apply(&mut pts)?;
        // `map_coords_in_place` visits coordinates in `coords_iter` order and wants a `Copy` closure, so the
        // iterator over transformed points is shared through a reference.
        let it = std::cell::RefCell::new(pts.into_iter());
        let it = &it;
        g.map_coords_in_place(move |c| match it.borrow_mut().next() {
            Some((x, y)) => Coord { x, y },
            None => c,
        });
        Ok(())
    }
}

/// Refuses a frame whose metres are not metres on the ground at (`lon`, `lat`): Web Mercator's are 2× too short
/// at 60° N, so every length, area and speed in the scene would be wrong. The scale is measured along the
/// meridian and the parallel over 0.001° and compared with the WGS 84 ellipsoid's arc lengths; 1 % is allowed
/// (a UTM zone is within 0.1 % over its width; a zone two zones away is not).
fn check_ground_scale(frame_crs: &str, lon: f64, lat: f64) -> Result<(), CrsError> {
    const A: f64 = 6_378_137.0;
    const E2: f64 = 0.006_694_379_990_14;
    let d = 0.001_f64;
    let phi = lat.to_radians();
    let w = (1.0 - E2 * phi.sin().powi(2)).sqrt();
    // Radii of curvature in the meridian and in the prime vertical.
    let m = A * (1.0 - E2) / w.powi(3);
    let n = A / w;
    let ground_ns = m * d.to_radians();
    let ground_ew = n * phi.cos() * d.to_radians();
    let tf = Transform::new("EPSG:4326", frame_crs)?;
    let (x0, y0) = tf.point(lon, lat)?;
    let (x1, y1) = tf.point(lon, lat + d)?;
    let (x2, y2) = tf.point(lon + d, lat)?;
    let scale_ns = (x1 - x0).hypot(y1 - y0) / ground_ns;
    let scale_ew = (x2 - x0).hypot(y2 - y0) / ground_ew;
    let worst = if (scale_ns - 1.0).abs() > (scale_ew - 1.0).abs() {
        scale_ns
    } else {
        scale_ew
    };
    if !worst.is_finite() || (worst - 1.0).abs() > 0.01 {
        return Err(CrsError::Unsuitable {
            definition: frame_crs.to_owned(),
            reason: format!(
                "at the data ({lon:.3}°, {lat:.3}°) one metre on the ground is {worst:.3} of its metres, so every \
                 length and area would be off by that factor; use a CRS made for the place, such as its UTM \
                 zone {}",
                crate::crs::utm_zone_for(lon, lat)
            ),
        });
    }
    Ok(())
}

impl SceneFrame {
    /// A frame in `crs` (checked: projected, metres) with `origin`.
    ///
    /// # Errors
    /// [`CrsError`] if the CRS is unknown or not projected in metres.
    pub fn new(crs: &str, origin: [f64; 2]) -> Result<Self, CrsError> {
        let info = crs::describe_scene_crs(crs)?;
        Ok(SceneFrame {
            crs: info.horizontal,
            origin,
        })
    }

    /// A frame for data whose bounding box in `src_crs` is `bbox`: in `crs` if given, else in the WGS 84 UTM
    /// zone of the box's centre; origin at the centre rounded to 100 m.
    ///
    /// # Errors
    /// [`CrsError`] if a CRS is unknown or unsuitable, or the centre cannot be transformed.
    pub fn for_extent(src_crs: &str, bbox: [f64; 4], crs: Option<&str>) -> Result<Self, CrsError> {
        // Halves first: the sum of two coordinates of 1e308 would overflow.
        let cx = bbox[0] / 2.0 + bbox[2] / 2.0;
        let cy = bbox[1] / 2.0 + bbox[3] / 2.0;
        let target = match crs {
            Some(c) => c.to_owned(),
            None => {
                let (lon, lat) = Transform::new(src_crs, "EPSG:4326")?.point(cx, cy)?;
                crs::utm_zone_for(lon, lat)
            }
        };
        let frame = SceneFrame::new(&target, [0.0, 0.0])?;
        let (x, y) = Transform::new(src_crs, &frame.crs)?.point(cx, cy)?;
        if crs.is_some() {
            let (lon, lat) = Transform::new(src_crs, "EPSG:4326")?.point(cx, cy)?;
            check_ground_scale(&frame.crs, lon, lat)?;
        }
        Ok(SceneFrame {
            origin: [(x / 100.0).round() * 100.0, (y / 100.0).round() * 100.0],
            ..frame
        })
    }

    /// A frame for `layer` (geometry still in its source CRS): as [`Self::for_extent`] over its bounding box,
    /// except that longitude/latitude data crossing the antimeridian (a bounding box over 180° wide that
    /// shrinks when longitudes are taken in 0..360) is centred where it lies rather than at 0°; data spanning
    /// more than half the globe is refused without `crs`, since no local frame serves it.
    ///
    /// # Errors
    /// As [`Self::for_extent`]; [`CrsError::Unsuitable`] for data spanning more than half the globe; `None`
    /// for a layer without features is the caller's to handle.
    pub fn for_layer(layer: &Layer, crs: Option<&str>) -> Result<Option<Self>, CrsError> {
        use geo::CoordsIter;
        let Some(bbox) = layer.bbox() else {
            return Ok(None);
        };
        let geographic = crs::describe(&layer.source.crs)
            .map(|i| i.kind == crs::CrsKind::Geographic)
            .unwrap_or(false);
        if !geographic || bbox[2] - bbox[0] <= 180.0 {
            return Self::for_extent(&layer.source.crs, bbox, crs).map(Some);
        }
        let lons = layer
            .features
            .iter()
            .flat_map(|f| f.geometry.coords_iter().map(|c| c.x));
        let range = crs::lon_range(lons).unwrap_or((bbox[0], bbox[2]));
        let width = crs::lon_width(range);
        if width <= 180.0 {
            // Across the antimeridian: the centre is half the width east of the west edge.
            let mid = range.0 + width / 2.0;
            let mid = if mid > 180.0 { mid - 360.0 } else { mid };
            return Self::for_extent(&layer.source.crs, [mid, bbox[1], mid, bbox[3]], crs)
                .map(Some);
        }
        match crs {
            Some(_) => Self::for_extent(&layer.source.crs, bbox, crs).map(Some),
            None => Err(CrsError::Unsuitable {
                definition: layer.source.crs.clone(),
                reason: format!(
                    "layer `{}` spans {:.0}° of longitude: a scene is one local projected frame, and no UTM \
                     zone serves data that wide; import a city-sized part, or give --crs",
                    layer.name, width
                ),
            }),
        }
    }

    /// A transformation from `src_crs` into local coordinates.
    ///
    /// # Errors
    /// [`CrsError`] if PROJ cannot build it.
    pub fn to_local(&self, src_crs: &str) -> Result<FrameTransform, CrsError> {
        Ok(FrameTransform {
            transform: Transform::new(src_crs, &self.crs)?,
            origin: self.origin,
            to_local: true,
        })
    }

    /// A transformation from local coordinates out to `dst_crs`.
    ///
    /// # Errors
    /// [`CrsError`] if PROJ cannot build it.
    pub fn from_local(&self, dst_crs: &str) -> Result<FrameTransform, CrsError> {
        Ok(FrameTransform {
            transform: Transform::new(&self.crs, dst_crs)?,
            origin: self.origin,
            to_local: false,
        })
    }
}

pub(super) enum LayerTransformError {
    Crs(CrsError),
    EmptyTerrain,
}

impl From<CrsError> for LayerTransformError {
    fn from(e: CrsError) -> Self {
        LayerTransformError::Crs(e)
    }
}

/// Brings a whole layer from its source CRS into the local frame.
pub(super) fn transform_layer(
    layer: &mut Layer,
    tf: &FrameTransform,
) -> Result<(), LayerTransformError> {
    use rayon::prelude::*;
    let surfaces = |tf: &FrameTransform, f: &mut crate::Feature| -> Result<(), CrsError> {
        if let Some(s) = f.building.as_mut().and_then(|b| b.surfaces.as_mut()) {
            let mut pts: Vec<(f64, f64)> = s.vertices.iter().map(|v| (v[0], v[1])).collect();
            tf.apply(&mut pts)?;
            for (v, p) in s.vertices.iter_mut().zip(pts) {
                v[0] = p.0;
                v[1] = p.1;
            }
        }
        Ok(())
    };
    let one = |tf: &FrameTransform, f: &mut crate::Feature| -> Result<(), CrsError> {
        tf.geometry(&mut f.geometry)?;
        surfaces(tf, f)
    };
    // Features of a run go through PROJ in one call (a call per feature cost an allocation and PROJ's own
    // overhead per feature); a run that fails is redone feature by feature to name the first failing one.
    let run = |tf: &FrameTransform,
               fs: &mut [crate::Feature],
               pts: &mut Vec<(f64, f64)>|
     -> Result<(), CrsError> {
        use geo::{CoordsIter, MapCoordsInPlace};
        pts.clear();
        for f in fs.iter() {
            pts.extend(f.geometry.coords_iter().map(|c| (c.x, c.y)));
        }
        if tf.apply(pts).is_err() {
            return fs.iter_mut().try_for_each(|f| one(tf, f));
        }
        // `map_coords_in_place` visits coordinates in `coords_iter` order and wants a `Copy` closure.
        let it = std::cell::RefCell::new(pts.iter().copied());
        let it = &it;
        for f in fs.iter_mut() {
            f.geometry
                .map_coords_in_place(move |c| match it.borrow_mut().next() {
                    Some((x, y)) => Coord { x, y },
                    None => c,
                });
            surfaces(tf, f)?;
        }
        Ok(())
    };
    // Features in parallel, a transformation per chunk (PROJ objects are not shared between threads); the
    // first error in feature order is the one reported, whatever the thread count.
    let (recipe, origin, to_local) = (tf.transform.recipe(), tf.origin, tf.to_local);
    let chunk = (layer.features.len() / (4 * rayon::current_num_threads()).max(1)).max(4096);
    let runs = |tf: &FrameTransform, fs: &mut [crate::Feature]| {
        let mut pts = Vec::new();
        fs.chunks_mut(1024)
            .try_for_each(|run_of| run(tf, run_of, &mut pts))
    };
    if layer.features.len() <= chunk {
        // One chunk: this transformation serves (building another costs PROJ milliseconds per layer).
        runs(tf, &mut layer.features)?;
    } else {
        let results: Vec<Result<(), CrsError>> = layer
            .features
            .par_chunks_mut(chunk)
            .map(|fs| runs(&FrameTransform::fork(&recipe, origin, to_local)?, fs))
            .collect();
        results.into_iter().collect::<Result<(), CrsError>>()?;
    }
    if let Some(net) = &mut layer.network {
        let mut pts: Vec<(f64, f64)> = net
            .nodes
            .iter()
            .map(|n| (n.position[0], n.position[1]))
            .collect();
        tf.apply(&mut pts)?;
        for (n, p) in net.nodes.iter_mut().zip(pts) {
            n.position = [p.0, p.1];
        }
    }
    if let Some(t) = layer.terrain.take() {
        layer.terrain = Some(resample_terrain(&t, &layer.source.crs, tf)?);
    }
    Ok(())
}

/// Resamples a grid given in a source CRS onto a north-up grid in the local frame with about the same resolution,
/// sampling the source bilinearly at each target cell centre.
fn resample_terrain(
    src: &Terrain,
    src_crs: &str,
    tf: &FrameTransform,
) -> Result<Terrain, LayerTransformError> {
    if tf.transform.is_identity() {
        let mut t = src.clone();
        t.origin = [t.origin[0] - tf.origin[0], t.origin[1] - tf.origin[1]];
        return Ok(t);
    }
    // Target extent: the transformed outline of the source grid.
    let e = src.extent();
    let n = 32;
    let mut outline = Vec::with_capacity(4 * n);
    for i in 0..n {
        let s = i as f64 / n as f64;
        outline.push((e[0] + s * (e[2] - e[0]), e[1]));
        outline.push((e[0] + s * (e[2] - e[0]), e[3]));
        outline.push((e[0], e[1] + s * (e[3] - e[1])));
        outline.push((e[2], e[1] + s * (e[3] - e[1])));
    }
    tf.apply(&mut outline)?;
    let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for (x, y) in &outline {
        x0 = x0.min(*x);
        y0 = y0.min(*y);
        x1 = x1.max(*x);
        y1 = y1.max(*y);
    }
    // Resolution: keep about the same number of cells along each axis.
    let cw = (x1 - x0) / src.cols.max(1) as f64;
    let ch = (y1 - y0) / src.rows.max(1) as f64;
    let mut cell = cw.min(ch);
    if !(cell.is_finite() && cell > 0.0) {
        return Err(LayerTransformError::EmptyTerrain);
    }
    // A grid the transformation stretches (a raster far outside the frame's zone, or a corrupt georeference)
    // would need more cells than it has: at most 4× its cells, coarser cells instead (found by fuzzing, where a
    // mutated GeoTIFF asked for 10^18 bytes).
    let budget = src.cols.saturating_mul(src.rows).clamp(1, 1 << 24) as f64 * 4.0;
    let area = (x1 - x0) * (y1 - y0);
    if area / (cell * cell) > budget {
        cell = (area / budget).sqrt();
    }
    if !(cell.is_finite() && cell > 0.0) {
        return Err(LayerTransformError::EmptyTerrain);
    }
    let cols = ((x1 - x0) / cell).ceil().max(1.0) as usize;
    let rows = ((y1 - y0) / cell).ceil().max(1.0) as usize;
    // Cell centres back into the source CRS, in one batch.
    let back = Transform::new(tf.transform.target(), src_crs)?;
    let mut centres = Vec::with_capacity(cols * rows);
    for r in 0..rows {
        for c in 0..cols {
            centres.push((
                x0 + (c as f64 + 0.5) * cell + tf.origin[0],
                y1 - (r as f64 + 0.5) * cell + tf.origin[1],
            ));
        }
    }
    // Points outside the source CRS domain become no data rather than failing the whole grid.
    let heights: Vec<f32> = centres
        .chunks(4096)
        .flat_map(|chunk| {
            let mut pts = chunk.to_vec();
            match back.apply(&mut pts) {
                Ok(()) => pts
                    .iter()
                    .map(|&(x, y)| src.sample(x, y).map_or(f32::NAN, |h| h as f32))
                    .collect::<Vec<_>>(),
                Err(_) => chunk
                    .iter()
                    .map(|&(x, y)| {
                        back.point(x, y)
                            .ok()
                            .and_then(|(sx, sy)| src.sample(sx, sy))
                            .map_or(f32::NAN, |h| h as f32)
                    })
                    .collect(),
            }
        })
        .collect();
    if heights.iter().all(|h| !h.is_finite()) {
        return Err(LayerTransformError::EmptyTerrain);
    }
    Ok(Terrain {
        origin: [x0, y1],
        cell_size: [cell, cell],
        cols,
        rows,
        heights,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo_types::{polygon, Geometry};

    #[test]
    fn default_frame_is_utm_of_the_centre() {
        let f =
            SceneFrame::for_extent("EPSG:4326", [26.93, 60.52, 26.97, 60.54], None).expect("frame");
        assert_eq!(f.crs, "EPSG:32635");
        assert_eq!(f.origin[0] % 100.0, 0.0);
        let tf = f.to_local("EPSG:4326").expect("tf");
        let (x, y) = tf.point(26.95, 60.53).expect("in domain");
        assert!(
            x.abs() < 100.0 && y.abs() < 100.0,
            "centre lands near the origin: {x} {y}"
        );
    }

    #[test]
    fn geometry_coordinates_keep_their_order() {
        let f = SceneFrame::new("EPSG:3067", [0.0, 0.0]).expect("frame");
        let tf = f.to_local("EPSG:3067").expect("identity");
        let p = polygon!(
            exterior: [(x: 0.0, y: 0.0), (x: 10.0, y: 0.0), (x: 10.0, y: 10.0), (x: 0.0, y: 0.0)],
            interiors: [[(x: 1.0, y: 1.0), (x: 2.0, y: 1.0), (x: 2.0, y: 2.0), (x: 1.0, y: 1.0)]],
        );
        let mut g = Geometry::Polygon(p.clone());
        tf.geometry(&mut g).expect("identity");
        assert_eq!(g, Geometry::Polygon(p));
        let out = f.from_local("EPSG:4326").expect("tf");
        let mut g2 = Geometry::Point(geo_types::Point::new(500_000.0, 6_700_000.0));
        out.geometry(&mut g2).expect("in domain");
        let Geometry::Point(pt) = g2 else {
            unreachable!()
        };
        assert!(
            (pt.x() - 27.0).abs() < 1e-6,
            "TM35FIN's central meridian is 27°E"
        );
    }

    #[test]
    fn terrain_resamples_across_crs() {
        // A 0.01° grid in WGS 84 whose height is the latitude's hundredths: a north-south ramp.
        let mut heights = Vec::new();
        for r in 0..20 {
            for _c in 0..20 {
                heights.push(100.0 - r as f32);
            }
        }
        let src = Terrain {
            origin: [26.9, 60.6],
            cell_size: [0.01, 0.01],
            cols: 20,
            rows: 20,
            heights,
        };
        let frame =
            SceneFrame::for_extent("EPSG:4326", [26.9, 60.4, 27.1, 60.6], None).expect("frame");
        let tf = frame.to_local("EPSG:4326").expect("tf");
        let t = resample_terrain(&src, "EPSG:4326", &tf)
            .ok()
            .expect("resampled");
        let (x, y) = tf.point(27.0, 60.5).expect("in domain");
        let h = t.sample(x, y).expect("inside");
        // 60.5° is 0.1° below the top edge: 9.5 cells down from row 0's centre at 0.005° below the top.
        assert!((h - (100.0 - 9.5)).abs() < 0.2, "{h}");
    }

    #[test]
    fn stretched_terrain_keeps_its_cell_count() {
        // Regression (found by fuzzing): cells 5° wide and 0.00001° tall made the target grid's cell the
        // smaller side (about a metre) over a 500 km extent — an allocation of 10^18 bytes that aborted.
        let src = Terrain {
            origin: [20.0, 60.5],
            cell_size: [5.0, 0.000_01],
            cols: 2,
            rows: 10,
            heights: vec![10.0; 20],
        };
        let frame =
            SceneFrame::for_extent("EPSG:4326", [20.0, 60.4, 30.0, 60.5], None).expect("frame");
        let tf = frame.to_local("EPSG:4326").expect("tf");
        // Before the fix this aborted the process; now the grid is coarsened to its cell budget (or, where no
        // coarse cell centre falls on the thin strip, refused as empty).
        if let Ok(t) = resample_terrain(&src, "EPSG:4326", &tf) {
            assert!(
                t.cols * t.rows <= 4 * 20 + t.cols + t.rows,
                "{}×{}",
                t.cols,
                t.rows
            );
        }
    }
}

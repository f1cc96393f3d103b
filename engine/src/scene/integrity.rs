//! Checks that a decoded scene is whole: what the store reads back must hold the invariants that importers
//! establish, because queries, meshing and simulations rely on them (an unclosed ring panics inside geo and
//! earcut). A checksum guards against damage in transit, not against a file written or edited by something else.

use super::{Feature, Layer, Scene};
use geo_types::{Coord, Geometry, LineString, Polygon};

fn finite(c: &Coord<f64>) -> bool {
    c.x.is_finite() && c.y.is_finite()
}

fn check_line(l: &LineString<f64>, what: &str) -> Result<(), String> {
    if l.0.len() < 2 {
        return Err(format!("{what} has fewer than 2 points"));
    }
    if !l.0.iter().all(finite) {
        return Err(format!("{what} has a non-finite coordinate"));
    }
    Ok(())
}

fn check_polygon(p: &Polygon<f64>) -> Result<(), String> {
    for (i, ring) in std::iter::once(p.exterior())
        .chain(p.interiors())
        .enumerate()
    {
        let what = if i == 0 { "a shell" } else { "a hole" };
        if ring.0.first() != ring.0.last() {
            return Err(format!("{what} is not closed"));
        }
        if ring.0.len() < 4 {
            return Err(format!("{what} has fewer than 4 points"));
        }
        check_line(ring, what)?;
    }
    Ok(())
}

fn check_geometry(g: &Geometry<f64>) -> Result<(), String> {
    match g {
        Geometry::Point(p) if finite(&p.0) => Ok(()),
        Geometry::Point(_) => Err("a point has a non-finite coordinate".into()),
        Geometry::LineString(l) => check_line(l, "a line"),
        Geometry::MultiLineString(m) if !m.0.is_empty() => {
            m.0.iter().try_for_each(|l| check_line(l, "a line"))
        }
        Geometry::Polygon(p) => check_polygon(p),
        Geometry::MultiPolygon(m) if !m.0.is_empty() => m.0.iter().try_for_each(check_polygon),
        Geometry::MultiPoint(m) if !m.0.is_empty() && m.0.iter().all(|p| finite(&p.0)) => Ok(()),
        _ => Err("a geometry is empty or of a kind scenes do not hold".into()),
    }
}

fn check_feature(layer: &Layer, f: &Feature) -> Result<(), String> {
    check_geometry(&f.geometry)?;
    let keys = layer.keys.names().len();
    f.attributes.check(keys)?;
    if let Some(b) = &f.building {
        if !(b.height.is_finite()
            && b.height >= 0.0
            && b.min_height.is_finite()
            && b.base_elevation.is_finite())
        {
            return Err("a building has a non-finite or negative height".into());
        }
        if let Some(s) = &b.surfaces {
            let n = s.vertices.len();
            if !s.vertices.iter().flatten().all(|v| v.is_finite()) {
                return Err("a building surface has a non-finite vertex".into());
            }
            if s.polygons
                .iter()
                .flatten()
                .flatten()
                .any(|&i| i as usize >= n)
            {
                return Err("a building surface refers to a vertex it does not have".into());
            }
        }
    }
    Ok(())
}

fn check_layer(layer: &Layer) -> Result<(), String> {
    use rayon::prelude::*;
    // On all cores; the first bad feature in order is the one named, whatever the thread count.
    if let Some(e) = layer.features.par_iter().find_map_first(|f| {
        check_feature(layer, f)
            .err()
            .map(|e| format!("feature {}: {e}", f.id.0))
    }) {
        return Err(e);
    }
    // Lookups by id binary-search each layer.
    if layer.features.windows(2).any(|w| w[0].id >= w[1].id) {
        return Err("features are not in id order".into());
    }
    if let Some(net) = &layer.network {
        let nodes = net.nodes.len();
        if !net
            .nodes
            .iter()
            .all(|n| n.position.iter().all(|v| v.is_finite()))
        {
            return Err("a network node has a non-finite position".into());
        }
        for e in &net.edges {
            if e.from.0 as usize >= nodes || e.to.0 as usize >= nodes {
                return Err(format!(
                    "network edge {} joins a node the network does not have",
                    e.id.0
                ));
            }
            if !(e.length_m.is_finite() && e.length_m >= 0.0) {
                return Err(format!("network edge {} has no valid length", e.id.0));
            }
        }
        if net
            .edges
            .iter()
            .enumerate()
            .any(|(i, e)| e.id.0 as usize != i)
        {
            return Err("network edge ids are not their positions".into());
        }
        let links = 2 * net.edges.len();
        if let Some(turns) = &net.turns {
            if turns
                .iter()
                .any(|t| t.from.0 as usize >= links || t.to.0 as usize >= links)
            {
                return Err("a turn refers to a link the network does not have".into());
            }
        }
    }
    if let Some(t) = &layer.terrain {
        let cells = t.cols.checked_mul(t.rows);
        if cells != Some(t.heights.len())
            || !t.cell_size.iter().all(|c| c.is_finite() && *c > 0.0)
            || !t.origin.iter().all(|c| c.is_finite())
        {
            return Err("the terrain grid's size does not match its heights".into());
        }
    }
    if let Some(u) = &layer.utility {
        u.check_references()
            .map_err(|e| format!("the utility model: {e}"))?;
    }
    Ok(())
}

impl Scene {
    /// Checks the invariants queries, meshing and simulations rely on: finite coordinates, closed rings, indices
    /// in range, unique feature ids below the next id. Run by the store on every scene it loads.
    ///
    /// # Errors
    /// What is wrong, naming the layer and, where there is one, the feature.
    pub fn check_integrity(&self) -> Result<(), String> {
        if !self.frame.origin.iter().all(|v| v.is_finite()) {
            return Err("the scene origin is not finite".into());
        }
        let next = self.next_feature_id().0;
        let mut ids: Vec<u64> = Vec::with_capacity(self.feature_count());
        for l in &self.layers {
            check_layer(l).map_err(|e| format!("layer `{}`: {e}", l.name))?;
            ids.extend(l.features.iter().map(|f| f.id.0));
        }
        if ids.iter().any(|&i| i >= next) {
            return Err("a feature id is beyond the scene's id counter".into());
        }
        ids.sort_unstable();
        if ids.windows(2).any(|w| w[0] == w[1]) {
            return Err("two features share an id".into());
        }
        Ok(())
    }
}

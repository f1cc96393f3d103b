//! What-if edits resolved against the scene: which road edges close, which buildings go, which are added.
//!
//! Selectors name features by id, by OpenStreetMap id (attribute `osm_id`), by SUMO edge id (attribute
//! `sumo_id`), by name (attribute `name`) or by a polygon in `edits.crs`. A selector that matches nothing is an error naming its line in the scenario, so a
//! typo never silently simulates the base case.

use super::scenario::{Scenario, ScenarioError, ScenarioSource, Selector};
use crate::ids::{EdgeId, FeatureId};
use crate::{Layer, LayerKind, Scene, ValueRef};
use geo::Intersects;
use geo_types::{Coord, LineString, Polygon};
use std::collections::{BTreeSet, HashMap};

/// Edits in scene terms.
#[derive(Clone, Debug, Default)]
pub struct ResolvedEdits {
    /// Road edges closed to cars.
    pub closed_edges: BTreeSet<EdgeId>,
    /// Buildings removed.
    pub removed_buildings: BTreeSet<FeatureId>,
    /// Buildings added: footprint (local frame), storeys, use.
    pub added: Vec<(Polygon<f64>, u32, String)>,
}

fn polygon_local(scene: &Scene, crs: &str, pts: &[[f64; 2]]) -> Result<Polygon<f64>, String> {
    let tf = scene.frame.to_local(crs).map_err(|e| e.to_string())?;
    let mut xy: Vec<(f64, f64)> = pts.iter().map(|p| (p[0], p[1])).collect();
    tf.apply(&mut xy).map_err(|e| e.to_string())?;
    let mut ring: Vec<Coord<f64>> = xy.into_iter().map(|(x, y)| Coord { x, y }).collect();
    if ring.first() != ring.last() {
        if let Some(f) = ring.first().copied() {
            ring.push(f);
        }
    }
    Ok(Polygon::new(LineString::new(ring), vec![]))
}

fn text_matches(layer: &Layer, f: &crate::Feature, key: &str, want: &str) -> bool {
    layer
        .attribute(f, key)
        .and_then(ValueRef::as_str)
        .is_some_and(|v| v.trim().eq_ignore_ascii_case(want.trim()))
}

/// Features of `layers` a selector picks.
fn select<'a>(
    scene: &Scene,
    crs: &str,
    layers: &[&'a Layer],
    sel: &Selector,
) -> Result<Vec<(&'a Layer, FeatureId)>, String> {
    let mut out = Vec::new();
    if let Some(id) = sel.feature {
        for l in layers {
            if l.feature(FeatureId(id)).is_some() {
                out.push((*l, FeatureId(id)));
            }
        }
    } else if let Some(osm) = sel.osm_id {
        for l in layers {
            out.extend(
                l.features
                    .iter()
                    .filter(|f| {
                        l.attribute(f, "osm_id").and_then(ValueRef::as_f64) == Some(osm as f64)
                    })
                    .map(|f| (*l, f.id)),
            );
        }
    } else if let Some(sumo) = &sel.sumo_edge {
        for l in layers {
            out.extend(
                l.features
                    .iter()
                    .filter(|f| text_matches(l, f, "sumo_id", sumo))
                    .map(|f| (*l, f.id)),
            );
        }
    } else if let Some(name) = &sel.name {
        for l in layers {
            out.extend(
                l.features
                    .iter()
                    .filter(|f| text_matches(l, f, "name", name))
                    .map(|f| (*l, f.id)),
            );
        }
    } else if let Some(poly) = &sel.polygon {
        let p = polygon_local(scene, crs, poly)?;
        for l in layers {
            out.extend(
                l.features
                    .iter()
                    .filter(|f| f.geometry.intersects(&p))
                    .map(|f| (*l, f.id)),
            );
        }
    }
    Ok(out)
}

fn describe(sel: &Selector) -> String {
    if let Some(id) = sel.feature {
        format!("feature {id}")
    } else if let Some(o) = sel.osm_id {
        format!("OSM id {o}")
    } else if let Some(s) = &sel.sumo_edge {
        format!("SUMO edge `{s}`")
    } else if let Some(n) = &sel.name {
        format!("name `{n}`")
    } else {
        "the polygon".into()
    }
}

/// Resolves the scenario's edits. `roads` is the road layer traffic runs on (closures need one).
///
/// # Errors
/// [`ScenarioError`] at the selector's line when it matches nothing, or a polygon cannot be transformed.
pub fn resolve(
    scene: &Scene,
    scenario: &Scenario,
    src: &ScenarioSource,
    roads: Option<&Layer>,
) -> Result<ResolvedEdits, ScenarioError> {
    let e = &scenario.edits;
    let mut out = ResolvedEdits::default();
    if !e.close_roads.is_empty() {
        let Some(roads) = roads else {
            return Err(src.error(
                e.close_roads[0].span(),
                "edits.close_roads",
                "the scene has no road network to close roads in",
            ));
        };
        let edge_of: HashMap<FeatureId, EdgeId> = roads
            .network
            .iter()
            .flat_map(|n| n.edges.iter().map(|e| (e.feature, e.id)))
            .collect();
        for s in &e.close_roads {
            let found = select(scene, &e.crs, &[roads], s.get_ref())
                .map_err(|m| src.error(s.span(), "edits.close_roads", m))?;
            let edges: Vec<EdgeId> = found
                .iter()
                .filter_map(|(_, f)| edge_of.get(f).copied())
                .collect();
            if edges.is_empty() {
                return Err(src.error(
                    s.span(),
                    "edits.close_roads",
                    format!(
                        "{} is no road of layer `{}`",
                        describe(s.get_ref()),
                        roads.name
                    ),
                ));
            }
            out.closed_edges.extend(edges);
        }
    }
    let buildings: Vec<&Layer> = scene
        .layers
        .iter()
        .filter(|l| l.kind == LayerKind::Buildings)
        .collect();
    for s in &e.remove_buildings {
        let found = select(scene, &e.crs, &buildings, s.get_ref())
            .map_err(|m| src.error(s.span(), "edits.remove_buildings", m))?;
        if found.is_empty() {
            return Err(src.error(
                s.span(),
                "edits.remove_buildings",
                format!("{} is no building of the scene", describe(s.get_ref())),
            ));
        }
        out.removed_buildings.extend(found.into_iter().map(|f| f.1));
    }
    for b in &e.add_buildings {
        let nb = b.get_ref();
        let p = polygon_local(scene, &e.crs, &nb.polygon)
            .map_err(|m| src.error(b.span(), "edits.add_buildings", m))?;
        out.added.push((p, nb.levels, nb.usage.clone()));
    }
    for r in &e.residents {
        let id = FeatureId(r.get_ref().feature);
        if !buildings.iter().any(|l| l.feature(id).is_some()) {
            return Err(src.error(
                r.span(),
                "edits.residents",
                format!("feature {id} is no building of the scene"),
            ));
        }
    }
    Ok(out)
}

//! Which utility node serves each building: the nearest water junction or low-voltage bus of a network (an
//! R-tree over the nodes' scene positions), unless a building attribute names one, and none beyond the
//! scenario's service distance. Also the demand each building puts on it, from its occupancy, floor area and use.

use super::config::{normalised, UtilitiesConfig};
use super::power::PowerGrid;
use super::water::{NodeKind, WaterNetwork};
use crate::sim::population::Places;
use crate::sim::scenario::UseCategory;
use crate::time::SimTime;
use crate::{Layer, Scene, ValueRef};
use geo_types::Geometry;
use rstar::primitives::GeomWithData;
use rstar::RTree;
use std::collections::{BTreeMap, HashMap};

/// A candidate serving node: its position in the scene frame and its index in the model.
type Candidate = GeomWithData<[f64; 2], usize>;

/// The node serving each place (`None`: not connected), by place index.
pub type Assignment = Vec<Option<usize>>;

/// The point position of a feature of `layer`, local frame.
fn point_of(layer: &Layer, f: Option<crate::FeatureId>) -> Option<[f64; 2]> {
    match &layer.feature(f?)?.geometry {
        Geometry::Point(p) => Some([p.x(), p.y()]),
        _ => None,
    }
}

/// The text of a building attribute (text or integer).
fn attribute(scene: &Scene, f: crate::FeatureId, key: &str) -> Option<String> {
    let (li, fi) = scene.locate(f)?;
    let layer = &scene.layers[li];
    match layer.attribute(&layer.features[fi], key)? {
        ValueRef::Text(s) => Some(s.to_owned()),
        ValueRef::Int(i) => Some(i.to_string()),
        ValueRef::Float(x) if x.fract() == 0.0 => Some(format!("{x:.0}")),
        _ => None,
    }
}

/// Assigns places to candidates: the attribute's named one if any, else the nearest within `max_m`.
fn assign(
    scene: &Scene,
    places: &Places,
    candidates: Vec<Candidate>,
    by_name: &HashMap<String, usize>,
    attr: &str,
    max_m: f64,
) -> Assignment {
    let tree = RTree::bulk_load(candidates);
    let max2 = max_m * max_m;
    (0..places.len())
        .map(|k| {
            if let Some(named) = attribute(scene, places.feature[k], attr)
                .and_then(|v| by_name.get(v.trim()).copied())
            {
                return Some(named);
            }
            let c = places.centroid[k];
            tree.nearest_neighbor_iter_with_distance_2(&c)
                .next()
                .filter(|(_, d2)| *d2 <= max2)
                .map(|(n, _)| n.data)
        })
        .collect()
}

/// The junction serving each place.
pub fn water(
    scene: &Scene,
    layer: &Layer,
    net: &WaterNetwork,
    places: &Places,
    cfg: &UtilitiesConfig,
) -> Assignment {
    let mut candidates = Vec::new();
    let mut by_name = HashMap::new();
    for (i, n) in net.nodes.iter().enumerate() {
        if n.kind != NodeKind::Junction {
            continue;
        }
        by_name.insert(n.id.clone(), i);
        if let Some(p) = point_of(layer, n.feature) {
            candidates.push(Candidate::new(p, i));
        }
    }
    assign(
        scene,
        places,
        candidates,
        &by_name,
        &cfg.water.node_attribute,
        cfg.max_service_distance_m,
    )
}

/// The bus (row of `grid.buses`) serving each place: in-service buses up to the service voltage, or every
/// in-service bus when the grid has none that low.
pub fn power(
    scene: &Scene,
    layer: &Layer,
    grid: &PowerGrid,
    places: &Places,
    cfg: &UtilitiesConfig,
) -> Assignment {
    let low = |b: &super::power::Bus| b.in_service && b.vn_kv <= cfg.power.service_max_kv;
    let any_low = grid.buses.iter().any(low);
    let mut candidates = Vec::new();
    let mut by_name = HashMap::new();
    for (i, b) in grid.buses.iter().enumerate() {
        if !(b.in_service && (!any_low || low(b))) {
            continue;
        }
        by_name.insert(b.index.to_string(), i);
        if let Some(p) = point_of(layer, b.feature) {
            candidates.push(Candidate::new(p, i));
        }
    }
    assign(
        scene,
        places,
        candidates,
        &by_name,
        &cfg.power.bus_attribute,
        cfg.max_service_distance_m,
    )
}

/// Rates by use: per person present and per m² of floor area, with hourly profiles (mean 1).
pub struct Rates {
    per_person: BTreeMap<UseCategory, f64>,
    per_m2: BTreeMap<UseCategory, f64>,
    person_profile: [f64; 24],
    area_profile: [f64; 24],
}

impl Rates {
    /// Water: m³/s per person and per m², from litres per day.
    pub fn water(cfg: &UtilitiesConfig) -> Self {
        let w = &cfg.water;
        let per_day = |m: &BTreeMap<UseCategory, f64>| {
            m.iter().map(|(k, v)| (*k, v / 1000.0 / 86_400.0)).collect()
        };
        Rates {
            per_person: per_day(&w.litres_per_person_day),
            per_m2: per_day(&w.litres_per_m2_day),
            person_profile: normalised(w.person_profile.get_ref()),
            area_profile: normalised(w.area_profile.get_ref()),
        }
    }

    /// Power: kW per person and per m².
    pub fn power(cfg: &UtilitiesConfig) -> Self {
        let p = &cfg.power;
        Rates {
            per_person: p.kw_per_person.clone(),
            per_m2: p.w_per_m2.iter().map(|(k, v)| (*k, v / 1000.0)).collect(),
            person_profile: normalised(p.person_profile.get_ref()),
            area_profile: normalised(p.area_profile.get_ref()),
        }
    }

    /// The demand of place `k` with `persons` present at `t`.
    pub fn demand(&self, places: &Places, k: usize, persons: f64, t: SimTime) -> f64 {
        let use_ = places.category[k];
        let h = ((t.0 % 86_400) / 3600) as usize;
        let pp = self.per_person.get(&use_).copied().unwrap_or(0.0);
        let pa = self.per_m2.get(&use_).copied().unwrap_or(0.0);
        persons * pp * self.person_profile[h] + places.floor_m2[k] * pa * self.area_profile[h]
    }
}

/// Sums building demands per serving node and step: `out[node][step]`, for the nodes that serve any building.
pub fn node_demands(
    places: &Places,
    occupancy: &crate::timeseries::SeriesTable,
    assignment: &Assignment,
    rates: &Rates,
) -> BTreeMap<usize, Vec<f64>> {
    let steps = occupancy.times.len();
    let col = occupancy.column("occupancy");
    let mut out: BTreeMap<usize, Vec<f64>> = BTreeMap::new();
    for (k, node) in assignment.iter().enumerate() {
        let Some(n) = node else { continue };
        let series = out.entry(*n).or_insert_with(|| vec![0.0; steps]);
        for (j, t) in occupancy.times.iter().enumerate() {
            let persons = col.map_or(0.0, |c| f64::from(occupancy.step_values(c, j)[k]));
            series[j] += rates.demand(places, k, persons, *t);
        }
    }
    out
}

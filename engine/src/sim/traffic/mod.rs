//! Traffic: car trips routed on the road graph and moved through a queue-based mesoscopic link model.
//!
//! - [`RoadNet`]: the car links of a road layer as the model sees them: free-flow time, flow capacity, storage
//!   capacity, turns; links closed by a what-if are left out.
//! - [`routing`]: fastest paths over the link graph by contraction hierarchies (the `fast_paths` crate, as A/B
//!   Street uses), so turn restrictions (SUMO connections) and U-turn penalties are part of the graph.
//! - [`queue`]: the mobility simulation. It follows MATSim's QSim (Cetin 2005): a link holds a FIFO queue of
//!   vehicles that may leave no earlier than their free-flow exit time and no faster than the link's flow
//!   capacity, into a buffer from which the downstream node moves them on while the next link has storage
//!   space (spill-back). Where it differs: departing vehicles start at the beginning of their first link and
//!   arriving ones leave at the end of their last, as SUMO trips do; exit times are kept to the millisecond so
//!   free-flow trips take exactly their free-flow time; gridlock is resolved as SUMO does: a vehicle stuck at
//!   a queue's head longer than `stuck_time` (default 300 s) is moved on and counted.
//!
//! # Glossary
//! - **link**: a road edge in one direction that cars may use; **node**: where links meet.
//! - **free-flow time**: length ÷ speed limit (× the vehicle's speed factor).
//! - **flow capacity**: vehicles per hour a link can discharge (lanes × capacity per lane).
//! - **storage capacity**: vehicles a link holds at once (length × lanes ÷ vehicle spacing).
//! - **spill-back**: a full link refuses vehicles, so queues grow back onto the links before it.
//! - **moved on**: a vehicle released from gridlock after `stuck_time` (SUMO "teleport").
//! - **tick**: the model's one-second update; trips depart and arrive at millisecond times within it.

pub mod queue;
pub mod routing;

use super::scenario::TrafficConfig;
use crate::ids::{EdgeId, FeatureId, LinkId, NodeId};
use crate::{EdgeProps, Layer, Network, NetworkKind, RoadClass, Scene};
use std::collections::BTreeSet;

/// No such link (in `RoadNet::index_of`).
pub const NO_LINK: u32 = u32::MAX;

/// A link that may follow another, and the turn between them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Succ {
    /// The next sim link.
    pub link: u32,
    /// Time across the junction (part of the trip), ms.
    pub turn_ms: u32,
    /// Length across the junction, cm.
    pub turn_cm: u32,
    /// Extra cost in route choice only (U-turns), ms.
    pub penalty_ms: u32,
}

impl Succ {
    /// The cost of taking this turn into `next` in route choice: the next link's free-flow time, the turn and
    /// its penalty, ms.
    pub fn route_cost(&self, next_free_flow_ms: u64) -> u64 {
        next_free_flow_ms + u64::from(self.turn_ms) + u64::from(self.penalty_ms)
    }
}

/// The car links of a road layer, as the traffic model uses them. Indexed by *sim link* (`0..len()`), in
/// [`LinkId`] order.
#[derive(Clone, Debug)]
pub struct RoadNet {
    /// The road layer's name.
    pub layer: String,
    /// Sim link → network link.
    pub link: Vec<LinkId>,
    /// Network link id → sim link ([`NO_LINK`] when cars may not use it or it is closed).
    pub index_of: Vec<u32>,
    /// Start node.
    pub from: Vec<NodeId>,
    /// End node.
    pub to: Vec<NodeId>,
    /// Feature of the underlying edge.
    pub feature: Vec<FeatureId>,
    /// Length, m.
    pub length_m: Vec<f64>,
    /// Speed limit, m/s.
    pub speed_ms: Vec<f64>,
    /// Car lanes.
    pub lanes: Vec<u8>,
    /// Flow capacity, vehicles per hour.
    pub capacity_veh_h: Vec<f64>,
    /// Storage capacity, vehicles.
    pub storage: Vec<f64>,
    /// Free-flow time at the speed limit, ms (at least 1).
    pub free_flow_ms: Vec<u64>,
    /// Successors of each sim link: `succ[succ_off[l]..succ_off[l + 1]]`.
    pub succ_off: Vec<u32>,
    /// See `succ_off`.
    pub succ: Vec<Succ>,
    /// Whether each link belongs to the largest strongly connected part of the link graph: from such a link
    /// every other one of them can be reached and back. Buildings attach to these, so a street cut off by a
    /// oneway or a barrier does not strand its residents.
    pub in_main_part: Vec<bool>,
    /// Number of nodes of the network.
    pub node_count: usize,
    /// Whether the network lists its allowed turns (then routes are searched link by link).
    pub has_turn_list: bool,
    /// Edges closed to cars by the scenario.
    pub closed_edges: usize,
}

/// Why the road network cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum RoadNetError {
    /// No road layer in the scene.
    #[error("the scene has no road network (import OSM roads or a SUMO network first)")]
    NoRoads,
    /// The named layer has no road network.
    #[error("layer `{0}` has no road network")]
    NotRoads(String),
}

/// The road layer to simulate on: `name`, or the first layer with a road network.
///
/// # Errors
/// [`RoadNetError`] when there is none, or the named layer is not a road network.
pub fn road_layer<'a>(scene: &'a Scene, name: Option<&str>) -> Result<&'a Layer, RoadNetError> {
    match name {
        Some(n) => {
            let l = scene
                .layer(n)
                .map_err(|_| RoadNetError::NotRoads(n.to_owned()))?;
            match &l.network {
                Some(net) if net.kind == NetworkKind::Road => Ok(l),
                _ => Err(RoadNetError::NotRoads(n.to_owned())),
            }
        }
        None => scene
            .layers
            .iter()
            .find(|l| {
                l.network
                    .as_ref()
                    .is_some_and(|n| n.kind == NetworkKind::Road)
            })
            .ok_or(RoadNetError::NoRoads),
    }
}

impl RoadNet {
    /// The car links of `layer`'s network with the scenario's traffic parameters, leaving out `closed` edges.
    pub fn build(layer: &Layer, cfg: &TrafficConfig, closed: &BTreeSet<EdgeId>) -> Self {
        let empty = Network::new(NetworkKind::Road);
        let net = layer.network.as_ref().unwrap_or(&empty);
        let links = net.links();
        let mut r = RoadNet {
            layer: layer.name.clone(),
            link: Vec::new(),
            index_of: vec![NO_LINK; links.id_count()],
            from: Vec::new(),
            to: Vec::new(),
            feature: Vec::new(),
            length_m: Vec::new(),
            speed_ms: Vec::new(),
            lanes: Vec::new(),
            capacity_veh_h: Vec::new(),
            storage: Vec::new(),
            free_flow_ms: Vec::new(),
            succ_off: vec![0],
            succ: Vec::new(),
            in_main_part: Vec::new(),
            node_count: net.nodes.len(),
            has_turn_list: net.turns.is_some(),
            closed_edges: closed.len(),
        };
        for l in links.iter() {
            let e = net.edge_of(l);
            if closed.contains(&e.id) {
                continue;
            }
            let EdgeProps::Road(p) = &e.props else {
                continue;
            };
            let class = p.class.as_str();
            let speed_kmh = if p.speed_tagged {
                p.speed_kmh
            } else {
                cfg.speeds_kmh.get(class).copied().unwrap_or(p.speed_kmh)
            };
            let per_lane = cfg
                .capacity_per_lane
                .get(class)
                .copied()
                .unwrap_or(p.capacity_per_lane);
            let per_lane = if per_lane > 0.0 {
                per_lane
            } else {
                RoadClass::Unclassified.default_capacity_per_lane()
            };
            let lanes = p.lanes(l.is_backward()).max(1);
            let length = e.length_m.max(0.1);
            let speed = (f64::from(speed_kmh) / 3.6).max(0.5);
            let cap = f64::from(per_lane) * f64::from(lanes) * cfg.flow_capacity_factor;
            let cap_per_s = cap / 3600.0;
            let free_s = length / speed;
            // MATSim's storage: at least what the link discharges in a second and in its free-flow time.
            let storage = (length * f64::from(lanes) / cfg.vehicle_spacing_m
                * cfg.storage_capacity_factor)
                .max(cap_per_s)
                .max(free_s * cap_per_s)
                .max(1.0);
            r.index_of[l.index()] = r.link.len() as u32;
            r.link.push(l);
            r.from.push(net.link_from(l));
            r.to.push(net.link_to(l));
            r.feature.push(e.feature);
            r.length_m.push(length);
            r.speed_ms.push(speed);
            r.lanes.push(lanes);
            r.capacity_veh_h.push(cap);
            r.storage.push(storage);
            r.free_flow_ms
                .push(((free_s * 1000.0).round() as u64).max(1));
        }
        // Successors: every link leaving the end node (or only the turns the source allows), U-turns at a cost.
        let uturn_ms = (u64::from(cfg.uturn_penalty.0) * 1000).min(u64::from(u32::MAX)) as u32;
        let turns = net.turns.as_deref();
        for i in 0..r.link.len() {
            let l = r.link[i];
            let end = r.to[i];
            for &m in links.out(end) {
                let j = r.index_of[m.index()];
                if j == NO_LINK || j == i as u32 {
                    continue;
                }
                let succ = match turns {
                    Some(t) => {
                        let Ok(k) = t.binary_search_by(|x| (x.from, x.to).cmp(&(l, m))) else {
                            continue;
                        };
                        Succ {
                            link: j,
                            turn_ms: (t[k].time_s() * 1000.0).round().min(f64::from(u32::MAX))
                                as u32,
                            turn_cm: (t[k].length_m * 100.0).round().min(f64::from(u32::MAX))
                                as u32,
                            penalty_ms: 0,
                        }
                    }
                    None => Succ {
                        link: j,
                        turn_ms: 0,
                        turn_cm: 0,
                        penalty_ms: if m == l.reverse() { uturn_ms } else { 0 },
                    },
                };
                r.succ.push(succ);
            }
            r.succ_off.push(r.succ.len() as u32);
        }
        r.in_main_part = r.main_part();
        r
    }

    /// Marks the links of the largest strongly connected component (Kosaraju, petgraph); ties go to the part
    /// with the lowest link.
    fn main_part(&self) -> Vec<bool> {
        let mut g: petgraph::Graph<(), ()> =
            petgraph::Graph::with_capacity(self.len(), self.succ.len());
        let nodes: Vec<_> = (0..self.len()).map(|_| g.add_node(())).collect();
        for (l, node) in nodes.iter().enumerate() {
            for s in self.successors(l as u32) {
                g.add_edge(*node, nodes[s.link as usize], ());
            }
        }
        let parts = petgraph::algo::kosaraju_scc(&g);
        let best = parts.iter().max_by(|a, b| {
            a.len().cmp(&b.len()).then_with(|| {
                let min = |p: &Vec<petgraph::graph::NodeIndex>| p.iter().map(|n| n.index()).min();
                min(b).cmp(&min(a))
            })
        });
        let mut v = vec![false; self.len()];
        for n in best.into_iter().flatten() {
            v[n.index()] = true;
        }
        v
    }

    /// Number of sim links.
    pub fn len(&self) -> usize {
        self.link.len()
    }

    /// Whether there are no car links.
    pub fn is_empty(&self) -> bool {
        self.link.is_empty()
    }

    /// Successors of sim link `l`.
    pub fn successors(&self, l: u32) -> &[Succ] {
        &self.succ[self.succ_off[l as usize] as usize..self.succ_off[l as usize + 1] as usize]
    }

    /// The turn from `a` into `b`, if `b` may follow `a`.
    pub fn turn(&self, a: u32, b: u32) -> Option<&Succ> {
        self.successors(a).iter().find(|s| s.link == b)
    }

    /// Length (m) and free-flow time (ms) of a route of sim links, junctions included; `None` when a link does
    /// not follow its predecessor.
    pub fn route_stats(&self, route: &[u32]) -> Option<(f64, u64)> {
        let mut len = 0.0;
        let mut ms = 0u64;
        for (i, &l) in route.iter().enumerate() {
            len += self.length_m[l as usize];
            ms += self.free_flow_ms[l as usize];
            if i > 0 {
                let t = self.turn(route[i - 1], l)?;
                len += f64::from(t.turn_cm) / 100.0;
                ms += u64::from(t.turn_ms);
            }
        }
        Some((len, ms))
    }

    /// The sim link of a network link, if cars may use it.
    pub fn sim_link(&self, l: LinkId) -> Option<u32> {
        self.index_of
            .get(l.index())
            .copied()
            .filter(|&i| i != NO_LINK)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_grid_has_two_way_links_and_closures_remove_them() {
        let scene = crate::generate::city(64, 1);
        let layer = road_layer(&scene, None).expect("roads");
        let cfg = TrafficConfig::default();
        let all = RoadNet::build(layer, &cfg, &BTreeSet::new());
        let edges = layer.network.as_ref().map_or(0, |n| n.edges.len());
        assert_eq!(all.len(), 2 * edges);
        assert!(all.free_flow_ms.iter().all(|&t| t > 0));
        // A residential block side: 100 m at 30 km/h = 12 s; 1 lane at 600 veh/h.
        let i = (0..all.len())
            .find(|&i| all.lanes[i] == 1)
            .expect("residential");
        assert_eq!(all.free_flow_ms[i], 12_000);
        assert_eq!(all.capacity_veh_h[i], 600.0);
        assert!((all.storage[i] - 100.0 / 7.5).abs() < 1e-9);
        let closed: BTreeSet<EdgeId> = [EdgeId(0)].into();
        let some = RoadNet::build(layer, &cfg, &closed);
        assert_eq!(some.len(), all.len() - 2);
        assert_eq!(some.sim_link(LinkId::new(EdgeId(0), false)), None);
        for l in 0..some.len() as u32 {
            for s in some.successors(l) {
                assert_eq!(some.from[s.link as usize], some.to[l as usize]);
            }
        }
    }
}

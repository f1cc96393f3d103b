//! Fastest routes by contraction hierarchies (the `fast_paths` crate) over the *link graph*: one graph node per
//! car link, one graph edge per allowed turn, weighted by the free-flow time of the link turned into (plus a
//! U-turn penalty). Routing between links rather than nodes gives turn restrictions for free and lets a trip
//! start on either direction of the road nearest to a building.
//!
//! # Performance
//! The hierarchy is prepared once per run (closures change the graph); queries then take microseconds. One
//! [`fast_paths::PathCalculator`] per thread (rayon `map_init`).

use super::RoadNet;
use fast_paths::{FastGraph, InputGraph, PathCalculator};

/// A prepared router for one road network.
pub struct Router {
    graph: FastGraph,
    links: usize,
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Router({} links)", self.links)
    }
}

/// A found route: sim links in order and its free-flow time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    /// Sim links, first to last.
    pub links: Vec<u32>,
    /// Route-choice cost: free-flow time including the first link, junctions and turn penalties, ms.
    pub cost_ms: u64,
}

impl Router {
    /// Prepares the contraction hierarchy of `net`'s link graph.
    pub fn new(net: &RoadNet) -> Self {
        let n = net.len();
        let mut g = InputGraph::new();
        for l in 0..n as u32 {
            for s in net.successors(l) {
                let w = s.route_cost(net.free_flow_ms[s.link as usize]);
                g.add_edge(l as usize, s.link as usize, w as usize);
            }
        }
        // A sentinel node past the last link makes the graph's node count cover every link, even links with no
        // turn at all; nothing can be routed through it (it has no incoming edge).
        g.add_edge(n, n.saturating_sub(1), 1);
        g.freeze();
        Router {
            graph: fast_paths::prepare(&g),
            links: n,
        }
    }

    /// A path calculator for this router (one per thread).
    pub fn calculator(&self) -> PathCalculator {
        fast_paths::create_calculator(&self.graph)
    }

    /// The fastest route from any of `from` to any of `to` (sim links). A route includes its first and last
    /// links; its cost counts the first link's free-flow time too (`first_cost_ms`, per start link).
    pub fn route(
        &self,
        calc: &mut PathCalculator,
        from: &[(u32, u64)],
        to: &[u32],
    ) -> Option<Route> {
        let sources: Vec<(usize, usize)> = from
            .iter()
            .filter(|(l, _)| (*l as usize) < self.links)
            .map(|&(l, c)| (l as usize, c as usize))
            .collect();
        let targets: Vec<(usize, usize)> = to
            .iter()
            .filter(|l| (**l as usize) < self.links)
            .map(|&l| (l as usize, 0))
            .collect();
        if sources.is_empty() || targets.is_empty() {
            return None;
        }
        let p = calc.calc_path_multiple_sources_and_targets(&self.graph, sources, targets)?;
        Some(Route {
            links: p.get_nodes().iter().map(|&x| x as u32).collect(),
            cost_ms: p.get_weight() as u64,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::scenario::TrafficConfig;
    use crate::sim::traffic::road_layer;
    use std::collections::BTreeSet;

    /// Dijkstra over the link graph, for checking.
    fn brute(net: &RoadNet, from: u32, to: u32) -> Option<u64> {
        let mut dist = vec![u64::MAX; net.len()];
        let mut heap = std::collections::BinaryHeap::new();
        dist[from as usize] = net.free_flow_ms[from as usize];
        heap.push(std::cmp::Reverse((dist[from as usize], from)));
        while let Some(std::cmp::Reverse((d, l))) = heap.pop() {
            if d > dist[l as usize] {
                continue;
            }
            if l == to {
                return Some(d);
            }
            for s in net.successors(l) {
                let m = s.link;
                let nd = d + s.route_cost(net.free_flow_ms[m as usize]);
                if nd < dist[m as usize] {
                    dist[m as usize] = nd;
                    heap.push(std::cmp::Reverse((nd, m)));
                }
            }
        }
        None
    }

    #[test]
    fn matches_dijkstra_and_connects() {
        let scene = crate::generate::city(300, 5);
        let layer = road_layer(&scene, None).expect("roads");
        let net = RoadNet::build(layer, &TrafficConfig::default(), &BTreeSet::new());
        let router = Router::new(&net);
        let mut calc = router.calculator();
        for (a, b) in [(0u32, 57u32), (3, 140), (200, 9), (41, 41)] {
            let (a, b) = (a % net.len() as u32, b % net.len() as u32);
            let r = router
                .route(&mut calc, &[(a, net.free_flow_ms[a as usize])], &[b])
                .expect("connected grid");
            assert_eq!(Some(r.cost_ms), brute(&net, a, b), "{a} → {b}");
            assert_eq!(r.links.first(), Some(&a));
            assert_eq!(r.links.last(), Some(&b));
            for w in r.links.windows(2) {
                assert!(net.turn(w[0], w[1]).is_some());
            }
        }
        assert!(router.route(&mut calc, &[(u32::MAX, 0)], &[0]).is_none());
    }
}

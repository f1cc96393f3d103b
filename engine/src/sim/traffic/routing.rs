//! Fastest routes by contraction hierarchies (the `fast_paths` crate, as A/B Street uses).
//!
//! Two graphs, by what the network knows:
//! - **node graph** (networks without a turn list, e.g. from OSM): one graph node per network node, one graph
//!   edge per car link, weighted by its free-flow time. A trip starts on either direction of the road nearest its
//!   origin and ends on either direction of the road nearest its destination (multi-source, multi-target), so
//!   no U-turn is needed; the node path becomes links again by the fastest link between each pair of nodes.
//! - **link graph** (networks with allowed turns, e.g. SUMO's connections): one graph node per car link, one
//!   graph edge per allowed turn, weighted by the free-flow time of the link turned into plus the time across the
//!   junction and any U-turn penalty.
//!
//! # Performance
//! The hierarchy is prepared once per run (closures change the graph); queries take microseconds. The node graph
//! has about a quarter of the link graph's nodes and is far quicker to prepare. One
//! [`fast_paths::PathCalculator`] per thread (rayon `map_init`).

use super::RoadNet;
use fast_paths::{FastGraph, InputGraph, PathCalculator};

/// Which graph a router searches.
#[derive(Clone, Debug)]
enum Graph {
    /// Network nodes; `out[out_off[n]..out_off[n + 1]]` are the sim links leaving node `n`.
    Nodes {
        out_off: Vec<u32>,
        out: Vec<u32>,
        nodes: usize,
    },
    /// Sim links.
    Links { links: usize },
}

/// A prepared router for one road network.
pub struct Router {
    graph: FastGraph,
    kind: Graph,
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Router({:?})", self.kind)
    }
}

/// A found route: sim links in order and its cost.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    /// Sim links, first to last.
    pub links: Vec<u32>,
    /// Route-choice cost: free-flow time including the first and last links, junctions and penalties, ms.
    pub cost_ms: u64,
}

fn prepare(g: &mut InputGraph, n: usize) -> FastGraph {
    // A sentinel node past the last one makes the graph's node count cover every node, even nodes without
    // edges; nothing can be routed through it (it has no incoming edge).
    g.add_edge(n, n.saturating_sub(1), 1);
    g.freeze();
    fast_paths::prepare(g)
}

impl Router {
    /// Prepares the contraction hierarchy of `net`: the link graph when the network lists its turns, else the
    /// node graph.
    pub fn new(net: &RoadNet) -> Self {
        if net.has_turn_list {
            Self::links(net)
        } else {
            Self::nodes(net)
        }
    }

    /// A router over the link graph (turns, junction times and U-turn penalties in the weights).
    pub fn links(net: &RoadNet) -> Self {
        let n = net.len();
        let mut g = InputGraph::new();
        for l in 0..n as u32 {
            for s in net.successors(l) {
                let w = s.route_cost(net.free_flow_ms[s.link as usize]);
                g.add_edge(l as usize, s.link as usize, w as usize);
            }
        }
        Router {
            graph: prepare(&mut g, n),
            kind: Graph::Links { links: n },
        }
    }

    /// A router over the node graph.
    pub fn nodes(net: &RoadNet) -> Self {
        let nodes = net.node_count;
        let mut g = InputGraph::new();
        let mut out_off = vec![0u32; nodes + 1];
        // One graph edge per node pair, the fastest of parallel links; loops lead nowhere.
        let mut pairs: Vec<(usize, usize, usize)> = (0..net.len())
            .filter(|&l| net.from[l] != net.to[l])
            .map(|l| {
                (
                    net.from[l].0 as usize,
                    net.to[l].0 as usize,
                    net.free_flow_ms[l] as usize,
                )
            })
            .collect();
        pairs.sort_unstable();
        pairs.dedup_by_key(|p| (p.0, p.1));
        for (a, b, w) in pairs {
            g.add_edge(a, b, w);
        }
        for l in 0..net.len() {
            out_off[net.from[l].0 as usize + 1] += 1;
        }
        for i in 1..out_off.len() {
            out_off[i] += out_off[i - 1];
        }
        let mut out = vec![0u32; net.len()];
        let mut fill = out_off.clone();
        for l in 0..net.len() {
            let f = net.from[l].0 as usize;
            out[fill[f] as usize] = l as u32;
            fill[f] += 1;
        }
        Router {
            graph: prepare(&mut g, nodes),
            kind: Graph::Nodes {
                out_off,
                out,
                nodes,
            },
        }
    }

    /// A path calculator for this router (one per thread).
    pub fn calculator(&self) -> PathCalculator {
        fast_paths::create_calculator(&self.graph)
    }

    /// The fastest route from any of the links `from` (each with the cost of driving it, ms) to any of the
    /// links `to`. A route includes its first and last links.
    pub fn route(
        &self,
        calc: &mut PathCalculator,
        net: &RoadNet,
        from: &[(u32, u64)],
        to: &[u32],
    ) -> Option<Route> {
        let valid = |l: u32| (l as usize) < net.len();
        // Starting and ending on the same link: that link alone.
        if let Some(&(l, c)) = from
            .iter()
            .filter(|(l, _)| valid(*l) && to.contains(l))
            .min_by_key(|(l, c)| (*c, *l))
        {
            return Some(Route {
                links: vec![l],
                cost_ms: c,
            });
        }
        match &self.kind {
            Graph::Links { links } => {
                let sources: Vec<(usize, usize)> = from
                    .iter()
                    .filter(|(l, _)| (*l as usize) < *links)
                    .map(|&(l, c)| (l as usize, c as usize))
                    .collect();
                let targets: Vec<(usize, usize)> = to
                    .iter()
                    .filter(|l| (**l as usize) < *links)
                    .map(|&l| (l as usize, 0))
                    .collect();
                if sources.is_empty() || targets.is_empty() {
                    return None;
                }
                let p =
                    calc.calc_path_multiple_sources_and_targets(&self.graph, sources, targets)?;
                Some(Route {
                    links: p.get_nodes().iter().map(|&x| x as u32).collect(),
                    cost_ms: p.get_weight() as u64,
                })
            }
            Graph::Nodes {
                out_off,
                out,
                nodes,
            } => {
                let sources: Vec<(usize, usize)> = from
                    .iter()
                    .filter(|(l, _)| valid(*l))
                    .map(|&(l, c)| (net.to[l as usize].0 as usize, c as usize))
                    .filter(|(n, _)| n < nodes)
                    .collect();
                let targets: Vec<(usize, usize)> = to
                    .iter()
                    .filter(|l| valid(**l))
                    .map(|&l| {
                        (
                            net.from[l as usize].0 as usize,
                            net.free_flow_ms[l as usize] as usize,
                        )
                    })
                    .filter(|(n, _)| n < nodes)
                    .collect();
                if sources.is_empty() || targets.is_empty() {
                    return None;
                }
                let p =
                    calc.calc_path_multiple_sources_and_targets(&self.graph, sources, targets)?;
                let path = p.get_nodes();
                let (first, last) = (*path.first()? as u32, *path.last()? as u32);
                let start = from
                    .iter()
                    .filter(|(l, _)| valid(*l) && net.to[*l as usize].0 == first)
                    .min_by_key(|(l, c)| (*c, *l))?
                    .0;
                let end = to
                    .iter()
                    .copied()
                    .filter(|&l| valid(l) && net.from[l as usize].0 == last)
                    .min_by_key(|&l| (net.free_flow_ms[l as usize], l))?;
                let mut links = Vec::with_capacity(path.len() + 1);
                links.push(start);
                for w in path.windows(2) {
                    let (a, b) = (w[0], w[1] as u32);
                    let l = out[out_off[a] as usize..out_off[a + 1] as usize]
                        .iter()
                        .copied()
                        .filter(|&l| net.to[l as usize].0 == b)
                        .min_by_key(|&l| (net.free_flow_ms[l as usize], l))?;
                    links.push(l);
                }
                links.push(end);
                Some(Route {
                    links,
                    cost_ms: p.get_weight() as u64,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::scenario::TrafficConfig;
    use crate::sim::traffic::road_layer;
    use crate::time::Seconds;
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
    fn both_graphs_match_dijkstra_and_connect() {
        let scene = crate::generate::city(300, 5);
        let layer = road_layer(&scene, None).expect("roads");
        let cfg = TrafficConfig {
            uturn_penalty: Seconds(0),
            ..TrafficConfig::default()
        };
        let net = RoadNet::build(layer, &cfg, &BTreeSet::new());
        for router in [Router::links(&net), Router::nodes(&net)] {
            let mut calc = router.calculator();
            for (a, b) in [(0u32, 57u32), (3, 140), (200, 9), (41, 41), (12, 13)] {
                let (a, b) = (a % net.len() as u32, b % net.len() as u32);
                let r = router
                    .route(&mut calc, &net, &[(a, net.free_flow_ms[a as usize])], &[b])
                    .expect("connected grid");
                assert_eq!(Some(r.cost_ms), brute(&net, a, b), "{router:?}: {a} → {b}");
                assert_eq!(r.links.first(), Some(&a));
                assert_eq!(r.links.last(), Some(&b));
                for w in r.links.windows(2) {
                    assert!(net.turn(w[0], w[1]).is_some(), "{router:?}: {w:?}");
                }
                let ff = net.route_stats(&r.links).map(|x| x.1);
                assert_eq!(ff, Some(r.cost_ms), "no penalties: cost = free-flow time");
            }
            assert!(router
                .route(&mut calc, &net, &[(u32::MAX, 0)], &[0])
                .is_none());
        }
    }
}

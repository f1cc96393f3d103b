//! Networks: the topology of road and utility layers, as directed-capable graphs ready for routing and flow.
//!
//! # Glossary
//! - **node**: a junction, dead end or network endpoint (an OSM node shared by ways, a pipe junction).
//! - **edge**: one segment between two nodes, carrying the geometry of exactly one feature of its layer.
//! - **oneway**: traffic flows only from `from` to `to` ([`Oneway::Forward`]) or only backwards.

use crate::ids::{EdgeId, FeatureId, NodeId};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// What a network carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum NetworkKind {
    /// Roads, paths and cycleways.
    Road,
    /// Power lines and cables.
    Power,
    /// Water supply pipes.
    Water,
    /// Gas pipes.
    Gas,
    /// Rivers, streams, canals.
    Waterway,
    /// Any other linear network (railways, pipelines of other substances).
    Other,
}

impl NetworkKind {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            NetworkKind::Road => "road",
            NetworkKind::Power => "power",
            NetworkKind::Water => "water",
            NetworkKind::Gas => "gas",
            NetworkKind::Waterway => "waterway",
            NetworkKind::Other => "other",
        }
    }
}

/// Direction of travel allowed on an edge.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Oneway {
    /// Both directions.
    #[default]
    No,
    /// Only from `from` to `to`.
    Forward,
    /// Only from `to` to `from`.
    Backward,
}

/// A network node.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Node {
    /// This node's id (its index).
    pub id: NodeId,
    /// Position in the local frame, metres.
    pub position: [f64; 2],
    /// The source's id for it (the OSM node id), when it has one.
    pub source_id: Option<i64>,
}

/// Physical and traffic properties of an edge. Fields that do not apply to the network kind are `None`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EdgeProps {
    /// Class, e.g. `residential`, `motorway`, `line`, `minor_line`, `stream`.
    pub class: String,
    /// Lanes (total, both directions).
    pub lanes: Option<u8>,
    /// Speed limit, km/h.
    pub speed_kmh: Option<f32>,
    /// Allowed direction.
    pub oneway: Oneway,
    /// Pipe diameter, millimetres.
    pub diameter_mm: Option<f32>,
    /// Line voltage, volts (the highest, for multi-voltage lines).
    pub voltage_v: Option<f32>,
    /// Carried substance (pipelines), e.g. `gas`, `water`.
    pub substance: Option<String>,
}

/// A network edge.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Edge {
    /// This edge's id (its index).
    pub id: EdgeId,
    /// Start node (the first vertex of the feature's line).
    pub from: NodeId,
    /// End node (the last vertex of the feature's line).
    pub to: NodeId,
    /// The layer feature that holds this edge's geometry and attributes.
    pub feature: FeatureId,
    /// Length along the geometry, metres.
    pub length_m: f64,
    /// Properties.
    pub props: EdgeProps,
}

/// A graph of nodes and edges. Edges reference features of the same layer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Network {
    /// What flows on it.
    pub kind: NetworkKind,
    /// Nodes, indexed by [`NodeId`].
    pub nodes: Vec<Node>,
    /// Edges, indexed by [`EdgeId`].
    pub edges: Vec<Edge>,
}

/// Outgoing adjacency in compressed sparse row form: the edges leaving node `n` (respecting oneway) are
/// `targets[offsets[n]..offsets[n + 1]]`, each `(edge, neighbour)`, sorted by edge id.
#[derive(Clone, Debug, PartialEq)]
pub struct Adjacency {
    /// Row offsets, `nodes + 1` entries.
    pub offsets: Vec<usize>,
    /// `(edge, neighbour)` pairs.
    pub targets: Vec<(EdgeId, NodeId)>,
}

impl Adjacency {
    /// The `(edge, neighbour)` pairs leaving `node`.
    pub fn out(&self, node: NodeId) -> &[(EdgeId, NodeId)] {
        let n = node.0 as usize;
        &self.targets[self.offsets[n]..self.offsets[n + 1]]
    }
}

impl Network {
    /// An empty network.
    pub fn new(kind: NetworkKind) -> Self {
        Network {
            kind,
            nodes: Vec::new(),
            edges: Vec::new(),
        }
    }

    /// Outgoing adjacency respecting oneway restrictions (a two-way edge appears from both ends).
    pub fn adjacency(&self) -> Adjacency {
        let mut pairs: Vec<(NodeId, EdgeId, NodeId)> = Vec::with_capacity(self.edges.len() * 2);
        for e in &self.edges {
            if e.props.oneway != Oneway::Backward {
                pairs.push((e.from, e.id, e.to));
            }
            if e.props.oneway != Oneway::Forward {
                pairs.push((e.to, e.id, e.from));
            }
        }
        pairs.sort_unstable();
        let mut offsets = vec![0usize; self.nodes.len() + 1];
        for &(n, _, _) in &pairs {
            offsets[n.0 as usize + 1] += 1;
        }
        for i in 1..offsets.len() {
            offsets[i] += offsets[i - 1];
        }
        Adjacency {
            offsets,
            targets: pairs.into_iter().map(|(_, e, t)| (e, t)).collect(),
        }
    }

    /// Number of weakly connected components (ignoring direction); 0 for an empty network.
    pub fn connected_components(&self) -> usize {
        let mut parent: Vec<u32> = (0..self.nodes.len() as u32).collect();
        fn find(p: &mut [u32], mut x: u32) -> u32 {
            while p[x as usize] != x {
                p[x as usize] = p[p[x as usize] as usize];
                x = p[x as usize];
            }
            x
        }
        for e in &self.edges {
            let a = find(&mut parent, e.from.0);
            let b = find(&mut parent, e.to.0);
            if a != b {
                parent[a.max(b) as usize] = a.min(b);
            }
        }
        (0..self.nodes.len() as u32)
            .filter(|&i| find(&mut parent, i) == i)
            .count()
    }
}

/// Builds a [`Network`], merging nodes by a key: the source's node id where it has one (OSM), else the position
/// snapped to a grid of `snap_m` metres (GIS line layers noded at shared endpoints).
#[derive(Debug)]
pub struct NetworkBuilder {
    network: Network,
    by_source: HashMap<i64, NodeId>,
    by_cell: HashMap<(i64, i64), NodeId>,
    snap_m: f64,
}

impl NetworkBuilder {
    /// A builder for a network of `kind`; endpoints closer than about `snap_m` metres merge.
    pub fn new(kind: NetworkKind, snap_m: f64) -> Self {
        NetworkBuilder {
            network: Network::new(kind),
            by_source: HashMap::new(),
            by_cell: HashMap::new(),
            snap_m: snap_m.max(1e-9),
        }
    }

    /// The kind of network being built.
    pub fn kind(&self) -> NetworkKind {
        self.network.kind
    }

    /// The node for source id `source_id`, created at `position` if new.
    pub fn node_by_source_id(&mut self, source_id: i64, position: [f64; 2]) -> NodeId {
        if let Some(&n) = self.by_source.get(&source_id) {
            return n;
        }
        let n = self.push_node(position, Some(source_id));
        self.by_source.insert(source_id, n);
        n
    }

    /// The node at `position` (snapped), created if new.
    pub fn node_at(&mut self, position: [f64; 2]) -> NodeId {
        let key = (
            (position[0] / self.snap_m).round() as i64,
            (position[1] / self.snap_m).round() as i64,
        );
        if let Some(&n) = self.by_cell.get(&key) {
            return n;
        }
        let n = self.push_node(position, None);
        self.by_cell.insert(key, n);
        n
    }

    fn push_node(&mut self, position: [f64; 2], source_id: Option<i64>) -> NodeId {
        let id = NodeId(self.network.nodes.len() as u32);
        self.network.nodes.push(Node {
            id,
            position,
            source_id,
        });
        id
    }

    /// Adds an edge from `from` to `to` for `feature`.
    pub fn add_edge(
        &mut self,
        from: NodeId,
        to: NodeId,
        feature: FeatureId,
        length_m: f64,
        props: EdgeProps,
    ) -> EdgeId {
        let id = EdgeId(self.network.edges.len() as u32);
        self.network.edges.push(Edge {
            id,
            from,
            to,
            feature,
            length_m,
            props,
        });
        id
    }

    /// The finished network.
    pub fn finish(self) -> Network {
        self.network
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adjacency_respects_oneway() {
        let mut b = NetworkBuilder::new(NetworkKind::Road, 0.01);
        let a = b.node_at([0.0, 0.0]);
        let c = b.node_at([10.0, 0.0]);
        let d = b.node_at([10.0, 10.0]);
        assert_eq!(b.node_at([0.001, 0.0]), a, "snapped to the same node");
        b.add_edge(a, c, FeatureId(1), 10.0, EdgeProps::default());
        let oneway = EdgeProps {
            oneway: Oneway::Forward,
            ..EdgeProps::default()
        };
        b.add_edge(c, d, FeatureId(2), 10.0, oneway);
        let net = b.finish();
        let adj = net.adjacency();
        assert_eq!(adj.out(a), &[(EdgeId(0), c)]);
        assert_eq!(adj.out(c), &[(EdgeId(0), a), (EdgeId(1), d)]);
        assert!(
            adj.out(d).is_empty(),
            "oneway edge cannot be driven backwards"
        );
        assert_eq!(net.connected_components(), 1);
    }
}

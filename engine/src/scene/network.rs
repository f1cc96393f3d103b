//! Networks: the topology of road and utility layers, as graphs ready for routing, traffic and flow.
//!
//! A [`Network`] holds nodes and undirected-geometry edges (each edge is one line feature of its layer) with typed
//! properties per network kind ([`EdgeProps`]: roads, pipes, power lines, others). Simulations work on *directed
//! links* ([`LinkId`]: an edge and a direction) through [`Network::links`], the outgoing and incoming adjacency of
//! the links the network's flow may use, built once and cached.
//!
//! # Glossary
//! - **node**: a junction, dead end or network endpoint (an OSM node shared by ways, a pipe junction, a tower).
//! - **edge**: one segment between two nodes, carrying the geometry of exactly one feature of its layer.
//! - **link**: an edge in one direction; roads allow a direction to cars only where it has lanes that way.
//! - **lanes forward / backward**: car lanes in / against the edge's from → to direction (`lanes:forward`).
//! - **capacity**: vehicles per hour per lane a road discharges at saturation.

use crate::ids::{EdgeId, FeatureId, LinkId, NodeId};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::OnceLock;

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

/// What a node is.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
pub enum NodeKind {
    /// Where three or more edges meet, or two continue (the default).
    #[default]
    Junction,
    /// The end of exactly one edge.
    DeadEnd,
    /// A junction controlled by traffic lights.
    TrafficSignals,
    /// A power line tower or pole.
    Tower,
    /// A substation or transformer.
    Substation,
    /// A fixed-head water source (EPANET reservoir).
    Reservoir,
    /// A storage tank.
    Tank,
}

impl NodeKind {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            NodeKind::Junction => "junction",
            NodeKind::DeadEnd => "dead_end",
            NodeKind::TrafficSignals => "traffic_signals",
            NodeKind::Tower => "tower",
            NodeKind::Substation => "substation",
            NodeKind::Reservoir => "reservoir",
            NodeKind::Tank => "tank",
        }
    }
}

/// A network node.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Node {
    /// This node's id (its index).
    pub id: NodeId,
    /// Position in the local frame, metres.
    pub position: [f64; 2],
    /// What it is.
    pub kind: NodeKind,
    /// Ground or invert elevation, metres: from the source when it gives one ([`Self::elevation_from_source`]),
    /// else from the scene's terrain, else unknown.
    pub elevation_m: Option<f64>,
    /// Whether `elevation_m` came from the source (terrain never overrides it then).
    pub elevation_from_source: bool,
    /// The feature of this layer that is this node (a tower, a hydrant, a water junction), when there is one.
    pub feature: Option<FeatureId>,
    /// The source's numeric id for it (the OSM node id), when it has one.
    pub source_id: Option<i64>,
    /// The source's textual id for it (a SUMO junction, an EPANET node), when it has one.
    pub label: Option<String>,
}

/// Road classes, after OSM `highway=*`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[allow(missing_docs)]
pub enum RoadClass {
    Motorway,
    MotorwayLink,
    Trunk,
    TrunkLink,
    Primary,
    PrimaryLink,
    Secondary,
    SecondaryLink,
    Tertiary,
    TertiaryLink,
    Unclassified,
    Residential,
    LivingStreet,
    Service,
    Track,
    Road,
    Pedestrian,
    Footway,
    Cycleway,
    Path,
    Steps,
    Bridleway,
    Construction,
    /// Anything else (`corridor`, `proposed`, `platform`...).
    Other,
}

impl RoadClass {
    /// The class of an OSM `highway=*` value (a SUMO `highway.*` type works too).
    pub fn from_osm(v: &str) -> Self {
        let v = v.strip_prefix("highway.").unwrap_or(v);
        match v {
            "motorway" => RoadClass::Motorway,
            "motorway_link" => RoadClass::MotorwayLink,
            "trunk" => RoadClass::Trunk,
            "trunk_link" => RoadClass::TrunkLink,
            "primary" => RoadClass::Primary,
            "primary_link" => RoadClass::PrimaryLink,
            "secondary" => RoadClass::Secondary,
            "secondary_link" => RoadClass::SecondaryLink,
            "tertiary" => RoadClass::Tertiary,
            "tertiary_link" => RoadClass::TertiaryLink,
            "unclassified" | "minor" => RoadClass::Unclassified,
            "residential" => RoadClass::Residential,
            "living_street" => RoadClass::LivingStreet,
            "service" | "services" => RoadClass::Service,
            "track" => RoadClass::Track,
            "road" => RoadClass::Road,
            "pedestrian" => RoadClass::Pedestrian,
            "footway" | "sidewalk" | "crossing" => RoadClass::Footway,
            "cycleway" => RoadClass::Cycleway,
            "path" => RoadClass::Path,
            "steps" => RoadClass::Steps,
            "bridleway" => RoadClass::Bridleway,
            "construction" => RoadClass::Construction,
            _ => RoadClass::Other,
        }
    }

    /// The OSM value.
    pub fn as_str(self) -> &'static str {
        match self {
            RoadClass::Motorway => "motorway",
            RoadClass::MotorwayLink => "motorway_link",
            RoadClass::Trunk => "trunk",
            RoadClass::TrunkLink => "trunk_link",
            RoadClass::Primary => "primary",
            RoadClass::PrimaryLink => "primary_link",
            RoadClass::Secondary => "secondary",
            RoadClass::SecondaryLink => "secondary_link",
            RoadClass::Tertiary => "tertiary",
            RoadClass::TertiaryLink => "tertiary_link",
            RoadClass::Unclassified => "unclassified",
            RoadClass::Residential => "residential",
            RoadClass::LivingStreet => "living_street",
            RoadClass::Service => "service",
            RoadClass::Track => "track",
            RoadClass::Road => "road",
            RoadClass::Pedestrian => "pedestrian",
            RoadClass::Footway => "footway",
            RoadClass::Cycleway => "cycleway",
            RoadClass::Path => "path",
            RoadClass::Steps => "steps",
            RoadClass::Bridleway => "bridleway",
            RoadClass::Construction => "construction",
            RoadClass::Other => "other",
        }
    }

    /// Every class, for listings and scenario validation.
    pub const ALL: [RoadClass; 24] = [
        RoadClass::Motorway,
        RoadClass::MotorwayLink,
        RoadClass::Trunk,
        RoadClass::TrunkLink,
        RoadClass::Primary,
        RoadClass::PrimaryLink,
        RoadClass::Secondary,
        RoadClass::SecondaryLink,
        RoadClass::Tertiary,
        RoadClass::TertiaryLink,
        RoadClass::Unclassified,
        RoadClass::Residential,
        RoadClass::LivingStreet,
        RoadClass::Service,
        RoadClass::Track,
        RoadClass::Road,
        RoadClass::Pedestrian,
        RoadClass::Footway,
        RoadClass::Cycleway,
        RoadClass::Path,
        RoadClass::Steps,
        RoadClass::Bridleway,
        RoadClass::Construction,
        RoadClass::Other,
    ];

    /// Which modes may use a road of this class when its tags say nothing else.
    pub fn default_modes(self) -> Modes {
        use RoadClass::*;
        match self {
            Motorway | MotorwayLink => Modes::CAR,
            Trunk | TrunkLink | Primary | PrimaryLink | Secondary | SecondaryLink | Tertiary
            | TertiaryLink | Unclassified | Residential | LivingStreet | Service | Track | Road => {
                Modes::ALL
            }
            Cycleway => Modes(Modes::BICYCLE.0 | Modes::FOOT.0),
            Pedestrian | Footway | Path | Steps | Bridleway => Modes::FOOT,
            Construction | Other => Modes::NONE,
        }
    }

    /// Speed limit assumed when a road has none, km/h: urban defaults.
    pub fn default_speed_kmh(self) -> f32 {
        use RoadClass::*;
        match self {
            Motorway => 100.0,
            MotorwayLink => 60.0,
            Trunk => 80.0,
            TrunkLink => 50.0,
            Primary => 60.0,
            PrimaryLink | Secondary | Tertiary | Unclassified | Road => 50.0,
            SecondaryLink | TertiaryLink => 40.0,
            Residential => 30.0,
            Service | Track | Cycleway => 20.0,
            LivingStreet => 10.0,
            Pedestrian | Footway | Path | Steps | Bridleway | Construction | Other => 5.0,
        }
    }

    /// Saturation flow per lane, vehicles per hour (the defaults of MATSim's OSM network reader).
    pub fn default_capacity_per_lane(self) -> f32 {
        use RoadClass::*;
        match self {
            Motorway | Trunk => 2000.0,
            MotorwayLink | TrunkLink | Primary | PrimaryLink => 1500.0,
            Secondary | SecondaryLink => 1000.0,
            Tertiary | TertiaryLink | Unclassified | Residential | Road => 600.0,
            LivingStreet | Service | Track => 300.0,
            Pedestrian | Footway | Cycleway | Path | Steps | Bridleway | Construction | Other => {
                0.0
            }
        }
    }

    /// Car lanes per direction when a road has no `lanes` tag.
    pub fn default_lanes_per_direction(self) -> u8 {
        match self {
            RoadClass::Motorway | RoadClass::Trunk => 2,
            _ => 1,
        }
    }
}

/// A set of travel modes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Modes(pub u8);

impl Modes {
    /// No mode.
    pub const NONE: Modes = Modes(0);
    /// Cars (and other motor vehicles).
    pub const CAR: Modes = Modes(1);
    /// Bicycles.
    pub const BICYCLE: Modes = Modes(2);
    /// Pedestrians.
    pub const FOOT: Modes = Modes(4);
    /// All three.
    pub const ALL: Modes = Modes(7);

    /// Whether every mode of `other` is in this set.
    pub fn contains(self, other: Modes) -> bool {
        self.0 & other.0 == other.0
    }

    /// This set without `other`.
    pub fn without(self, other: Modes) -> Modes {
        Modes(self.0 & !other.0)
    }

    /// This set with `other`.
    pub fn with(self, other: Modes) -> Modes {
        Modes(self.0 | other.0)
    }

    /// Names, e.g. `car,foot`.
    pub fn names(self) -> String {
        let mut v = Vec::new();
        for (m, n) in [
            (Modes::CAR, "car"),
            (Modes::BICYCLE, "bicycle"),
            (Modes::FOOT, "foot"),
        ] {
            if self.contains(m) {
                v.push(n);
            }
        }
        if v.is_empty() {
            "none".into()
        } else {
            v.join(",")
        }
    }
}

/// Traffic properties of a road edge.
///
/// # Units
/// Speed km/h; capacity vehicles per hour per lane.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RoadProps {
    /// Class.
    pub class: RoadClass,
    /// Car lanes in the edge's direction (0: cars may not drive from → to).
    pub lanes_forward: u8,
    /// Car lanes against it (0: oneway).
    pub lanes_backward: u8,
    /// Speed limit, km/h (tagged, or the class default).
    pub speed_kmh: f32,
    /// Whether `speed_kmh` was tagged (false: the class default).
    pub speed_tagged: bool,
    /// Saturation flow per lane, vehicles per hour.
    pub capacity_per_lane: f32,
    /// Who may use it.
    pub modes: Modes,
    /// Street name, when known.
    pub name: Option<String>,
}

impl RoadProps {
    /// A two-way road of `class` with its defaults.
    pub fn new(class: RoadClass) -> Self {
        let lanes = class.default_lanes_per_direction();
        RoadProps {
            class,
            lanes_forward: lanes,
            lanes_backward: lanes,
            speed_kmh: class.default_speed_kmh(),
            speed_tagged: false,
            capacity_per_lane: class.default_capacity_per_lane(),
            modes: class.default_modes(),
            name: None,
        }
    }

    /// Car lanes in a direction.
    pub fn lanes(&self, backward: bool) -> u8 {
        if backward {
            self.lanes_backward
        } else {
            self.lanes_forward
        }
    }

    /// Whether cars may drive in a direction.
    pub fn cars_allowed(&self, backward: bool) -> bool {
        self.modes.contains(Modes::CAR) && self.lanes(backward) > 0
    }
}

/// Properties of a pipe (water, gas, other pipelines).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PipeProps {
    /// Internal diameter, millimetres.
    pub diameter_mm: Option<f32>,
    /// Carried substance, e.g. `water`, `gas`.
    pub substance: Option<String>,
    /// Material, e.g. `cast_iron`, `PE`.
    pub material: Option<String>,
}

/// Properties of a power line or cable.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PowerLineProps {
    /// Class: `line`, `minor_line`, `cable`.
    pub class: String,
    /// Voltage, volts (the highest, for multi-voltage lines).
    pub voltage_v: Option<f32>,
    /// Number of circuits, when tagged.
    pub circuits: Option<u8>,
}

/// Typed edge properties, one variant per network family.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum EdgeProps {
    /// A road, path or cycleway.
    Road(RoadProps),
    /// A water, gas or other pipe.
    Pipe(PipeProps),
    /// A power line or cable.
    Power(PowerLineProps),
    /// Anything else (waterways, railways): only a class.
    Other {
        /// Class, e.g. `stream`, `rail`.
        class: String,
    },
}

impl EdgeProps {
    /// The class as text (`residential`, `line`, `stream`, the substance of a pipe).
    pub fn class_name(&self) -> &str {
        match self {
            EdgeProps::Road(r) => r.class.as_str(),
            EdgeProps::Pipe(p) => p.substance.as_deref().unwrap_or("pipe"),
            EdgeProps::Power(p) => &p.class,
            EdgeProps::Other { class } => class,
        }
    }

    /// The road properties, for a road edge.
    pub fn road(&self) -> Option<&RoadProps> {
        match self {
            EdgeProps::Road(r) => Some(r),
            _ => None,
        }
    }

    /// Whether the network's flow may run in a direction: cars on roads; either way on everything else.
    pub fn allows(&self, backward: bool) -> bool {
        match self {
            EdgeProps::Road(r) => r.cars_allowed(backward),
            _ => true,
        }
    }
}

/// An allowed movement from one link to the next across their node, with the length and speed of the way
/// across the junction (SUMO's internal lanes; zero where the source has none).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Turn {
    /// The link arrived on.
    pub from: LinkId,
    /// The link left on.
    pub to: LinkId,
    /// Length across the junction, m.
    pub length_m: f64,
    /// Speed across the junction, km/h.
    pub speed_kmh: f32,
}

impl Turn {
    /// Time across the junction at its speed, seconds.
    pub fn time_s(&self) -> f64 {
        if self.length_m > 0.0 && self.speed_kmh > 0.0 {
            self.length_m / (f64::from(self.speed_kmh) / 3.6)
        } else {
            0.0
        }
    }
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
    /// Length, metres: along the geometry, or as the source states it (SUMO lanes, EPANET pipes).
    pub length_m: f64,
    /// Whether `length_m` came from the source (the scene then does not re-measure it).
    pub length_from_source: bool,
    /// Properties.
    pub props: EdgeProps,
}

/// The directed links a network's flow may use, with outgoing and incoming adjacency in compressed sparse row
/// form. Built once per network by [`Network::links`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Links {
    allowed: Vec<bool>,
    out_offsets: Vec<u32>,
    out_links: Vec<LinkId>,
    in_offsets: Vec<u32>,
    in_links: Vec<LinkId>,
}

impl Links {
    fn build(net: &Network) -> Self {
        let n = net.nodes.len();
        let mut allowed = vec![false; net.edges.len() * 2];
        let mut out: Vec<(NodeId, LinkId)> = Vec::new();
        let mut inn: Vec<(NodeId, LinkId)> = Vec::new();
        for e in &net.edges {
            for backward in [false, true] {
                if e.props.allows(backward) {
                    let l = LinkId::new(e.id, backward);
                    allowed[l.index()] = true;
                    let (a, b) = if backward {
                        (e.to, e.from)
                    } else {
                        (e.from, e.to)
                    };
                    out.push((a, l));
                    inn.push((b, l));
                }
            }
        }
        let csr = |mut pairs: Vec<(NodeId, LinkId)>| {
            pairs.sort_unstable();
            let mut offsets = vec![0u32; n + 1];
            for &(node, _) in &pairs {
                offsets[node.0 as usize + 1] += 1;
            }
            for i in 1..offsets.len() {
                offsets[i] += offsets[i - 1];
            }
            (offsets, pairs.into_iter().map(|p| p.1).collect::<Vec<_>>())
        };
        let (out_offsets, out_links) = csr(out);
        let (in_offsets, in_links) = csr(inn);
        Links {
            allowed,
            out_offsets,
            out_links,
            in_offsets,
            in_links,
        }
    }

    /// Whether the flow may use `link`.
    pub fn allowed(&self, link: LinkId) -> bool {
        self.allowed.get(link.index()).copied().unwrap_or(false)
    }

    /// Number of link ids (twice the edges; not all allowed).
    pub fn id_count(&self) -> usize {
        self.allowed.len()
    }

    /// The allowed links, in id order.
    pub fn iter(&self) -> impl Iterator<Item = LinkId> + '_ {
        self.allowed
            .iter()
            .enumerate()
            .filter(|(_, a)| **a)
            .map(|(i, _)| LinkId(i as u32))
    }

    /// Allowed links leaving `node`, sorted by id.
    pub fn out(&self, node: NodeId) -> &[LinkId] {
        let n = node.0 as usize;
        &self.out_links[self.out_offsets[n] as usize..self.out_offsets[n + 1] as usize]
    }

    /// Allowed links entering `node`, sorted by id.
    pub fn inn(&self, node: NodeId) -> &[LinkId] {
        let n = node.0 as usize;
        &self.in_links[self.in_offsets[n] as usize..self.in_offsets[n + 1] as usize]
    }
}

/// A graph of nodes and edges. Edges reference features of the same layer.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Network {
    /// What flows on it.
    pub kind: NetworkKind,
    /// Nodes, indexed by [`NodeId`].
    pub nodes: Vec<Node>,
    /// Edges, indexed by [`EdgeId`].
    pub edges: Vec<Edge>,
    /// The turns the source allows, sorted by `(from, to)`, when it lists them (SUMO connections); `None`:
    /// every turn between links that meet at a node, with no length of its own.
    pub turns: Option<Vec<Turn>>,
    #[serde(skip)]
    links: OnceLock<Links>,
}

impl PartialEq for Network {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind
            && self.nodes == other.nodes
            && self.edges == other.edges
            && self.turns == other.turns
    }
}

impl Network {
    /// An empty network.
    pub fn new(kind: NetworkKind) -> Self {
        Network {
            kind,
            nodes: Vec::new(),
            edges: Vec::new(),
            turns: None,
            links: OnceLock::new(),
        }
    }

    /// The directed links the flow may use and their adjacency (built on first use, then cached).
    pub fn links(&self) -> &Links {
        self.links.get_or_init(|| Links::build(self))
    }

    /// The edge under `link`.
    pub fn edge_of(&self, link: LinkId) -> &Edge {
        &self.edges[link.edge().0 as usize]
    }

    /// Where `link` starts.
    pub fn link_from(&self, link: LinkId) -> NodeId {
        let e = self.edge_of(link);
        if link.is_backward() {
            e.to
        } else {
            e.from
        }
    }

    /// Where `link` ends.
    pub fn link_to(&self, link: LinkId) -> NodeId {
        let e = self.edge_of(link);
        if link.is_backward() {
            e.from
        } else {
            e.to
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

    /// Marks nodes used by exactly one edge as dead ends (other kinds are kept).
    fn classify_dead_ends(&mut self) {
        let mut degree = vec![0u32; self.nodes.len()];
        for e in &self.edges {
            degree[e.from.0 as usize] += 1;
            degree[e.to.0 as usize] += 1;
        }
        for (n, d) in self.nodes.iter_mut().zip(degree) {
            if n.kind == NodeKind::Junction && d == 1 {
                n.kind = NodeKind::DeadEnd;
            }
        }
    }
}

/// Builds a [`Network`], merging nodes by a key: the source's node id where it has one (OSM), its textual id
/// (SUMO, EPANET), else the position: endpoints closer than the snap distance share a node, wherever they fall
/// on the snapping grid.
#[derive(Debug)]
pub struct NetworkBuilder {
    network: Network,
    by_source: HashMap<i64, NodeId>,
    by_label: HashMap<String, NodeId>,
    by_cell: HashMap<(i64, i64), Vec<NodeId>>,
    snap_m: f64,
}

impl NetworkBuilder {
    /// A builder for a network of `kind`; endpoints closer than `snap_m` (in the coordinates' units) merge.
    pub fn new(kind: NetworkKind, snap_m: f64) -> Self {
        NetworkBuilder {
            network: Network::new(kind),
            by_source: HashMap::new(),
            by_label: HashMap::new(),
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
        let n = self.push_node(position);
        self.network.nodes[n.0 as usize].source_id = Some(source_id);
        self.by_source.insert(source_id, n);
        n
    }

    /// The node with textual id `label`, created at `position` if new.
    pub fn node_by_label(&mut self, label: &str, position: [f64; 2]) -> NodeId {
        if let Some(&n) = self.by_label.get(label) {
            return n;
        }
        let n = self.push_node(position);
        self.network.nodes[n.0 as usize].label = Some(label.to_owned());
        self.by_label.insert(label.to_owned(), n);
        n
    }

    /// The node with textual id `label`, if it was created.
    pub fn find_label(&self, label: &str) -> Option<NodeId> {
        self.by_label.get(label).copied()
    }

    fn cell(&self, p: [f64; 2]) -> (i64, i64) {
        (
            (p[0] / self.snap_m).floor() as i64,
            (p[1] / self.snap_m).floor() as i64,
        )
    }

    /// The node within the snap distance of `position` (the nearest; the oldest on a tie), created if none.
    /// Cells are one snap distance wide and the 3 × 3 cells around the point are searched, so two endpoints
    /// a millimetre apart merge even when a cell boundary runs between them.
    pub fn node_at(&mut self, position: [f64; 2]) -> NodeId {
        let (cx, cy) = self.cell(position);
        let mut best: Option<(f64, NodeId)> = None;
        for dx in -1..=1 {
            for dy in -1..=1 {
                // Saturating: a coordinate of 1e308 puts its cell at i64::MAX (found by fuzzing).
                let cell = (cx.saturating_add(dx), cy.saturating_add(dy));
                for &n in self.by_cell.get(&cell).into_iter().flatten() {
                    let q = self.network.nodes[n.0 as usize].position;
                    let d = ((q[0] - position[0]).powi(2) + (q[1] - position[1]).powi(2)).sqrt();
                    if d <= self.snap_m && best.is_none_or(|(bd, bn)| d < bd || (d == bd && n < bn))
                    {
                        best = Some((d, n));
                    }
                }
            }
        }
        if let Some((_, n)) = best {
            return n;
        }
        let n = self.push_node(position);
        self.by_cell.entry((cx, cy)).or_default().push(n);
        n
    }

    fn push_node(&mut self, position: [f64; 2]) -> NodeId {
        let id = NodeId(self.network.nodes.len() as u32);
        self.network.nodes.push(Node {
            id,
            position,
            kind: NodeKind::Junction,
            elevation_m: None,
            elevation_from_source: false,
            feature: None,
            source_id: None,
            label: None,
        });
        id
    }

    /// Mutable access to a node already created (to set its kind, elevation or feature).
    pub fn node_mut(&mut self, id: NodeId) -> &mut Node {
        &mut self.network.nodes[id.0 as usize]
    }

    /// Adds an edge from `from` to `to` for `feature`; a `length_m` of 0 is measured from the geometry when the
    /// layer joins a scene.
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
            length_from_source: length_m > 0.0,
            props,
        });
        id
    }

    /// Sets the allowed turns (the source lists them); they are sorted, and of two turns between the same links
    /// the shorter is kept.
    pub fn set_turns(&mut self, mut turns: Vec<Turn>) {
        turns.sort_by(|a, b| {
            (a.from, a.to)
                .cmp(&(b.from, b.to))
                .then(a.length_m.total_cmp(&b.length_m))
        });
        turns.dedup_by(|b, a| a.from == b.from && a.to == b.to);
        self.network.turns = Some(turns);
    }

    /// The finished network: nodes used by one edge become dead ends.
    pub fn finish(mut self) -> Network {
        self.network.classify_dead_ends();
        self.network
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn road(oneway: bool) -> EdgeProps {
        let mut r = RoadProps::new(RoadClass::Residential);
        if oneway {
            r.lanes_backward = 0;
        }
        EdgeProps::Road(r)
    }

    #[test]
    fn links_respect_oneway_and_modes() {
        let mut b = NetworkBuilder::new(NetworkKind::Road, 0.01);
        let a = b.node_at([0.0, 0.0]);
        let c = b.node_at([10.0, 0.0]);
        let d = b.node_at([10.0, 10.0]);
        let e = b.node_at([20.0, 10.0]);
        assert_eq!(b.node_at([0.001, 0.0]), a, "snapped to the same node");
        b.add_edge(a, c, FeatureId(1), 10.0, road(false));
        b.add_edge(c, d, FeatureId(2), 10.0, road(true));
        b.add_edge(
            d,
            e,
            FeatureId(3),
            10.0,
            EdgeProps::Road(RoadProps::new(RoadClass::Footway)),
        );
        let net = b.finish();
        let links = net.links();
        let l = |e: u32, back: bool| LinkId::new(EdgeId(e), back);
        assert_eq!(links.out(a), &[l(0, false)]);
        assert_eq!(links.out(c), &[l(0, true), l(1, false)]);
        assert!(
            links.out(d).is_empty(),
            "oneway, and a footway carries no cars"
        );
        assert_eq!(links.inn(d), &[l(1, false)]);
        assert!(!links.allowed(l(1, true)) && !links.allowed(l(2, false)));
        assert_eq!(links.iter().count(), 3);
        assert_eq!(net.link_from(l(0, true)), c);
        assert_eq!(net.link_to(l(0, true)), a);
        assert_eq!(net.connected_components(), 1);
        assert_eq!(net.nodes[a.0 as usize].kind, NodeKind::DeadEnd);
        assert_eq!(net.nodes[c.0 as usize].kind, NodeKind::Junction);
    }

    #[test]
    fn snapping_merges_across_a_cell_boundary() {
        // 1 cm snapping: 0.0049 and 0.0051 round to different grid cells, yet are 0.2 mm apart.
        let mut b = NetworkBuilder::new(NetworkKind::Water, 0.01);
        let a = b.node_at([0.0049, 7.0]);
        assert_eq!(b.node_at([0.0051, 7.0]), a);
        // Just below a multiple of the cell width and just above it: 1 mm apart, different floor cells.
        let c = b.node_at([99.9995, 3.0]);
        assert_eq!(b.node_at([100.0005, 3.0]), c);
        // Farther than the snap distance: a new node.
        assert_ne!(b.node_at([100.02, 3.0]), c);
        // The nearer of two candidates wins.
        let d = b.node_at([50.0, 50.0]);
        let e = b.node_at([50.015, 50.0]);
        assert_ne!(d, e);
        assert_eq!(b.node_at([50.009, 50.0]), e);
        // Regression (found by fuzzing): a coordinate of ±1e308 overflowed the neighbouring cell index.
        let f = b.node_at([1e308, -1e308]);
        assert_eq!(b.node_at([1e308, -1e308]), f);
    }

    #[test]
    fn road_classes_round_trip() {
        for c in RoadClass::ALL {
            if c != RoadClass::Other {
                assert_eq!(RoadClass::from_osm(c.as_str()), c);
            }
        }
        assert_eq!(
            RoadClass::from_osm("highway.residential"),
            RoadClass::Residential
        );
        assert!(!RoadClass::Footway.default_modes().contains(Modes::CAR));
        assert!(!RoadClass::Steps.default_modes().contains(Modes::CAR));
        assert!(RoadClass::Motorway.default_capacity_per_lane() > 0.0);
    }
}

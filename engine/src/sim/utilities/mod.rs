//! Utility networks: water hydraulics after EPANET 2.2 ([`water`]) and AC power flow after pandapower
//! ([`power`]), each usable alone (`citytwin water`, `citytwin power`) and, attached to a scene layer
//! ([`UtilityModel`]), solved at every step of a simulation with demands from the buildings it serves.
//!
//! # Glossary
//! - **junction / reservoir / tank**: water nodes: a demand point, a fixed-head source, a storage with a level.
//! - **pipe / pump / valve**: water links; **head**: elevation + pressure head, m.
//! - **GGA**: the global gradient algorithm (Todini & Pilati 1988) EPANET solves the network equations with.
//! - **bus / line / trafo**: power nodes and branches; **vm_pu / va_degree**: voltage magnitude and angle.
//! - **NR**: Newton–Raphson, the AC power-flow method.

pub mod config;
pub mod power;
pub mod run;
pub mod service;
pub mod water;

use serde::{Deserialize, Serialize};

/// The full model of a utility network, kept with its scene layer so that a simulation can solve it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum UtilityModel {
    /// An EPANET water network.
    Water(water::WaterNetwork),
    /// A pandapower electricity network.
    Power(power::PowerGrid),
}

impl UtilityModel {
    /// Checks that every index inside the model points at an element it has (a scene file read back from disk
    /// is not trusted to). A power grid's references are ids that the power-flow build resolves and reports.
    ///
    /// # Errors
    /// The first bad reference.
    pub fn check_references(&self) -> Result<(), String> {
        match self {
            UtilityModel::Water(w) => w.check_references(),
            UtilityModel::Power(_) => Ok(()),
        }
    }

    /// A one-line description: the model and its element counts.
    pub fn summary(&self) -> String {
        match self {
            UtilityModel::Water(w) => {
                let count = |f: &dyn Fn(&water::WaterNode) -> bool| w.nodes.iter().filter(|n| f(n)).count();
                let reservoirs = count(&|n| matches!(n.kind, water::NodeKind::Reservoir { .. }));
                let tanks = count(&|n| matches!(n.kind, water::NodeKind::Tank(_)));
                let links = |f: &dyn Fn(&water::LinkKind) -> bool| w.links.iter().filter(|l| f(&l.kind)).count();
                format!(
                    "EPANET model: {} junctions, {reservoirs} reservoirs, {tanks} tanks, {} pipes, {} pumps, {} valves, {} controls, {} rules",
                    w.junctions,
                    links(&|k| matches!(k, water::LinkKind::Pipe(_))),
                    links(&|k| matches!(k, water::LinkKind::Pump(_))),
                    links(&|k| matches!(k, water::LinkKind::Valve(_))),
                    w.controls.len(),
                    w.rules.len()
                )
            }
            UtilityModel::Power(p) => format!(
                "pandapower model: {} buses, {} lines, {} transformers, {} loads, {} static generators, {} generators, {} external grids, {} switches",
                p.buses.len(),
                p.lines.len(),
                p.trafos.len(),
                p.loads.len(),
                p.sgens.len(),
                p.gens.len(),
                p.ext_grids.len(),
                p.switches.len()
            ),
        }
    }

    /// Rewrites the scene feature ids the model refers to (a layer's draft ids become scene ids when the scene
    /// ingests it).
    pub fn remap_features(&mut self, f: impl Fn(crate::FeatureId) -> crate::FeatureId) {
        match self {
            UtilityModel::Water(w) => {
                let ids = w
                    .nodes
                    .iter_mut()
                    .map(|n| &mut n.feature)
                    .chain(w.links.iter_mut().map(|l| &mut l.feature));
                for id in ids.flatten() {
                    *id = f(*id);
                }
            }
            UtilityModel::Power(p) => {
                let ids = p
                    .buses
                    .iter_mut()
                    .map(|b| &mut b.feature)
                    .chain(p.lines.iter_mut().map(|l| &mut l.feature))
                    .chain(p.trafos.iter_mut().map(|t| &mut t.feature));
                for id in ids.flatten() {
                    *id = f(*id);
                }
            }
        }
    }
}

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

pub mod power;
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

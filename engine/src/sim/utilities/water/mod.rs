//! Water hydraulics after EPANET 2.2: the network model ([`WaterNetwork`]) and its extended-period solution by
//! the global gradient algorithm (Todini & Pilati 1988), as EPANET 2.2 implements it.
//!
//! Entry points: [`simulate`] runs a network over its duration and returns [`WaterResults`] at its report
//! times; [`Hydraulics`] exposes the same run period by period, with extra demand series and scheduled events,
//! for a simulation that drives the clock.
//!
//! What follows EPANET exactly, read from its 2.2 source: units and conversion factors, head-loss formulas
//! (Hazen–Williams, Darcy–Weisbach with Swamee–Jain and Dunlop's transition, Chezy–Manning) and their low-flow
//! guards, pump curves (one- and three-point power fits, custom curves, constant power, speed), valve models
//! (PRV, PSV, PBV, FCV, TCV, GPV), check valves, emitters, pressure-driven demand, the status checks and their
//! cadence, the convergence test, demands and patterns, simple controls, rules with priorities, the time step
//! (cut at pattern periods, report times, tank fill or drain, controls and rules) and tank levels. Where it
//! differs: the linear system is solved by `faer`'s sparse Cholesky with an AMD ordering (EPANET: its own
//! minimum-degree code), so results agree to rounding, not bit for bit; water quality and energy costs are not
//! computed.
//!
//! # Units
//! The model is in SI (m, m³/s, metres of water head, m³, kW); the solver works in EPANET's internal ft, cfs
//! and s. See [`units`].
//!
//! # Glossary
//! - **junction / reservoir / tank**: a demand node; a fixed-head source; a storage whose level moves.
//! - **head**: elevation + pressure head, m. **pressure**: here, pressure head (head − elevation), m.
//! - **GGA**: the global gradient algorithm: Newton's method on the link flows with the junction heads solved
//!   from a sparse symmetric system at each trial.
//! - **PRV / PSV / PBV / FCV / TCV / GPV**: pressure-reducing, pressure-sustaining, pressure-breaker, flow-control,
//!   throttle-control and general-purpose valves. **CV**: a check valve on a pipe.
//! - **emitter**: an outflow that grows with pressure (`q = C·p^0.5`): sprinklers, leaks, bursts.
//! - **DDA / PDA**: demand-driven / pressure-driven analysis.
//! - **period**: the time between two hydraulic solutions.

mod coeffs;
mod gga;
mod hydraulics;
mod linear;
mod model;
pub mod network;
mod results;
mod rules;
mod status;
pub mod units;

pub use gga::SolveInfo;
pub use hydraulics::{DemandSeries, Hydraulics, WaterEvent};
pub use model::Status;
pub use network::*;
pub use results::{simulate, ResultTable, WaterResults};
pub use units::{FlowUnits, PressureUnits, Units};

use thiserror::Error;

/// A run time as a clock time for messages.
fn at(t: i64) -> crate::time::SimTime {
    crate::time::SimTime(t.clamp(0, i64::from(u32::MAX)) as u32)
}

/// Why a water network could not be solved.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum WaterError {
    /// The network breaks one of EPANET's rules.
    #[error("invalid water network: {what}")]
    InvalidNetwork {
        /// What is wrong, naming the element.
        what: String,
    },
    /// The equations are singular: some junction has no path to a source (EPANET error 110).
    #[error("hydraulic equations have no solution at {}: node {node} is cut off from every source (EPANET error 110)", at(*time_s))]
    IllConditioned {
        /// Time of the failed solution, s.
        time_s: i64,
        /// Id of the node where the factorisation failed.
        node: String,
    },
    /// A solution did not converge and the network says `UNBALANCED STOP`.
    #[error("hydraulics did not converge at {} after {trials} trials (relative flow change {relative_error:.3e}); set [OPTIONS] UNBALANCED CONTINUE to go on anyway", at(*time_s))]
    Unbalanced {
        /// Time of the failed solution, s.
        time_s: i64,
        /// Trials used.
        trials: u32,
        /// Relative flow change reached.
        relative_error: f64,
    },
}

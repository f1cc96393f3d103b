//! Why a power flow could not be solved.

use thiserror::Error;

/// Why [`super::solve`] failed. Each variant names the element (table and pandapower index) or the iteration.
#[derive(Debug, Error)]
pub enum PowerError {
    /// The system base or frequency is not positive.
    #[error("the network's {what} is {value}; it must be positive")]
    BadSystem {
        /// `sn_mva` or `f_hz`.
        what: &'static str,
        /// The value found.
        value: f64,
    },
    /// Two buses share a pandapower index.
    #[error("bus {index} appears twice in the bus table")]
    DuplicateBus {
        /// The repeated index.
        index: i64,
    },
    /// An element refers to a bus that is not in the bus table.
    #[error("{table} {index}: its {column} {bus} is not in the bus table")]
    UnknownBus {
        /// Element table (`line`, `load`...).
        table: &'static str,
        /// The element's pandapower index.
        index: i64,
        /// Which column (`bus`, `from_bus`, `hv_bus`...).
        column: &'static str,
        /// The missing bus index.
        bus: i64,
    },
    /// A switch refers to a line or transformer that does not exist, or to one that does not end at its bus.
    #[error("switch {index}: {detail}")]
    BadSwitch {
        /// The switch's pandapower index.
        index: i64,
        /// What is wrong.
        detail: String,
    },
    /// A parameter makes an element degenerate (zero impedance, non-positive rating...).
    #[error("{table} {index}: {detail}")]
    BadParameter {
        /// Element table.
        table: &'static str,
        /// The element's pandapower index.
        index: i64,
        /// What is wrong, with the values.
        detail: String,
    },
    /// The network uses something this solver does not model.
    #[error("{table} {index}: {detail} is not supported")]
    Unsupported {
        /// Element table.
        table: &'static str,
        /// The element's pandapower index.
        index: i64,
        /// What is not supported.
        detail: String,
    },
    /// No in-service external grid (or slack generator) on an in-service bus.
    #[error("no reference bus: the network needs an in-service external grid (or slack generator) on an in-service bus")]
    NoSlack,
    /// Two voltage set points at one bus disagree.
    #[error(
        "bus {bus}: voltage set points {a} pu and {b} pu of the elements at this bus disagree"
    )]
    ConflictingSetpoints {
        /// The pandapower bus (the first of fused buses).
        bus: i64,
        /// One set point.
        a: f64,
        /// The other.
        b: f64,
    },
    /// The sparse LU factorisation failed (a singular Jacobian or DC matrix).
    #[error("{stage}: the sparse LU factorisation failed ({detail})")]
    Singular {
        /// `DC start` or `Newton–Raphson iteration N`.
        stage: String,
        /// faer's error, or the non-finite result.
        detail: String,
    },
    /// Newton–Raphson did not reach the tolerance.
    #[error(
        "the power flow did not converge in {iterations} iterations: largest power mismatch {mismatch_mva:.3e} \
         (per unit of sn_mva) at bus {bus}, tolerance {tolerance_mva:.1e}"
    )]
    NotConverged {
        /// Iterations done.
        iterations: usize,
        /// The largest remaining mismatch (∞-norm), per unit of `sn_mva`.
        mismatch_mva: f64,
        /// The pandapower bus (the first of fused buses) where it is largest.
        bus: i64,
        /// The tolerance asked for.
        tolerance_mva: f64,
    },
}

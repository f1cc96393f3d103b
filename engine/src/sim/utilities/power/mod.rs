//! AC power flow after pandapower: the network model ([`PowerGrid`], pandapower's element tables in pandapower's
//! units) and its solution by Newton–Raphson ([`solve`]), with pandapower's result tables ([`PfResult`]).
//!
//! # What it follows
//! pandapower 3.x `runpp` with its defaults (algorithm "nr", `calculate_voltage_angles` True, init "auto",
//! `trafo_model` "t", `trafo_loading` "current", `voltage_depend_loads` True, `check_connectivity` True):
//! - **per unit**: system base `sn_mva`; each bus's base is its `vn_kv`, `Z_base = vn_kv² / sn_mva`;
//! - **lines**: pandapower's π model: series `r + jx` from Ω/km × km on the from bus's base,
//!   divided by `parallel`; shunt `g + jb` (b = 2π·f·C) split half to each end;
//! - **two-winding transformers**: pandapower's T model (leakage impedance split half to each side, magnetising
//!   admittance from `pfe_kw` and `i0_percent` in the middle), turned into an equivalent π with different shunts at
//!   each end; the off-nominal ratio and the phase shift sit at the HV side; tap changers of type `Ratio`,
//!   `Symmetrical` and `Ideal` (and pre-3.0 `tap_phase_shifter`) on either side; the π model on request;
//! - **bus elements**: loads and static generators with `scaling` (loads may be voltage dependent through
//!   `const_z_*` / `const_i_*`, averaged per bus as pandapower does), shunts (`p_mw`, `q_mvar` at `vn_kv`, × `step`),
//!   generators as PV buses, external grids (and slack generators) as reference buses;
//! - **switches**: closed bus–bus switches without impedance fuse their buses into one; with `z_ohm > 0` they are
//!   a branch (r/x = 2, pandapower's `switch_rx_ratio`); an open line or transformer switch moves that branch end to
//!   an auxiliary bus, so the branch stays energised from its other end (charging current, voltage rise), as
//!   pandapower does by default; a line ending at an out-of-service bus is treated the same way;
//! - **topology**: buses with no path to a reference bus are isolated: their results are NaN, elements on them
//!   carry zero power, branches between them carry no flow;
//! - **Newton–Raphson** in polar form with pandapower's start (magnitudes at the mean of the
//!   set points, angles from a DC power flow), full steps, convergence when the largest power mismatch is below
//!   `tolerance_mva` (per unit of `sn_mva`, as pandapower); the sparse Jacobian is factorised by faer's sparse LU,
//!   its symbolic analysis done once per network and reused at every iteration;
//! - **results** ([`results`]): pandapower's tables and columns: flows at both ends, losses, currents
//!   `|S| / (√3 · vm · vn_kv)`, line loading against `max_i_ka · df · parallel`, transformer loading by current
//!   against the rated current of each side, external-grid and generator powers as pandapower splits them.
//!
//! # Where it differs
//! - Not modelled: three-winding transformers, impedances, wards, storage, motors, DC lines, FACTS, asymmetric
//!   elements, characteristic tables (`tap_dependency_table`, `Tabular` taps): networks using them are refused
//!   by the importer or by [`solve`]. Generator reactive limits are not enforced (pandapower's default too).
//! - Several external grids at one bus share its power equally (pandapower weighs them by `slack_weight`, which is
//!   1 by default).
//! - A branch with zero reactance is left out of the DC start (pandapower fails on it).
//!
//! # Units
//! Powers in MW / Mvar (consumption positive for loads, generation positive for static generators, generators and
//! external grids, as pandapower writes them), voltages in pu of the bus's `vn_kv`, angles in degrees, currents in
//! kA, lengths in km.
//!
//! # Glossary
//! - **bus**: a node of the electrical network; **branch**: a line, a transformer or an impedance between two buses.
//! - **pu** (per unit): a quantity divided by its base; **vm_pu / va_degree**: voltage magnitude and angle.
//! - **slack / reference bus**: a bus whose voltage is fixed (external grid) and that balances the power.
//! - **PV bus**: a bus whose active power and voltage magnitude are fixed (generator); **PQ bus**: any other.
//! - **Ybus**: the bus admittance matrix, `I = Ybus · V`.
//! - **π / T model**: a branch as a series impedance with shunts at its ends (π) or in its middle (T).
//! - **tap**: the off-nominal turns ratio of a transformer, from its tap changer position.
//! - **auxiliary bus**: an internal bus at the open end of a switched-off branch.

mod branch;
mod build;
mod error;
mod newton;
pub mod results;
mod ybus;

pub use error::PowerError;
pub use results::{BusResult, GenResult, LineResult, PfResult, PqResult, ResultRow, TrafoResult};

use serde::{Deserialize, Serialize};

/// A bus (pandapower `bus` table).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Bus {
    /// pandapower's index.
    pub index: i64,
    /// Name.
    pub name: Option<String>,
    /// Nominal voltage, kV.
    pub vn_kv: f64,
    /// In service.
    pub in_service: bool,
    /// Position from the bus geodata (GeoJSON point), in the source's coordinates.
    pub geo: Option<[f64; 2]>,
    /// The scene feature that is this bus, when the grid is a scene layer.
    #[serde(default)]
    pub feature: Option<crate::FeatureId>,
}

/// A line (pandapower `line` table).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Line {
    /// pandapower's index.
    pub index: i64,
    /// Name.
    pub name: Option<String>,
    /// From bus (index).
    pub from_bus: i64,
    /// To bus (index).
    pub to_bus: i64,
    /// Length, km.
    pub length_km: f64,
    /// Resistance, Ω/km.
    pub r_ohm_per_km: f64,
    /// Reactance, Ω/km.
    pub x_ohm_per_km: f64,
    /// Capacitance, nF/km.
    pub c_nf_per_km: f64,
    /// Conductance, µS/km.
    pub g_us_per_km: f64,
    /// Thermal limit, kA.
    pub max_i_ka: f64,
    /// Parallel systems.
    pub parallel: f64,
    /// Derating factor.
    pub df: f64,
    /// In service.
    pub in_service: bool,
    /// Line geometry (GeoJSON line string), in the source's coordinates, when given.
    pub geo: Option<Vec<[f64; 2]>>,
    /// The scene feature that is this line, when the grid is a scene layer.
    #[serde(default)]
    pub feature: Option<crate::FeatureId>,
}

/// A two-winding transformer (pandapower `trafo` table).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Trafo {
    /// pandapower's index.
    pub index: i64,
    /// Name.
    pub name: Option<String>,
    /// High-voltage bus.
    pub hv_bus: i64,
    /// Low-voltage bus.
    pub lv_bus: i64,
    /// Rated power, MVA.
    pub sn_mva: f64,
    /// Rated voltages, kV.
    pub vn_hv_kv: f64,
    /// See `vn_hv_kv`.
    pub vn_lv_kv: f64,
    /// Short-circuit voltage, %.
    pub vk_percent: f64,
    /// Its real part, %.
    pub vkr_percent: f64,
    /// Iron losses, kW.
    pub pfe_kw: f64,
    /// Open-loop current, %.
    pub i0_percent: f64,
    /// Phase shift, degrees.
    pub shift_degree: f64,
    /// Tap changer side (`hv`, `lv`).
    pub tap_side: Option<String>,
    /// Tap positions and steps (NaN when absent).
    pub tap_neutral: f64,
    /// See `tap_neutral`.
    pub tap_pos: f64,
    /// See `tap_neutral`.
    pub tap_step_percent: f64,
    /// See `tap_neutral`.
    pub tap_step_degree: f64,
    /// `Ratio`, `Symmetrical`, `Ideal`, `Tabular`, or none.
    pub tap_changer_type: Option<String>,
    /// Pre-3.0 networks (no `tap_changer_type` column): ideal phase shifter.
    pub tap_phase_shifter: Option<bool>,
    /// The tap changer follows a characteristic table (pandapower `tap_dependency_table`; not modelled: such a
    /// transformer is refused).
    #[serde(default)]
    pub tap_dependency_table: bool,
    /// Parallel transformers.
    pub parallel: f64,
    /// Derating factor.
    pub df: f64,
    /// In service.
    pub in_service: bool,
    /// The scene feature that is this transformer, when the grid is a scene layer.
    #[serde(default)]
    pub feature: Option<crate::FeatureId>,
}

/// A load, static generator or shunt-like bus element with a set power.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Injection {
    /// pandapower's index.
    pub index: i64,
    /// Name.
    pub name: Option<String>,
    /// Bus.
    pub bus: i64,
    /// Active power, MW (load convention for loads, generation for sgens as pandapower writes them).
    pub p_mw: f64,
    /// Reactive power, Mvar.
    pub q_mvar: f64,
    /// Scaling.
    pub scaling: f64,
    /// In service.
    pub in_service: bool,
    /// Loads only: the share of active power that is constant impedance, % (the rest of `p_mw` is constant
    /// power or constant current).
    #[serde(default)]
    pub const_z_p_percent: f64,
    /// Loads only: the share of active power that is constant current, %.
    #[serde(default)]
    pub const_i_p_percent: f64,
    /// Loads only: the share of reactive power that is constant impedance, %.
    #[serde(default)]
    pub const_z_q_percent: f64,
    /// Loads only: the share of reactive power that is constant current, %.
    #[serde(default)]
    pub const_i_q_percent: f64,
}

/// A voltage-controlled generator (pandapower `gen` table).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Gen {
    /// pandapower's index.
    pub index: i64,
    /// Name.
    pub name: Option<String>,
    /// Bus.
    pub bus: i64,
    /// Active power, MW.
    pub p_mw: f64,
    /// Voltage set point, pu.
    pub vm_pu: f64,
    /// Scaling.
    pub scaling: f64,
    /// In service.
    pub in_service: bool,
    /// A slack (reference) generator: its bus is a reference bus, like an external grid's.
    #[serde(default)]
    pub slack: bool,
    /// Reactive power limits, Mvar (NaN: none). They are not enforced; they only share the reactive power of
    /// several generators at one bus, as pandapower does.
    #[serde(default = "nan")]
    pub min_q_mvar: f64,
    /// See `min_q_mvar`.
    #[serde(default = "nan")]
    pub max_q_mvar: f64,
}

fn nan() -> f64 {
    f64::NAN
}

/// An external grid (slack; pandapower `ext_grid` table).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExtGrid {
    /// pandapower's index.
    pub index: i64,
    /// Name.
    pub name: Option<String>,
    /// Bus.
    pub bus: i64,
    /// Voltage magnitude, pu.
    pub vm_pu: f64,
    /// Voltage angle, degrees.
    pub va_degree: f64,
    /// In service.
    pub in_service: bool,
}

/// What a switch connects its bus to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SwitchTarget {
    /// Another bus (`et = "b"`).
    Bus,
    /// A line's end at the switch's bus (`et = "l"`).
    Line,
    /// A transformer's end at the switch's bus (`et = "t"`).
    Trafo,
}

/// A switch (pandapower `switch` table).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Switch {
    /// pandapower's index.
    pub index: i64,
    /// Name.
    pub name: Option<String>,
    /// The bus it sits at.
    pub bus: i64,
    /// The element it connects (a bus, line or trafo index).
    pub element: i64,
    /// What `element` is.
    pub et: SwitchTarget,
    /// Closed.
    pub closed: bool,
    /// Impedance when closed, Ω (0: ideal).
    pub z_ohm: f64,
}

/// A shunt (pandapower `shunt` table).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Shunt {
    /// pandapower's index.
    pub index: i64,
    /// Name.
    pub name: Option<String>,
    /// Bus.
    pub bus: i64,
    /// Active power at rated voltage, MW.
    pub p_mw: f64,
    /// Reactive power at rated voltage, Mvar (positive: inductive consumption).
    pub q_mvar: f64,
    /// Rated voltage, kV (NaN: the bus's).
    pub vn_kv: f64,
    /// Step.
    pub step: f64,
    /// In service.
    pub in_service: bool,
}

/// A pandapower network: its element tables, in pandapower's units.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PowerGrid {
    /// The network's name.
    pub name: Option<String>,
    /// System base power, MVA.
    pub sn_mva: f64,
    /// Frequency, Hz.
    pub f_hz: f64,
    /// Buses.
    pub buses: Vec<Bus>,
    /// Lines.
    pub lines: Vec<Line>,
    /// Transformers.
    pub trafos: Vec<Trafo>,
    /// Loads.
    pub loads: Vec<Injection>,
    /// Static generators.
    pub sgens: Vec<Injection>,
    /// Generators.
    pub gens: Vec<Gen>,
    /// External grids.
    pub ext_grids: Vec<ExtGrid>,
    /// Switches.
    pub switches: Vec<Switch>,
    /// Shunts.
    pub shunts: Vec<Shunt>,
}

/// How voltages start (pandapower's `init`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum PfInit {
    /// pandapower's default: magnitudes at the mean of the external grids' and generators' set points, angles
    /// from a DC power flow when voltage angles are calculated, else flat.
    #[default]
    Auto,
    /// 1 pu and 0° everywhere but at set points.
    Flat,
    /// 1 pu magnitudes, angles from a DC power flow.
    Dc,
}

/// The transformer equivalent circuit (pandapower's `trafo_model`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum TrafoModel {
    /// T: leakage impedance split half to each side, magnetising admittance in the middle (the default).
    #[default]
    T,
    /// π: the whole leakage impedance in series, the magnetising admittance split half to each end.
    Pi,
}

/// Power-flow options, with pandapower's `runpp` defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PfOptions {
    /// Convergence limit on the largest active or reactive power mismatch, in per unit of the system base
    /// `sn_mva` (MVA when `sn_mva` is 1, as pandapower's name suggests). Default 1e-8.
    pub tolerance_mva: f64,
    /// Newton–Raphson iterations before giving up. Default 10.
    pub max_iteration: usize,
    /// Honour transformer phase shifts and external-grid angles (else both are 0). Default true.
    pub calculate_voltage_angles: bool,
    /// Start values. Default [`PfInit::Auto`].
    pub init: PfInit,
    /// Transformer model. Default [`TrafoModel::T`].
    pub trafo_model: TrafoModel,
}

impl Default for PfOptions {
    fn default() -> Self {
        PfOptions {
            tolerance_mva: 1e-8,
            max_iteration: 10,
            calculate_voltage_angles: true,
            init: PfInit::Auto,
            trafo_model: TrafoModel::T,
        }
    }
}

/// Solves the AC power flow of `grid` as pandapower's `runpp` does.
///
/// # Examples
/// ```
/// use citytwin_engine::sim::utilities::power::*;
/// let bus = |index, vn_kv| Bus { index, name: None, vn_kv, in_service: true, geo: None, feature: None };
/// let grid = PowerGrid {
///     sn_mva: 1.0,
///     f_hz: 50.0,
///     buses: vec![bus(0, 20.0), bus(1, 20.0)],
///     lines: vec![Line {
///         index: 0, name: None, from_bus: 0, to_bus: 1, length_km: 2.0, r_ohm_per_km: 0.2,
///         x_ohm_per_km: 0.1, c_nf_per_km: 0.0, g_us_per_km: 0.0, max_i_ka: 0.3, parallel: 1.0, df: 1.0,
///         in_service: true, geo: None, feature: None,
///     }],
///     loads: vec![Injection {
///         index: 0, name: None, bus: 1, p_mw: 2.0, q_mvar: 0.5, scaling: 1.0, in_service: true,
///         const_z_p_percent: 0.0, const_i_p_percent: 0.0, const_z_q_percent: 0.0, const_i_q_percent: 0.0,
///     }],
///     ext_grids: vec![ExtGrid { index: 0, name: None, bus: 0, vm_pu: 1.0, va_degree: 0.0, in_service: true }],
///     ..PowerGrid::default()
/// };
/// let res = solve(&grid, &PfOptions::default()).unwrap();
/// assert!(res.bus[1].vm_pu < 1.0);
/// assert!((res.ext_grid[0].p_mw - 2.0 - res.line[0].pl_mw).abs() < 1e-9);
/// ```
///
/// # Errors
/// [`PowerError`]: an element refers to a missing bus, a parameter makes a branch degenerate, no external grid
/// feeds the network, set points conflict, the model uses something not modelled, or Newton–Raphson does not
/// converge within `max_iteration` (the error gives the iterations and the remaining mismatch).
///
/// # Performance
/// One sparse LU factorisation per iteration on the Jacobian's fixed pattern, analysed once.
pub fn solve(grid: &PowerGrid, opts: &PfOptions) -> Result<PfResult, PowerError> {
    let pu = build::build(grid, opts)?;
    let y = ybus::Ybus::new(&pu);
    let v0 = newton::start_voltages(&pu, &y, opts)?;
    let sol = newton::newton_raphson(&pu, &y, v0, opts)?;
    Ok(results::results(grid, &pu, &y, &sol))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bus(index: i64, vn_kv: f64) -> Bus {
        Bus {
            index,
            name: None,
            vn_kv,
            in_service: true,
            geo: None,
            feature: None,
        }
    }

    fn line(index: i64, from_bus: i64, to_bus: i64, km: f64, r: f64, x: f64, c_nf: f64) -> Line {
        Line {
            index,
            name: None,
            from_bus,
            to_bus,
            length_km: km,
            r_ohm_per_km: r,
            x_ohm_per_km: x,
            c_nf_per_km: c_nf,
            g_us_per_km: 0.0,
            max_i_ka: 0.5,
            parallel: 1.0,
            df: 1.0,
            in_service: true,
            geo: None,
            feature: None,
        }
    }

    fn load(index: i64, bus: i64, p_mw: f64, q_mvar: f64) -> Injection {
        Injection {
            index,
            name: None,
            bus,
            p_mw,
            q_mvar,
            scaling: 1.0,
            in_service: true,
            const_z_p_percent: 0.0,
            const_i_p_percent: 0.0,
            const_z_q_percent: 0.0,
            const_i_q_percent: 0.0,
        }
    }

    fn ext_grid(bus: i64) -> ExtGrid {
        ExtGrid {
            index: 0,
            name: None,
            bus,
            vm_pu: 1.0,
            va_degree: 0.0,
            in_service: true,
        }
    }

    /// Slack at bus 0 (20 kV, 1 pu), a 2 km line of 0.2 + j0.1 Ω/km, a load of 2 MW + 0.5 Mvar at bus 1.
    fn two_bus() -> PowerGrid {
        PowerGrid {
            sn_mva: 1.0,
            f_hz: 50.0,
            buses: vec![bus(0, 20.0), bus(1, 20.0)],
            lines: vec![line(0, 0, 1, 2.0, 0.2, 0.1, 0.0)],
            loads: vec![load(0, 1, 2.0, 0.5)],
            ext_grids: vec![ext_grid(0)],
            ..PowerGrid::default()
        }
    }

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn two_buses_solved_by_hand() {
        let res = solve(&two_bus(), &PfOptions::default()).expect("converges");
        // Per unit on 1 MVA and 20 kV (Z_base 400 Ω): z = (0.4 + j0.2) / 400, s = 2 + j0.5.
        let (r, x, p, q): (f64, f64, f64, f64) = (0.4 / 400.0, 0.2 / 400.0, 2.0, 0.5);
        // V1·conj(V2) = |V2|² + z·conj(s) with V1 = 1: a quadratic in u = |V2|².
        let (a, b) = (r * p + x * q, x * p - r * q);
        let c = 1.0 - 2.0 * a;
        let u = (c + (c * c - 4.0 * (a * a + b * b)).sqrt()) / 2.0;
        let vm = u.sqrt();
        let va = -b.atan2(u + a).to_degrees();
        let b1 = &res.bus[1];
        assert!(close(b1.vm_pu, vm, 1e-12), "{} vs {vm}", b1.vm_pu);
        assert!(close(b1.va_degree, va, 1e-9), "{} vs {va}", b1.va_degree);
        assert!(close(b1.p_mw, 2.0, 1e-12) && close(b1.q_mvar, 0.5, 1e-12));
        // Losses R·|I|², |I| = |s| / |V2|; the slack supplies load and losses.
        let i_pu = (p * p + q * q).sqrt() / vm;
        let l = &res.line[0];
        assert!(close(l.pl_mw, r * i_pu * i_pu, 1e-12), "{}", l.pl_mw);
        assert!(close(l.ql_mvar, x * i_pu * i_pu, 1e-12));
        assert!(close(l.p_to_mw, -2.0, 1e-9) && close(l.q_to_mvar, -0.5, 1e-9));
        let i_ka = i_pu / (3f64.sqrt() * 20.0);
        assert!(close(l.i_to_ka, i_ka, 1e-12) && close(l.i_from_ka, i_ka, 1e-12));
        assert!(close(l.loading_percent, i_ka / 0.5 * 100.0, 1e-9));
        assert!(close(res.ext_grid[0].p_mw, 2.0 + l.pl_mw, 1e-9));
        assert!(close(res.bus[0].p_mw, -res.ext_grid[0].p_mw, 1e-12));
        assert!(res.iterations >= 2 && res.mismatch_mva < 1e-8);
        assert_eq!(
            res,
            solve(&two_bus(), &PfOptions::default()).expect("again"),
            "deterministic"
        );
    }

    fn trafo(hv_bus: i64, lv_bus: i64) -> Trafo {
        Trafo {
            index: 0,
            name: None,
            hv_bus,
            lv_bus,
            sn_mva: 40.0,
            vn_hv_kv: 110.0,
            vn_lv_kv: 21.0,
            vk_percent: 10.0,
            vkr_percent: 0.3,
            pfe_kw: 0.0,
            i0_percent: 0.0,
            shift_degree: 30.0,
            tap_side: Some("hv".into()),
            tap_neutral: 0.0,
            tap_pos: 0.0,
            tap_step_percent: 2.5,
            tap_step_degree: f64::NAN,
            tap_changer_type: Some("Ratio".into()),
            tap_phase_shifter: None,
            tap_dependency_table: false,
            parallel: 1.0,
            df: 1.0,
            in_service: true,
            feature: None,
        }
    }

    #[test]
    fn unloaded_transformer_gives_its_ratio_and_shift() {
        let mut grid = PowerGrid {
            sn_mva: 1.0,
            f_hz: 50.0,
            buses: vec![bus(0, 110.0), bus(1, 20.0)],
            trafos: vec![trafo(0, 1)],
            ext_grids: vec![ext_grid(0)],
            ..PowerGrid::default()
        };
        let res = solve(&grid, &PfOptions::default()).expect("converges");
        // 110/21 kV between 110 and 20 kV buses: the LV side sits at 21/20 pu, lagging by the shift.
        assert!(close(res.bus[1].vm_pu, 1.05, 1e-12), "{}", res.bus[1].vm_pu);
        assert!(
            close(res.bus[1].va_degree, -30.0, 1e-9),
            "{}",
            res.bus[1].va_degree
        );
        assert!(close(res.trafo[0].p_hv_mw, 0.0, 1e-12));
        // Two steps of 2.5 % up on the HV side: 115.5/21 kV on 110/20 kV buses, a ratio of 1.
        grid.trafos[0].tap_pos = 2.0;
        let res = solve(&grid, &PfOptions::default()).expect("converges");
        assert!(close(res.bus[1].vm_pu, 1.0, 1e-12), "{}", res.bus[1].vm_pu);
        // Without angles, the shift is gone.
        let flat = PfOptions {
            calculate_voltage_angles: false,
            ..PfOptions::default()
        };
        let res = solve(&grid, &flat).expect("converges");
        assert!(close(res.bus[1].va_degree, 0.0, 1e-12));
    }

    #[test]
    fn open_switch_leaves_the_line_charged_from_its_other_end() {
        // A 10 km cable, open at bus 1: bus 1 is cut off, the cable's far end floats above 1 pu.
        let mut grid = two_bus();
        grid.lines[0] = line(0, 0, 1, 10.0, 0.1, 0.1, 300.0);
        grid.switches.push(Switch {
            index: 0,
            name: None,
            bus: 1,
            element: 0,
            et: SwitchTarget::Line,
            closed: false,
            z_ohm: 0.0,
        });
        let res = solve(&grid, &PfOptions::default()).expect("converges");
        assert!(res.bus[1].vm_pu.is_nan() && res.bus[1].va_degree.is_nan());
        assert_eq!(
            (res.bus[1].p_mw, res.load[0].p_mw),
            (0.0, 0.0),
            "an isolated load draws nothing"
        );
        // Open end of a π line: V2 = V1 / (1 + z·jb/2).
        let z = faer::c64::new(1.0 / 400.0, 1.0 / 400.0);
        let b = 2.0 * std::f64::consts::PI * 50.0 * 300e-9 * 400.0 * 10.0;
        let v2 = faer::c64::new(1.0, 0.0)
            / (faer::c64::new(1.0, 0.0) + z * faer::c64::new(0.0, b / 2.0));
        let l = &res.line[0];
        assert!(
            close(l.vm_to_pu, v2.norm(), 1e-12) && l.vm_to_pu > 1.0,
            "{}",
            l.vm_to_pu
        );
        // Nothing leaves at the open end (to the convergence tolerance).
        assert!(close(l.p_to_mw, 0.0, 1e-8) && close(l.q_to_mvar, 0.0, 1e-8));
        assert!(
            l.q_from_mvar < 0.0,
            "the cable's charging flows back into the grid"
        );
        // Closed, the same cable carries the load.
        grid.switches[0].closed = true;
        let res = solve(&grid, &PfOptions::default()).expect("converges");
        assert!(res.bus[1].vm_pu < 1.0 && close(res.load[0].p_mw, 2.0, 0.0));
    }

    #[test]
    fn out_of_service_and_fused_buses() {
        let mut grid = two_bus();
        // Bus 2 is fused to bus 1 by a closed switch; bus 3 is out of service with a line to bus 1.
        grid.buses.push(bus(2, 20.0));
        grid.buses.push(Bus {
            in_service: false,
            ..bus(3, 20.0)
        });
        grid.switches.push(Switch {
            index: 0,
            name: None,
            bus: 1,
            element: 2,
            et: SwitchTarget::Bus,
            closed: true,
            z_ohm: 0.0,
        });
        grid.loads[0].bus = 2;
        grid.lines.push(line(1, 1, 3, 1.0, 0.1, 0.1, 0.0));
        let mut oos = line(2, 0, 1, 1.0, 0.1, 0.1, 0.0);
        oos.in_service = false;
        grid.lines.push(oos);
        let res = solve(&grid, &PfOptions::default()).expect("converges");
        let reference = solve(&two_bus(), &PfOptions::default()).expect("converges");
        assert_eq!(
            res.bus[1].vm_pu, res.bus[2].vm_pu,
            "fused buses share their voltage"
        );
        assert!(close(res.bus[2].vm_pu, reference.bus[1].vm_pu, 1e-12));
        assert!(close(res.bus[2].p_mw, 2.0, 0.0) && close(res.bus[1].p_mw, 0.0, 0.0));
        let b3 = &res.bus[3];
        assert!(
            b3.vm_pu.is_nan() && b3.p_mw.is_nan(),
            "out of service: all NaN"
        );
        // The line to the out-of-service bus stays energised from bus 1, carrying nothing.
        assert!(close(res.line[1].vm_to_pu, res.bus[1].vm_pu, 1e-12));
        assert!(close(res.line[1].p_from_mw, 0.0, 1e-15));
        // The out-of-service line: no flow, both voltages.
        assert_eq!((res.line[2].p_from_mw, res.line[2].i_ka), (0.0, 0.0));
        assert!(close(res.line[2].vm_to_pu, res.bus[1].vm_pu, 0.0));
    }

    #[test]
    fn generators_hold_their_voltage() {
        let mut grid = two_bus();
        grid.gens.push(Gen {
            index: 7,
            name: None,
            bus: 1,
            p_mw: 1.0,
            vm_pu: 1.01,
            scaling: 1.0,
            in_service: true,
            slack: false,
            min_q_mvar: f64::NAN,
            max_q_mvar: f64::NAN,
        });
        let res = solve(&grid, &PfOptions::default()).expect("converges");
        let g = &res.gen[0];
        assert!(close(res.bus[1].vm_pu, 1.01, 1e-12) && close(g.vm_pu, 1.01, 1e-12));
        assert_eq!((g.index, g.p_mw), (7, 1.0));
        // Reactive balance at bus 1: the generator covers the load and what the line takes (to 1e-7: with two
        // machines pandapower shares Q by reactive range, ±1e9 Mvar without limits, and so do we, rounding and
        // all).
        let l = &res.line[0];
        assert!(
            close(g.q_mvar, 0.5 + l.q_to_mvar, 1e-6),
            "{} {}",
            g.q_mvar,
            l.q_to_mvar
        );
        assert!(close(res.ext_grid[0].p_mw, 1.0 + l.pl_mw, 1e-9));
        assert!(
            close(res.bus[1].p_mw, 1.0, 1e-12) && close(res.bus[1].q_mvar, 0.5 - g.q_mvar, 1e-12)
        );
        // A second generator at the bus with another set point is refused.
        let mut second = grid.gens[0].clone();
        second.vm_pu = 1.02;
        grid.gens.push(second);
        assert!(matches!(
            solve(&grid, &PfOptions::default()),
            Err(PowerError::ConflictingSetpoints { bus: 1, .. })
        ));
    }

    #[test]
    fn failures_are_errors_not_nan() {
        // Far beyond the line's transfer limit: no solution, so no convergence.
        let mut grid = two_bus();
        grid.loads[0].p_mw = 2000.0;
        let err = solve(&grid, &PfOptions::default()).expect_err("collapses");
        match &err {
            PowerError::NotConverged {
                iterations,
                mismatch_mva,
                bus,
                ..
            } => {
                assert_eq!(*iterations, 10);
                assert!(*mismatch_mva > 1e-8 && *bus == 1, "{err}");
            }
            other => panic!("{other}"),
        }
        assert!(
            err.to_string()
                .contains("did not converge in 10 iterations"),
            "{err}"
        );
        grid.ext_grids[0].in_service = false;
        assert!(matches!(
            solve(&grid, &PfOptions::default()),
            Err(PowerError::NoSlack)
        ));
        let mut grid = two_bus();
        grid.loads[0].bus = 9;
        assert!(matches!(
            solve(&grid, &PfOptions::default()),
            Err(PowerError::UnknownBus {
                table: "load",
                bus: 9,
                ..
            })
        ));
    }

    #[test]
    fn voltage_dependent_loads_follow_the_voltage() {
        let mut grid = two_bus();
        grid.loads[0].const_z_p_percent = 100.0;
        grid.loads[0].const_z_q_percent = 100.0;
        let res = solve(&grid, &PfOptions::default()).expect("converges");
        let vm = res.bus[1].vm_pu;
        assert!(vm < 1.0);
        assert!(
            close(res.load[0].p_mw, 2.0 * vm * vm, 1e-12),
            "{}",
            res.load[0].p_mw
        );
        assert!(close(res.line[0].p_to_mw, -res.load[0].p_mw, 1e-8));
    }
}

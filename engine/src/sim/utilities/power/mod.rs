//! AC power flow after pandapower: the network model ([`PowerGrid`], pandapower's element tables) and its
//! solution by Newton–Raphson ([`solve`]).
//!
//! Status: the model is in place; the solver is being written (see `solve`).

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
    /// Pre-3.0 networks: ideal phase shifter.
    pub tap_phase_shifter: Option<bool>,
    /// Parallel transformers.
    pub parallel: f64,
    /// Derating factor.
    pub df: f64,
    /// In service.
    pub in_service: bool,
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

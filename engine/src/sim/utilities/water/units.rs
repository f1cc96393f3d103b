//! Units of an EPANET network: the flow and pressure units its file was written in, and the factors between
//! the model's SI values, the file's units and the solver's internal US units.
//!
//! # Units
//! The model ([`super::WaterNetwork`]) holds SI values: metres, m³/s, metres of water head for pressures, m³,
//! kW. The solver works, as EPANET does, in feet, cubic feet per second and seconds, so that every constant in
//! its formulas (4.727 in Hazen–Williams, 0.02517 for minor losses, 32.2 ft/s²) is EPANET's own. EPANET converts
//! a file's values to feet and cfs with its own factors (448.831 gpm per cfs, 0.4333 psi per foot…), which are
//! not exactly the SI ones; converting SI → internal through the file's units ([`Units::internal_per_si`]) keeps
//! the solver's inputs identical to EPANET's, and converting back the same way gives the model's values back
//! unchanged (a 100 L/s demand is reported as exactly 0.1 m³/s).

use serde::{Deserialize, Serialize};

/// Metres per foot.
pub const M_PER_FT: f64 = 0.3048;

/// Flow units of an EPANET file (`[OPTIONS] UNITS`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum FlowUnits {
    /// Cubic feet per second.
    Cfs,
    /// US gallons per minute (EPANET's default).
    #[default]
    Gpm,
    /// Million US gallons per day.
    Mgd,
    /// Million imperial gallons per day.
    Imgd,
    /// Acre-feet per day.
    Afd,
    /// Litres per second.
    Lps,
    /// Litres per minute.
    Lpm,
    /// Megalitres per day.
    Mld,
    /// Cubic metres per hour.
    Cmh,
    /// Cubic metres per day.
    Cmd,
}

impl FlowUnits {
    /// Every unit, in EPANET's order.
    pub const ALL: [FlowUnits; 10] = [
        FlowUnits::Cfs,
        FlowUnits::Gpm,
        FlowUnits::Mgd,
        FlowUnits::Imgd,
        FlowUnits::Afd,
        FlowUnits::Lps,
        FlowUnits::Lpm,
        FlowUnits::Mld,
        FlowUnits::Cmh,
        FlowUnits::Cmd,
    ];

    /// EPANET's keyword.
    pub fn as_str(self) -> &'static str {
        match self {
            FlowUnits::Cfs => "CFS",
            FlowUnits::Gpm => "GPM",
            FlowUnits::Mgd => "MGD",
            FlowUnits::Imgd => "IMGD",
            FlowUnits::Afd => "AFD",
            FlowUnits::Lps => "LPS",
            FlowUnits::Lpm => "LPM",
            FlowUnits::Mld => "MLD",
            FlowUnits::Cmh => "CMH",
            FlowUnits::Cmd => "CMD",
        }
    }

    /// Whether the unit puts the whole file in SI (metres, millimetres, metres of head).
    pub fn is_si(self) -> bool {
        matches!(
            self,
            FlowUnits::Lps | FlowUnits::Lpm | FlowUnits::Mld | FlowUnits::Cmh | FlowUnits::Cmd
        )
    }

    /// EPANET's units per cubic foot per second (`Ucf[FLOW]`).
    pub fn per_cfs(self) -> f64 {
        match self {
            FlowUnits::Cfs => 1.0,
            FlowUnits::Gpm => 448.831,
            FlowUnits::Mgd => 0.64632,
            FlowUnits::Imgd => 0.5382,
            FlowUnits::Afd => 1.9837,
            FlowUnits::Lps => 28.317,
            FlowUnits::Lpm => 1699.0,
            FlowUnits::Mld => 2.4466,
            FlowUnits::Cmh => 101.94,
            FlowUnits::Cmd => 2446.6,
        }
    }

    /// Cubic metres per second in one unit (exact).
    pub fn m3s_per_unit(self) -> f64 {
        const US_GALLON_M3: f64 = 3.785_411_784e-3;
        const IMP_GALLON_M3: f64 = 4.546_09e-3;
        const ACRE_FOOT_M3: f64 = 1_233.481_837_547_52;
        match self {
            FlowUnits::Cfs => M_PER_FT * M_PER_FT * M_PER_FT,
            FlowUnits::Gpm => US_GALLON_M3 / 60.0,
            FlowUnits::Mgd => US_GALLON_M3 * 1e6 / 86_400.0,
            FlowUnits::Imgd => IMP_GALLON_M3 * 1e6 / 86_400.0,
            FlowUnits::Afd => ACRE_FOOT_M3 / 86_400.0,
            FlowUnits::Lps => 1e-3,
            FlowUnits::Lpm => 1e-3 / 60.0,
            FlowUnits::Mld => 1e3 / 86_400.0,
            FlowUnits::Cmh => 1.0 / 3_600.0,
            FlowUnits::Cmd => 1.0 / 86_400.0,
        }
    }
}

/// Pressure units of an EPANET file (`[OPTIONS] PRESSURE`; US files always use psi).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum PressureUnits {
    /// Pounds per square inch.
    #[default]
    Psi,
    /// Kilopascals.
    Kpa,
    /// Metres of water.
    Metres,
}

/// The units of one EPANET file, and the conversion factors they imply.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Units {
    /// Flow units.
    pub flow: FlowUnits,
    /// Pressure units (after EPANET's adjustment: psi for US flow units; metres or kPa for SI).
    pub pressure: PressureUnits,
    /// Specific gravity of the fluid (1 for water).
    pub specific_gravity: f64,
}

impl Default for Units {
    fn default() -> Self {
        Units {
            flow: FlowUnits::Gpm,
            pressure: PressureUnits::Psi,
            specific_gravity: 1.0,
        }
    }
}

/// A kind of quantity, for unit conversion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quantity {
    /// Elevation, head, length, tank level: ft (US) or m (SI) in a file; m in the model.
    Length,
    /// Pipe and valve diameters: inches (US) or mm (SI) in a file; m in the model.
    Diameter,
    /// Flow and demand: the file's flow unit; m³/s in the model.
    Flow,
    /// Pressure: psi, kPa or m in a file; metres of water head in the model.
    Pressure,
    /// Volume: ft³ or m³ in a file; m³ in the model.
    Volume,
    /// Pump power: hp (US) or kW (SI) in a file; kW in the model.
    Power,
    /// Darcy–Weisbach roughness: millifeet (US) or mm (SI) in a file; m in the model.
    Roughness,
}

impl Units {
    /// Whether the file is in SI units.
    pub fn is_si(&self) -> bool {
        self.flow.is_si()
    }

    /// EPANET's file units per internal unit (`Ucf`): per ft, cfs, ft³ or hp.
    pub fn ucf(&self, q: Quantity) -> f64 {
        let si = self.is_si();
        match q {
            Quantity::Length => {
                if si {
                    M_PER_FT
                } else {
                    1.0
                }
            }
            Quantity::Diameter => {
                if si {
                    1000.0 * M_PER_FT
                } else {
                    12.0
                }
            }
            Quantity::Flow => self.flow.per_cfs(),
            Quantity::Pressure => match (si, self.pressure) {
                (true, PressureUnits::Kpa) => 6.895 * 0.4333 * self.specific_gravity,
                (true, _) => M_PER_FT * self.specific_gravity,
                (false, _) => 0.4333 * self.specific_gravity,
            },
            Quantity::Volume => {
                if si {
                    M_PER_FT * M_PER_FT * M_PER_FT
                } else {
                    1.0
                }
            }
            Quantity::Power => {
                if si {
                    0.7457
                } else {
                    1.0
                }
            }
            Quantity::Roughness => {
                if si {
                    1000.0 * M_PER_FT
                } else {
                    1000.0
                }
            }
        }
    }

    /// Internal units (ft, cfs, ft³, hp) per model SI unit.
    pub fn internal_per_si(&self, q: Quantity) -> f64 {
        match q {
            Quantity::Length | Quantity::Diameter | Quantity::Pressure | Quantity::Roughness => {
                1.0 / M_PER_FT
            }
            Quantity::Volume => 1.0 / (M_PER_FT * M_PER_FT * M_PER_FT),
            Quantity::Power => 1.0 / 0.7457,
            Quantity::Flow => 1.0 / (self.flow.m3s_per_unit() * self.flow.per_cfs()),
        }
    }

    /// Model SI units per file unit.
    pub fn si_per_user(&self, q: Quantity) -> f64 {
        1.0 / (self.ucf(q) * self.internal_per_si(q))
    }

    /// A file value converted to the model's SI unit.
    pub fn to_si(&self, q: Quantity, v: f64) -> f64 {
        v * self.si_per_user(q)
    }

    /// A model SI value converted to the file's unit.
    pub fn to_user(&self, q: Quantity, v: f64) -> f64 {
        v / self.si_per_user(q)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn si_and_us_agree_on_lengths_and_differ_only_by_epanet_factors_on_flows() {
        let us = Units::default();
        // 1 ft in a US file is 0.3048 m, which is 1 ft inside.
        assert!((us.to_si(Quantity::Length, 1.0) - 0.3048).abs() < 1e-15);
        assert!((us.to_si(Quantity::Diameter, 12.0) - 0.3048).abs() < 1e-15);
        // 448.831 gpm is exactly one internal cfs, and 1 gpm is 6.309e-5 m³/s.
        let cfs_per_si = us.internal_per_si(Quantity::Flow);
        let one_cfs_si = us.to_si(Quantity::Flow, 448.831);
        assert!((one_cfs_si * cfs_per_si - 1.0).abs() < 1e-12);
        assert!((us.to_si(Quantity::Flow, 1.0) - 6.309_019_64e-5).abs() < 1e-12);
        // psi → metres of head the EPANET way (0.4333 psi per ft).
        assert!((us.to_si(Quantity::Pressure, 0.4333) - 0.3048).abs() < 1e-12);
        let si = Units {
            flow: FlowUnits::Lps,
            pressure: PressureUnits::Metres,
            specific_gravity: 1.0,
        };
        assert!((si.to_si(Quantity::Flow, 100.0) - 0.1).abs() < 1e-15);
        assert!((si.to_si(Quantity::Diameter, 300.0) - 0.3).abs() < 1e-15);
        assert!(
            (si.to_user(Quantity::Pressure, si.to_si(Quantity::Pressure, 42.0)) - 42.0).abs()
                < 1e-12
        );
    }
}

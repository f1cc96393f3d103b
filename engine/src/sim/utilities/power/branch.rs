//! Branch parameters in per unit: pandapower's line π model and two-winding transformer T (or π) model with tap
//! changers (`build_branch.py`: `_calc_line_parameter`, `_calc_branch_values_from_trafo_df`, `_calc_tap_from_dataframe`,
//! `_calc_r_x_from_dataframe`, `_calc_y_from_dataframe`, `_wye_delta`, `_calc_nominal_ratio_from_dataframe`).
//!
//! A branch is described as MATPOWER does: series `r + jx`, shunt `g + jb` split half to each end (`g_asym`,
//! `b_asym` added at the to end only), an off-nominal ratio `tap` and a phase shift at the from (HV) end.

use super::{Line, PowerError, Trafo, TrafoModel};
use faer::c64;
use std::f64::consts::PI;

/// One branch's parameters, per unit of the system base on the from bus's voltage (lines) or the LV bus's
/// (transformers).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct BranchParams {
    /// Series resistance.
    pub r: f64,
    /// Series reactance.
    pub x: f64,
    /// Total shunt conductance (half at each end).
    pub g: f64,
    /// Total shunt susceptance (half at each end).
    pub b: f64,
    /// Extra shunt conductance at the to end (twice the value added there, as MATPOWER halves it).
    pub g_asym: f64,
    /// Extra shunt susceptance at the to end (likewise).
    pub b_asym: f64,
    /// Off-nominal turns ratio at the from end (1 for lines).
    pub tap: f64,
    /// Phase shift at the from end, degrees (the to end lags by it).
    pub shift_deg: f64,
}

/// pandapower's line π model, on the base `base_kv` of the from bus.
pub(crate) fn line(
    l: &Line,
    base_kv: f64,
    sn_mva: f64,
    f_hz: f64,
) -> Result<BranchParams, PowerError> {
    let bad = |detail: String| PowerError::BadParameter {
        table: "line",
        index: l.index,
        detail,
    };
    if l.parallel.is_nan() || l.parallel <= 0.0 {
        return Err(bad(format!(
            "parallel is {}; it must be positive",
            l.parallel
        )));
    }
    let base_r = base_kv * base_kv / sn_mva;
    let r = l.r_ohm_per_km * l.length_km / base_r / l.parallel;
    let x = l.x_ohm_per_km * l.length_km / base_r / l.parallel;
    let b = 2.0 * f_hz * PI * l.c_nf_per_km * 1e-9 * base_r * l.length_km * l.parallel;
    let g = l.g_us_per_km * 1e-6 * base_r * l.length_km * l.parallel;
    let p = BranchParams {
        r,
        x,
        g,
        b,
        g_asym: 0.0,
        b_asym: 0.0,
        tap: 1.0,
        shift_deg: 0.0,
    };
    if l.in_service && !(r.is_finite() && x.is_finite() && g.is_finite() && b.is_finite()) {
        return Err(bad(format!(
            "its parameters are not finite (r {r}, x {x}, g {g}, b {b} pu)"
        )));
    }
    if l.in_service && r == 0.0 && x == 0.0 {
        return Err(bad(
            "zero impedance (r_ohm_per_km, x_ohm_per_km or length_km is 0); use a bus-bus switch instead".into(),
        ));
    }
    Ok(p)
}

/// NaN → 0, as pandapower's `nan_to_num`.
fn or0(v: f64) -> f64 {
    if v.is_nan() {
        0.0
    } else {
        v
    }
}

/// The tap changer's effect on the rated voltages and the phase shift: `(vn_hv, vn_lv, shift_deg)`.
fn taps(t: &Trafo, calculate_voltage_angles: bool) -> Result<(f64, f64, f64), PowerError> {
    let (mut vnh, mut vnl) = (t.vn_hv_kv, t.vn_lv_kv);
    let mut shift = if calculate_voltage_angles {
        t.shift_degree
    } else {
        0.0
    };
    let side = match t.tap_side.as_deref() {
        Some("hv") => 1.0,
        Some("lv") => -1.0,
        _ => return Ok((vnh, vnl, shift)),
    };
    enum Kind {
        Ideal,
        Complex,
        None,
    }
    let kind = if t.tap_dependency_table {
        return Err(PowerError::Unsupported {
            table: "trafo",
            index: t.index,
            detail: "a tap changer with a characteristic table (tap_dependency_table)".into(),
        });
    } else if let Some(ty) = t.tap_changer_type.as_deref() {
        match ty {
            "Ratio" | "Symmetrical" => Kind::Complex,
            "Ideal" => Kind::Ideal,
            // pandapower applies a "Tabular" tap only through its characteristic table.
            "" | "Tabular" => Kind::None,
            other => {
                return Err(PowerError::Unsupported {
                    table: "trafo",
                    index: t.index,
                    detail: format!("tap_changer_type `{other}`"),
                })
            }
        }
    } else {
        match t.tap_phase_shifter {
            Some(true) => Kind::Ideal,
            Some(false) if t.tap_step_percent.is_finite() && t.tap_pos.is_finite() => Kind::Complex,
            _ => Kind::None,
        }
    };
    let diff = t.tap_pos - t.tap_neutral;
    match kind {
        Kind::None => {}
        Kind::Ideal => {
            let degree_set = or0(t.tap_step_degree) != 0.0;
            let percent_set = or0(t.tap_step_percent) != 0.0;
            if degree_set && percent_set {
                return Err(PowerError::BadParameter {
                    table: "trafo",
                    index: t.index,
                    detail: "both tap_step_degree and tap_step_percent are set for an ideal phase shifter".into(),
                });
            }
            if degree_set {
                shift += side * diff * t.tap_step_degree;
            } else if percent_set {
                shift += side
                    * 2.0
                    * (diff * t.tap_step_percent / 100.0 / 2.0)
                        .asin()
                        .to_degrees();
            }
        }
        Kind::Complex => {
            let steps = or0(t.tap_step_percent * diff / 100.0);
            let angle = or0(t.tap_step_degree).to_radians();
            let vn = if side > 0.0 { &mut vnh } else { &mut vnl };
            let u1 = *vn;
            let du = u1 * steps;
            let (re, im) = (u1 + du * angle.cos(), du * angle.sin());
            *vn = (re * re + im * im).sqrt();
            shift += (side * im / re).atan().to_degrees();
        }
    }
    Ok((vnh, vnl, shift))
}

/// pandapower's two-winding transformer between buses of nominal voltages `vn_hv_bus` and `vn_lv_bus` (kV).
pub(crate) fn trafo(
    t: &Trafo,
    vn_hv_bus: f64,
    vn_lv_bus: f64,
    sn_mva: f64,
    model: TrafoModel,
    calculate_voltage_angles: bool,
) -> Result<BranchParams, PowerError> {
    let bad = |detail: String| PowerError::BadParameter {
        table: "trafo",
        index: t.index,
        detail,
    };
    if t.df.is_nan() || t.df <= 0.0 {
        return Err(bad(format!(
            "rating factor df is {}; it must be positive",
            t.df
        )));
    }
    if !(t.sn_mva > 0.0 && t.vn_hv_kv > 0.0 && t.vn_lv_kv > 0.0 && t.parallel > 0.0) {
        return Err(bad(format!(
            "sn_mva {}, vn_hv_kv {}, vn_lv_kv {} and parallel {} must be positive",
            t.sn_mva, t.vn_hv_kv, t.vn_lv_kv, t.parallel
        )));
    }
    let (vnh, vnl, shift_deg) = taps(t, calculate_voltage_angles)?;
    let tap = (vnh / vnl) / (vn_hv_bus / vn_lv_bus);
    // Leakage impedance referred to the LV side (after the tap when it is there), on the system base.
    let tap_lv = (vnl / vn_lv_bus).powi(2) * sn_mva;
    let z = t.vk_percent / 100.0 / t.sn_mva * tap_lv;
    let r = t.vkr_percent / 100.0 / t.sn_mva * tap_lv;
    let x2 = z * z - r * r;
    if x2 < 0.0 {
        return Err(bad(format!(
            "vkr_percent {} exceeds vk_percent {}",
            t.vkr_percent, t.vk_percent
        )));
    }
    let (r, x) = (r / t.parallel, z.signum() * x2.sqrt() / t.parallel);
    if r == 0.0 && x == 0.0 {
        return Err(bad("zero short-circuit impedance (vk_percent is 0)".into()));
    }
    // Magnetising admittance (iron losses and open-circuit current), on the LV bus's base.
    let base_z = vn_lv_bus * vn_lv_bus / sn_mva;
    let pfe_mw = t.pfe_kw * 1e-3;
    let ym_mva = t.i0_percent / 100.0 * t.sn_mva;
    let b_mva = -(ym_mva * ym_mva - pfe_mw * pfe_mw).max(0.0).sqrt();
    let scale = base_z * t.parallel / (t.vn_lv_kv * t.vn_lv_kv) / (vnl / t.vn_lv_kv).powi(2);
    let (g, b) = (pfe_mw * scale, b_mva * scale);
    let mut p = BranchParams {
        r,
        x,
        g,
        b,
        g_asym: 0.0,
        b_asym: 0.0,
        tap,
        shift_deg,
    };
    if !(r.is_finite()
        && x.is_finite()
        && g.is_finite()
        && b.is_finite()
        && tap.is_finite()
        && shift_deg.is_finite())
    {
        return Err(bad(format!(
            "its parameters are not finite (r {r}, x {x}, g {g}, b {b} pu, ratio {tap}, shift {shift_deg}°)"
        )));
    }
    if model == TrafoModel::T && (g != 0.0 || b != 0.0) {
        wye_delta(&mut p, 0.5, 0.5);
    }
    Ok(p)
}

/// The T circuit (series impedance split `r_ratio` / `x_ratio` on the HV side, the magnetising admittance `g + jb`
/// in the middle) as its equivalent π (star–delta), in place.
fn wye_delta(p: &mut BranchParams, r_ratio: f64, x_ratio: f64) {
    let za = c64::new(p.r * r_ratio, p.x * x_ratio);
    let zb = c64::new(p.r * (1.0 - r_ratio), p.x * (1.0 - x_ratio));
    let zc = c64::new(1.0, 0.0) / c64::new(p.g, p.b);
    let sum = za * zb + za * zc + zb * zc;
    let zab = sum / zc;
    let yf = zb / sum;
    let yt = za / sum;
    p.r = zab.re;
    p.x = zab.im;
    // MATPOWER halves g and b at each end, hence the doubling.
    p.g = yf.re * 2.0;
    p.b = yf.im * 2.0;
    p.g_asym = 2.0 * yt.re - p.g;
    p.b_asym = 2.0 * yt.im - p.b;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trafo_25mva() -> Trafo {
        Trafo {
            index: 0,
            name: None,
            hv_bus: 0,
            lv_bus: 1,
            sn_mva: 25.0,
            vn_hv_kv: 110.0,
            vn_lv_kv: 20.0,
            vk_percent: 12.0,
            vkr_percent: 0.41,
            pfe_kw: 14.0,
            i0_percent: 0.07,
            shift_degree: 150.0,
            tap_side: Some("hv".into()),
            tap_neutral: 0.0,
            tap_pos: 0.0,
            tap_step_percent: 1.5,
            tap_step_degree: 0.0,
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
    fn line_pi_parameters_by_hand() {
        let l = Line {
            index: 3,
            name: None,
            from_bus: 0,
            to_bus: 1,
            length_km: 2.0,
            r_ohm_per_km: 0.1,
            x_ohm_per_km: 0.2,
            c_nf_per_km: 300.0,
            g_us_per_km: 1.0,
            max_i_ka: 0.4,
            parallel: 2.0,
            df: 1.0,
            in_service: true,
            geo: None,
            feature: None,
        };
        // Z_base = 20² / 1 = 400 Ω.
        let p = line(&l, 20.0, 1.0, 50.0).expect("valid");
        assert!((p.r - 0.1 * 2.0 / 400.0 / 2.0).abs() < 1e-15);
        assert!((p.x - 0.2 * 2.0 / 400.0 / 2.0).abs() < 1e-15);
        assert!((p.b - 2.0 * PI * 50.0 * 300e-9 * 400.0 * 2.0 * 2.0).abs() < 1e-15);
        assert!((p.g - 1e-6 * 400.0 * 2.0 * 2.0).abs() < 1e-15);
        assert_eq!((p.tap, p.shift_deg), (1.0, 0.0));
        let mut zero = l.clone();
        zero.length_km = 0.0;
        assert!(matches!(
            line(&zero, 20.0, 1.0, 50.0),
            Err(PowerError::BadParameter { index: 3, .. })
        ));
    }

    #[test]
    fn ratio_taps_on_either_side() {
        let mut t = trafo_25mva();
        t.tap_pos = 2.0;
        let p = trafo(&t, 110.0, 20.0, 1.0, TrafoModel::Pi, true).expect("valid");
        // +2 steps of 1.5 % on the HV side: the ratio rises by 3 %, the impedance (LV side) stays.
        assert!((p.tap - 1.03).abs() < 1e-12, "{}", p.tap);
        assert!((p.shift_deg - 150.0).abs() < 1e-12);
        let z = 0.12 / 25.0;
        assert!(((p.r * p.r + p.x * p.x).sqrt() - z).abs() < 1e-12);
        t.tap_side = Some("lv".into());
        let p = trafo(&t, 110.0, 20.0, 1.0, TrafoModel::Pi, true).expect("valid");
        // On the LV side the LV rated voltage rises: a lower ratio, a larger impedance on the LV base.
        assert!((p.tap - 1.0 / 1.03).abs() < 1e-12, "{}", p.tap);
        assert!(((p.r * p.r + p.x * p.x).sqrt() - z * 1.03 * 1.03).abs() < 1e-12);
        // Without a changer type (pandapower's default) the position has no effect.
        t.tap_changer_type = None;
        let p = trafo(&t, 110.0, 20.0, 1.0, TrafoModel::Pi, true).expect("valid");
        assert_eq!(p.tap, 1.0);
    }

    #[test]
    fn ideal_and_angled_taps_shift_the_phase() {
        let mut t = trafo_25mva();
        t.tap_changer_type = Some("Ideal".into());
        t.tap_step_percent = f64::NAN;
        t.tap_step_degree = 2.0;
        t.tap_pos = 3.0;
        let p = trafo(&t, 110.0, 20.0, 1.0, TrafoModel::Pi, false).expect("valid");
        assert!(
            (p.shift_deg - 6.0).abs() < 1e-12,
            "the shift_degree is off, the tap's is not"
        );
        assert_eq!(p.tap, 1.0);
        t.tap_changer_type = Some("Ratio".into());
        t.tap_step_percent = 1.0;
        t.tap_step_degree = 90.0;
        let p = trafo(&t, 110.0, 20.0, 1.0, TrafoModel::Pi, false).expect("valid");
        // A 3 % step at right angles: |1 + 0.03j| and atan(0.03).
        assert!((p.tap - (1.0f64 + 0.03 * 0.03).sqrt()).abs() < 1e-12);
        assert!((p.shift_deg - 0.03f64.atan().to_degrees()).abs() < 1e-12);
    }

    #[test]
    fn t_model_is_the_star_delta_of_its_t_circuit() {
        let t = trafo_25mva();
        let pi = trafo(&t, 110.0, 20.0, 1.0, TrafoModel::Pi, true).expect("valid");
        let tt = trafo(&t, 110.0, 20.0, 1.0, TrafoModel::T, true).expect("valid");
        // Drive the T circuit from the HV side with the LV side shorted: Z_in = z/2 + (ym ∥ z/2).
        let z = c64::new(pi.r, pi.x);
        let ym = c64::new(pi.g, pi.b);
        let half = z / 2.0;
        let zin_t = half + (half / (c64::new(1.0, 0.0) + ym * half));
        // The π equivalent: the series branch in parallel with the HV-end shunt.
        let ys = c64::new(1.0, 0.0) / c64::new(tt.r, tt.x);
        let yf = c64::new(tt.g, tt.b) / 2.0;
        let zin_pi = c64::new(1.0, 0.0) / (ys + yf);
        assert!(
            (zin_t - zin_pi).norm() < 1e-12 * zin_t.norm(),
            "{zin_t} vs {zin_pi}"
        );
        // Symmetric split: both ends see the same shunt.
        assert!(tt.g_asym.abs() < 1e-12 && tt.b_asym.abs() < 1e-12);
        assert!(tt.b < 0.0, "the magnetising shunt is inductive");
    }
}

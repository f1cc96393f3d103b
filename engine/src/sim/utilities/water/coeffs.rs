//! Link head-loss coefficients and the assembly of the linear system, after EPANET 2.2's `hydcoeffs.c`.
//!
//! For each link, `P = 1 / (dh/dq)` and `Y = h / (dh/dq)` linearise its head loss `h(q)` at the current flow;
//! the gradient method's flow update is then `dq = Y − P·(H1 − H2)`. Emitters and pressure-driven demands are
//! fictitious links to a reservoir at the junction's elevation. Active PRVs, PSVs and FCVs add their own terms.

use super::hydraulics::Hydraulics;
use super::model::Status;
use super::model::{interp_segment, LinkType, PumpType, CBIG, CSMALL, MISSING, TINY};
use super::network::{HeadLoss, ValveKind};

// Darcy–Weisbach friction-factor constants (EPANET's A1…AC).
const A1: f64 = 3.141_592_653_589_793_4e3; // 1000π
const A2: f64 = 1.570_796_326_794_896_7e3; // 500π
const A8: f64 = 4.618_413_198_590_667; // 5.74 (π/4)^0.9
const A9: f64 = -8.685_889_638_065_036e-1; // −2/ln 10
const AB: f64 = 3.288_954_763_453_990_7e-3; // 5.74 / 4000^0.9
const AC: f64 = -5.142_149_657_990_939e-3; // AA·AB

impl Hydraulics {
    /// Computes `P` and `Y` for every link (EPANET's `headlosscoeffs`).
    pub(super) fn headloss_coeffs(&mut self) {
        for k in 0..self.m.nlinks {
            match self.m.ltype[k] {
                LinkType::Pipe | LinkType::CvPipe => self.pipe_coeff(k),
                LinkType::Pump(p) => self.pump_coeff(k, p),
                LinkType::Valve(ValveKind::Pbv) => self.pbv_coeff(k),
                LinkType::Valve(ValveKind::Tcv) => self.tcv_coeff(k),
                LinkType::Valve(ValveKind::Gpv) => self.gpv_coeff(k),
                LinkType::Valve(ValveKind::Prv | ValveKind::Psv | ValveKind::Fcv) => {
                    if self.setting[k] == MISSING {
                        self.valve_coeff(k, self.m.km[k]);
                    } else {
                        self.p[k] = 0.0;
                    }
                }
            }
        }
    }

    fn pipe_coeff(&mut self, k: usize) {
        if self.status[k].is_closed() {
            self.p[k] = 1.0 / CBIG;
            self.y[k] = self.flow[k];
            return;
        }
        if self.m.headloss == HeadLoss::DarcyWeisbach {
            self.dw_pipe_coeff(k);
            return;
        }
        let q = self.flow[k].abs();
        let ml = self.m.km[k];
        let r = self.m.r[k];
        let hexp = self.m.hexp;
        let mut hgrad = hexp * r * q.powf(hexp - 1.0);
        let mut hloss;
        if hgrad < self.m.rqtol {
            hgrad = self.m.rqtol;
            hloss = hgrad * q;
        } else {
            hloss = hgrad * q / hexp;
        }
        if ml > 0.0 {
            hloss += ml * q * q;
            hgrad += 2.0 * ml * q;
        }
        hloss *= sgn(self.flow[k]);
        self.p[k] = 1.0 / hgrad;
        self.y[k] = hloss / hgrad;
    }

    fn dw_pipe_coeff(&mut self, k: usize) {
        let q = self.flow[k].abs();
        let r = self.m.r[k];
        let ml = self.m.km[k];
        let d = self.m.diam[k];
        let e = self.m.kc[k] / d;
        let s = self.m.viscos * d;
        let (hloss, hgrad);
        if q <= A2 * s {
            let rl = 16.0 * std::f64::consts::PI * s * r;
            hloss = self.flow[k] * (rl + ml * q);
            hgrad = rl + 2.0 * ml * q;
        } else {
            let (f, dfdq) = friction_factor(q, e, s);
            let r1 = f * r + ml;
            hloss = r1 * q * self.flow[k];
            hgrad = 2.0 * r1 * q + dfdq * r * q * q;
        }
        self.p[k] = 1.0 / hgrad;
        self.y[k] = hloss / hgrad;
    }

    fn pump_coeff(&mut self, k: usize, pi: usize) {
        let setting = self.setting[k];
        if self.status[k].is_closed() || setting == 0.0 {
            self.p[k] = 1.0 / CBIG;
            self.y[k] = self.flow[k];
            return;
        }
        let q = self.flow[k].abs();
        let pump = &self.m.pumps[pi];
        let (hloss, hgrad);
        match pump.ptype {
            PumpType::Custom => {
                // Segment of the curve bracketing the speed-adjusted flow; head loss = −gain.
                let (h0, r) = interp_segment(&pump.curve, q / setting);
                let (ph0, pr) = (-h0, -r);
                hgrad = pr * setting;
                hloss = ph0 * setting * setting + hgrad * self.flow[k];
            }
            _ => {
                let h0 = setting * setting * pump.h0;
                let mut n = pump.n;
                if (n - 1.0).abs() < TINY {
                    n = 1.0;
                }
                let r = pump.r * setting.powf(2.0 - n);
                if pump.ptype == PumpType::ConstHp {
                    let g = -r / q / q;
                    if g > CBIG {
                        hgrad = CBIG;
                        hloss = -hgrad * self.flow[k];
                    } else if g < self.m.rqtol {
                        hgrad = self.m.rqtol;
                        hloss = -hgrad * self.flow[k];
                    } else {
                        hgrad = g;
                        hloss = r / self.flow[k];
                    }
                } else if n != 1.0 {
                    let g = n * r * q.powf(n - 1.0);
                    if g < self.m.rqtol {
                        hgrad = self.m.rqtol;
                        hloss = h0 + hgrad * self.flow[k];
                    } else {
                        hgrad = g;
                        hloss = h0 + hgrad * self.flow[k] / n;
                    }
                } else {
                    hgrad = r;
                    hloss = h0 + hgrad * self.flow[k];
                }
            }
        }
        self.p[k] = 1.0 / hgrad;
        self.y[k] = hloss / hgrad;
    }

    fn gpv_coeff(&mut self, k: usize) {
        if self.status[k] == Status::Closed {
            self.valve_coeff(k, self.m.km[k]);
            return;
        }
        let q = self.flow[k].abs().max(TINY);
        let curve = self.m.gpv_curve[k]
            .as_deref()
            .expect("GPVs have a curve (checked in Model::new)");
        let (h0, r) = interp_segment(curve, q);
        let r = r.max(TINY);
        self.p[k] = 1.0 / r;
        self.y[k] = (h0 / r + q) * sgn(self.flow[k]);
    }

    fn pbv_coeff(&mut self, k: usize) {
        let s = self.setting[k];
        // Fixed open or closed, or a minor loss above the setting: an ordinary valve.
        if s == MISSING || s == 0.0 || self.m.km[k] * self.flow[k] * self.flow[k] > s {
            self.valve_coeff(k, self.m.km[k]);
        } else {
            self.p[k] = CBIG;
            self.y[k] = s * CBIG;
        }
    }

    fn tcv_coeff(&mut self, k: usize) {
        let s = self.setting[k];
        let km = if s != MISSING {
            let d = self.m.diam[k];
            0.02517 * s / (d * d) / (d * d)
        } else {
            self.m.km[k]
        };
        self.valve_coeff(k, km);
    }

    /// An open, closed or throttled valve with minor-loss coefficient `km` (EPANET's `valvecoeff`).
    pub(super) fn valve_coeff(&mut self, k: usize, km: f64) {
        let flow = self.flow[k];
        if self.status[k].is_closed() {
            self.p[k] = 1.0 / CBIG;
            self.y[k] = flow;
            return;
        }
        if km > 0.0 {
            let q = flow.abs();
            let mut hgrad = 2.0 * km * q;
            let hloss;
            if hgrad < self.m.rqtol {
                hgrad = self.m.rqtol;
                hloss = flow * hgrad;
            } else {
                hloss = flow * hgrad / 2.0;
            }
            self.p[k] = 1.0 / hgrad;
            self.y[k] = hloss / hgrad;
        } else {
            self.p[k] = 1.0 / CSMALL;
            self.y[k] = flow;
        }
    }

    /// Assembles `A` and `F` (EPANET's `matrixcoeffs`).
    pub(super) fn matrix_coeffs(&mut self) {
        self.ls.clear();
        self.xflow.fill(0.0);
        self.link_coeffs();
        self.emitter_coeffs();
        self.demand_coeffs();
        self.node_coeffs();
        self.valve_coeffs();
    }

    fn link_coeffs(&mut self) {
        let nj = self.m.njuncs;
        for k in 0..self.m.nlinks {
            let p = self.p[k];
            if p == 0.0 {
                continue;
            }
            let (n1, n2) = (self.m.from[k], self.m.to[k]);
            self.xflow[n1] -= self.flow[k];
            self.xflow[n2] += self.flow[k];
            if let Some(s) = self.ndx[k] {
                self.ls.aij[s] -= p;
            }
            if n1 < nj {
                self.ls.aii[n1] += p;
                self.ls.f[n1] += self.y[k];
            } else if n2 < nj {
                self.ls.f[n2] += p * self.head[n1];
            }
            if n2 < nj {
                self.ls.aii[n2] += p;
                self.ls.f[n2] -= self.y[k];
            } else if n1 < nj {
                self.ls.f[n1] += p * self.head[n2];
            }
        }
    }

    fn node_coeffs(&mut self) {
        for i in 0..self.m.njuncs {
            self.xflow[i] -= self.demand_flow[i];
            self.ls.f[i] += self.xflow[i];
        }
    }

    fn emitter_coeffs(&mut self) {
        for i in 0..self.m.njuncs {
            if self.ke[i] == 0.0 {
                continue;
            }
            let (hloss, hgrad) = self.emitter_headloss(i);
            self.ls.aii[i] += 1.0 / hgrad;
            self.ls.f[i] += (hloss + self.m.el[i]) / hgrad;
            self.xflow[i] -= self.emitter_flow[i];
        }
    }

    /// Head loss and gradient of junction `i`'s emitter at its current flow.
    pub(super) fn emitter_headloss(&self, i: usize) -> (f64, f64) {
        let ke = self.ke[i].max(CSMALL);
        let q = self.emitter_flow[i];
        let qexp = self.m.qexp;
        let hgrad = qexp * ke * q.abs().powf(qexp - 1.0);
        if hgrad < self.m.rqtol {
            (self.m.rqtol * q, self.m.rqtol)
        } else {
            (hgrad * q / qexp, hgrad)
        }
    }

    fn demand_coeffs(&mut self) {
        if !self.m.pda {
            return;
        }
        let dp = self.m.preq - self.m.pmin;
        let n = 1.0 / self.m.pexp;
        for i in 0..self.m.njuncs {
            if self.node_demand[i] <= 0.0 {
                continue;
            }
            let (hloss, hgrad) = self.demand_headloss(i, dp, n);
            if hgrad > 0.0 {
                self.ls.aii[i] += 1.0 / hgrad;
                self.ls.f[i] += (hloss + self.m.el[i] + self.m.pmin) / hgrad;
            }
        }
    }

    /// Head loss and gradient for delivering junction `i`'s pressure-driven demand (EPANET's `demandheadloss`).
    pub(super) fn demand_headloss(&self, i: usize, dp: f64, n: f64) -> (f64, f64) {
        let d = self.demand_flow[i];
        let dfull = self.node_demand[i];
        let r = d / dfull;
        if r <= 0.0 {
            (CBIG * d, CBIG)
        } else if r < 1.0 {
            let hgrad = n * dp * r.powf(n - 1.0) / dfull;
            if hgrad < self.m.rqtol {
                (self.m.rqtol * d, self.m.rqtol)
            } else {
                (hgrad * d / n, hgrad)
            }
        } else {
            (dp + CBIG * (d - dfull), CBIG)
        }
    }

    fn valve_coeffs(&mut self) {
        for vi in 0..self.m.valves.len() {
            let k = self.m.valves[vi];
            if self.setting[k] == MISSING {
                continue;
            }
            let (n1, n2) = (self.m.from[k], self.m.to[k]);
            match self.m.ltype[k] {
                LinkType::Valve(ValveKind::Prv) => self.prv_coeff(k, n1, n2),
                LinkType::Valve(ValveKind::Psv) => self.psv_coeff(k, n1, n2),
                LinkType::Valve(ValveKind::Fcv) => self.fcv_coeff(k, n1, n2),
                _ => {}
            }
        }
    }

    /// Adds an open, closed or throttled control valve like a pipe whose flow is not yet in the nodal balance.
    fn add_valve_as_link(&mut self, k: usize, n1: usize, n2: usize) {
        self.valve_coeff(k, self.m.km[k]);
        let p = self.p[k];
        if let Some(s) = self.ndx[k] {
            self.ls.aij[s] -= p;
        }
        let d = self.y[k] - self.flow[k];
        let nj = self.m.njuncs;
        if n1 < nj {
            self.ls.aii[n1] += p;
            self.ls.f[n1] += d;
        }
        if n2 < nj {
            self.ls.aii[n2] += p;
            self.ls.f[n2] -= d;
        }
    }

    fn prv_coeff(&mut self, k: usize, n1: usize, n2: usize) {
        let hset = self.m.el[n2] + self.setting[k];
        if self.status[k] == Status::Active {
            self.p[k] = 0.0;
            self.y[k] = self.flow[k] + self.xflow[n2];
            // PRVs join junctions only (EPANET refuses a PRV at a tank).
            self.ls.f[n2] += hset * CBIG;
            self.ls.aii[n2] += CBIG;
            if self.xflow[n2] < 0.0 {
                self.ls.f[n1] += self.xflow[n2];
            }
            return;
        }
        self.add_valve_as_link(k, n1, n2);
    }

    fn psv_coeff(&mut self, k: usize, n1: usize, n2: usize) {
        let hset = self.m.el[n1] + self.setting[k];
        if self.status[k] == Status::Active {
            self.p[k] = 0.0;
            self.y[k] = self.flow[k] - self.xflow[n1];
            self.ls.f[n1] += hset * CBIG;
            self.ls.aii[n1] += CBIG;
            if self.xflow[n1] > 0.0 {
                self.ls.f[n2] += self.xflow[n1];
            }
            return;
        }
        self.add_valve_as_link(k, n1, n2);
    }

    fn fcv_coeff(&mut self, k: usize, n1: usize, n2: usize) {
        let q = self.setting[k];
        if self.status[k] == Status::Active {
            self.xflow[n1] -= q;
            self.xflow[n2] += q;
            self.y[k] = self.flow[k] - q;
            self.ls.f[n1] -= q;
            self.ls.f[n2] += q;
            self.p[k] = 1.0 / CBIG;
            let p = self.p[k];
            if let Some(s) = self.ndx[k] {
                self.ls.aij[s] -= p;
            }
            self.ls.aii[n1] += p;
            self.ls.aii[n2] += p;
            return;
        }
        self.add_valve_as_link(k, n1, n2);
    }
}

/// Darcy–Weisbach friction factor and its derivative with respect to flow (EPANET's `frictionFactor`):
/// Swamee–Jain above Re 4000, Dunlop's cubic between 2000 and 4000.
fn friction_factor(q: f64, e: f64, s: f64) -> (f64, f64) {
    let w = q / s;
    if w >= A1 {
        let y1 = A8 / w.powf(0.9);
        let y2 = e / 3.7 + y1;
        let y3 = A9 * y2.ln();
        let f = 1.0 / (y3 * y3);
        (f, 1.8 * f * y1 * A9 / y2 / y3 / q)
    } else {
        let y2 = e / 3.7 + AB;
        let y3 = A9 * y2.ln();
        let fa = 1.0 / (y3 * y3);
        let fb = (2.0 + AC / (y2 * y3)) * fa;
        let r = w / A2;
        let x1 = 7.0 * fa - fb;
        let x2 = 0.128 - 17.0 * fa + 2.5 * fb;
        let x3 = -0.128 + 13.0 * fa - (fb + fb);
        let x4 = 0.032 - 3.0 * fa + 0.5 * fb;
        let f = x1 + r * (x2 + r * (x3 + r * x4));
        (f, (x2 + r * (2.0 * x3 + r * 3.0 * x4)) / s / A2)
    }
}

/// EPANET's `SGN`: −1 for negative values, else 1.
#[inline]
pub(super) fn sgn(x: f64) -> f64 {
    if x < 0.0 {
        -1.0
    } else {
        1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn friction_factor_is_continuous_at_re_4000_and_near_colebrook() {
        // s = ν·d; w = q/s = Re·π/4.
        let s = 1.0;
        let e = 1e-4;
        let below = friction_factor(A1 * (1.0 - 1e-9), e, s).0;
        let above = friction_factor(A1 * (1.0 + 1e-9), e, s).0;
        assert!((below - above).abs() < 1e-3 * above, "{below} vs {above}");
        // Re = 1e5, smooth-ish pipe: Moody gives about 0.018–0.019.
        let w = 1e5 * std::f64::consts::PI / 4.0;
        let f = friction_factor(w * s, e, s).0;
        assert!((0.017..0.02).contains(&f), "f = {f}");
    }
}

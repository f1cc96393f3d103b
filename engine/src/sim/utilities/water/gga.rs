//! The global gradient algorithm (Todini & Pilati 1988) as EPANET 2.2 runs it (`hydsolver.c`): repeated
//! linearisation, a sparse solve for junction heads, a Newton update of every link, emitter and pressure-driven
//! demand flow, with status checks at EPANET's cadence until the total relative flow change falls below the
//! accuracy and no status changes.

use super::hydraulics::Hydraulics;
use super::model::{LinkType, PumpType, Status, MINPDIFF};
use super::network::ValveKind;

/// Outcome of one hydraulic solution.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SolveInfo {
    /// Trials used.
    pub trials: u32,
    /// Final relative flow change (Σ|dq| / Σ|q|).
    pub relative_error: f64,
    /// Whether it met the accuracy.
    pub converged: bool,
}

/// A solution that could not be computed.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum SolveFailure {
    /// The linear system was singular at this node (EPANET error 110).
    IllConditioned(usize),
}

impl Hydraulics {
    /// Solves the network equations at the current time (EPANET's `hydsolve`).
    pub(super) fn hydsolve(&mut self) -> Result<SolveInfo, SolveFailure> {
        let mut nextcheck = self.m.check_freq;
        self.relax = 1.0;
        let max_iter = self.m.max_iter;
        let maxtrials = max_iter + self.m.extra_iter.unwrap_or(0);
        let mut iter: u32 = 1;
        let mut relerr = 0.0;
        let mut converged = false;
        while iter <= maxtrials {
            self.headloss_coeffs();
            self.matrix_coeffs();
            if let Err(row) = self.ls.solve() {
                if self.bad_valve(row) {
                    continue;
                }
                return Err(SolveFailure::IllConditioned(row));
            }
            self.head[..self.m.njuncs].copy_from_slice(&self.ls.f);
            relerr = self.new_flows();
            tracing::trace!(target: "citytwin::water", time_s = self.htime, iter, relerr, "trial");

            self.relax = 1.0;
            let mut valve_change = false;
            if self.m.damp_limit > 0.0 {
                if relerr <= self.m.damp_limit {
                    self.relax = 0.6;
                    valve_change = self.valve_status();
                }
            } else {
                valve_change = self.valve_status();
            }

            if self.has_converged(relerr) {
                converged = true;
                if iter > max_iter {
                    break;
                }
                let mut stat_change = valve_change;
                stat_change |= self.link_status();
                stat_change |= self.pressure_switch();
                if !stat_change {
                    break;
                }
                converged = false;
                nextcheck = iter + self.m.check_freq;
            } else if iter <= self.m.max_check && iter == nextcheck {
                self.link_status();
                nextcheck += self.m.check_freq;
            }
            iter += 1;
        }
        // Junction outflow actually delivered; the full demand is kept for pressure-driven runs.
        for i in 0..self.m.njuncs {
            let full = self.node_demand[i];
            self.node_demand[i] = self.demand_flow[i] + self.emitter_flow[i];
            self.demand_flow[i] = full;
        }
        Ok(SolveInfo {
            trials: iter.min(maxtrials),
            relative_error: relerr,
            converged,
        })
    }

    /// Fixes an active control valve at node `n` to "cannot deliver" (EPANET's `badvalve`). Returns whether one
    /// was found.
    fn bad_valve(&mut self, n: usize) -> bool {
        for vi in 0..self.m.valves.len() {
            let k = self.m.valves[vi];
            let (n1, n2) = (self.m.from[k], self.m.to[k]);
            if n == n1 || n == n2 {
                if let LinkType::Valve(t @ (ValveKind::Prv | ValveKind::Psv | ValveKind::Fcv)) =
                    self.m.ltype[k]
                {
                    if self.status[k] == Status::Active {
                        self.status[k] = if t == ValveKind::Fcv {
                            Status::XFcv
                        } else {
                            Status::XPressure
                        };
                        return true;
                    }
                }
                return false;
            }
        }
        false
    }

    /// Updates link, emitter and demand flows from the new heads; returns the relative flow change.
    fn new_flows(&mut self) -> f64 {
        let mut qsum = 0.0;
        let mut dqsum = 0.0;
        self.max_flow_change = 0.0;
        let nj = self.m.njuncs;
        for n in nj..self.m.nnodes {
            self.node_demand[n] = 0.0;
        }
        for k in 0..self.m.nlinks {
            let (n1, n2) = (self.m.from[k], self.m.to[k]);
            let dh = self.head[n1] - self.head[n2];
            let mut dq = self.y[k] - self.p[k] * dh;
            dq *= self.relax;
            // A constant-power pump's flow may not change sign: a change beyond its flow halves it instead.
            // A change equal to the flow up to rounding (a pump feeding a dead end, where the linearised
            // equations give exactly zero flow) counts as equal: EPANET lands on either side by chance.
            if let LinkType::Pump(p) = self.m.ltype[k] {
                if self.m.pumps[p].ptype == PumpType::ConstHp
                    && dq - self.flow[k] > 1e-9 * self.flow[k].abs()
                {
                    dq = self.flow[k] / 2.0;
                }
            }
            self.flow[k] -= dq;
            qsum += self.flow[k].abs();
            dqsum += dq.abs();
            self.max_flow_change = self.max_flow_change.max(dq.abs());
            if self.status[k] > Status::Closed {
                if n1 >= nj {
                    self.node_demand[n1] -= self.flow[k];
                }
                if n2 >= nj {
                    self.node_demand[n2] += self.flow[k];
                }
            }
        }
        for i in 0..nj {
            if self.ke[i] == 0.0 {
                continue;
            }
            let (hloss, hgrad) = self.emitter_headloss(i);
            let dh = self.head[i] - self.m.el[i];
            let dq = (hloss - dh) / hgrad * self.relax;
            self.emitter_flow[i] -= dq;
            qsum += self.emitter_flow[i].abs();
            dqsum += dq.abs();
            self.max_flow_change = self.max_flow_change.max(dq.abs());
        }
        if self.m.pda {
            let dp = (self.m.preq - self.m.pmin).max(MINPDIFF);
            let n = 1.0 / self.m.pexp;
            for i in 0..nj {
                if self.node_demand[i] <= 0.0 {
                    continue;
                }
                let (hloss, hgrad) = self.demand_headloss(i, dp, n);
                let dh = self.head[i] - self.m.el[i] - self.m.pmin;
                let dq = (hloss - dh) / hgrad * self.relax;
                self.demand_flow[i] -= dq;
                qsum += self.demand_flow[i].abs();
                dqsum += dq.abs();
                self.max_flow_change = self.max_flow_change.max(dq.abs());
            }
        }
        if qsum > self.m.hacc {
            dqsum / qsum
        } else {
            dqsum
        }
    }

    /// EPANET's `hasconverged` (with `checkhydbalance` and `pdaconverged`).
    fn has_converged(&mut self, relerr: f64) -> bool {
        if relerr > self.m.hacc {
            return false;
        }
        if self.m.head_error_limit > 0.0 && self.max_head_error() > self.m.head_error_limit {
            return false;
        }
        if self.m.flow_change_limit > 0.0 && self.max_flow_change > self.m.flow_change_limit {
            return false;
        }
        if self.m.pda {
            return self.pda_converged();
        }
        true
    }

    /// Largest difference between a link's head loss and the heads across it, ft.
    fn max_head_error(&mut self) -> f64 {
        self.headloss_coeffs();
        let mut worst: f64 = 0.0;
        for k in 0..self.m.nlinks {
            if self.status[k].is_closed() || self.p[k] == 0.0 {
                continue;
            }
            let dh = self.head[self.m.from[k]] - self.head[self.m.to[k]];
            worst = worst.max((dh - self.y[k] / self.p[k]).abs());
        }
        worst
    }

    fn pda_converged(&self) -> bool {
        const TOL: f64 = 0.001;
        let mut ok = true;
        for i in 0..self.m.njuncs {
            if self.node_demand[i] <= 0.0 {
                continue;
            }
            if self.demand_flow[i] < -TOL {
                ok = false;
            }
            if self.demand_flow[i] > TOL && self.head[i] - self.m.el[i] - self.m.pmin < -TOL {
                ok = false;
            }
        }
        ok
    }
}

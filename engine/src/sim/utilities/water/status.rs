//! Link status logic after EPANET 2.2's `hydstatus.c`: check valves, pumps that cannot deliver their head,
//! pressure-reducing and -sustaining valves, flow control valves, and links to full or empty tanks.

use super::hydraulics::Hydraulics;
use super::model::{LinkType, PumpType, Status, BIG, MISSING};
use super::network::ValveKind;

impl Hydraulics {
    /// Updates PRV and PSV statuses from the current heads and flows (EPANET's `valvestatus`). Returns whether any
    /// changed.
    pub(super) fn valve_status(&mut self) -> bool {
        let mut change = false;
        for vi in 0..self.m.valves.len() {
            let k = self.m.valves[vi];
            if self.setting[k] == MISSING {
                continue;
            }
            let (n1, n2) = (self.m.from[k], self.m.to[k]);
            let s = self.status[k];
            let new = match self.m.ltype[k] {
                LinkType::Valve(ValveKind::Prv) => {
                    let hset = self.m.el[n2] + self.setting[k];
                    self.prv_status(k, s, hset, self.head[n1], self.head[n2])
                }
                LinkType::Valve(ValveKind::Psv) => {
                    let hset = self.m.el[n1] + self.setting[k];
                    self.psv_status(k, s, hset, self.head[n1], self.head[n2])
                }
                _ => continue,
            };
            self.status[k] = new;
            change |= new != s;
        }
        change
    }

    /// Updates check valves, pumps, flow control valves and links to tanks (EPANET's `linkstatus`). Returns
    /// whether any status changed.
    pub(super) fn link_status(&mut self) -> bool {
        let mut change = false;
        for k in 0..self.m.nlinks {
            let (n1, n2) = (self.m.from[k], self.m.to[k]);
            let dh = self.head[n1] - self.head[n2];
            let status = self.status[k];
            if status == Status::XHead || status == Status::TempClosed {
                self.status[k] = Status::Open;
            }
            match self.m.ltype[k] {
                LinkType::CvPipe => {
                    self.status[k] = self.cv_status(self.status[k], dh, self.flow[k]);
                }
                LinkType::Pump(p) if self.status[k] >= Status::Open && self.setting[k] > 0.0 => {
                    self.status[k] = self.pump_status(k, p, -dh);
                }
                LinkType::Valve(ValveKind::Fcv) if self.setting[k] != MISSING => {
                    self.status[k] = self.fcv_status(k, status, self.head[n1], self.head[n2]);
                }
                _ => {}
            }
            if !self.m.is_junction(n1) || !self.m.is_junction(n2) {
                self.tank_status(k, n1, n2);
            }
            change |= status != self.status[k];
        }
        change
    }

    fn cv_status(&self, s: Status, dh: f64, q: f64) -> Status {
        let (htol, qtol) = (self.m.htol, self.m.qtol);
        if dh.abs() > htol {
            if dh < -htol || q < -qtol {
                Status::Closed
            } else {
                Status::Open
            }
        } else if q < -qtol {
            Status::Closed
        } else {
            s
        }
    }

    fn pump_status(&self, k: usize, p: usize, dh: f64) -> Status {
        let pump = &self.m.pumps[p];
        let hmax = if pump.ptype == PumpType::ConstHp {
            BIG
        } else {
            self.setting[k] * self.setting[k] * pump.hmax
        };
        if dh > hmax + self.m.htol {
            Status::XHead
        } else {
            Status::Open
        }
    }

    fn prv_status(&self, k: usize, s: Status, hset: f64, h1: f64, h2: f64) -> Status {
        let htol = self.m.htol;
        let q = self.flow[k];
        let hml = self.m.km[k] * q * q;
        match s {
            Status::Active => {
                if q < -self.m.qtol {
                    Status::Closed
                } else if h1 - hml < hset - htol {
                    Status::Open
                } else {
                    Status::Active
                }
            }
            Status::Open => {
                if q < -self.m.qtol {
                    Status::Closed
                } else if h2 >= hset + htol {
                    Status::Active
                } else {
                    Status::Open
                }
            }
            Status::Closed => {
                if h1 >= hset + htol && h2 < hset - htol {
                    Status::Active
                } else if h1 < hset - htol && h1 > h2 + htol {
                    Status::Open
                } else {
                    Status::Closed
                }
            }
            Status::XPressure if q < -self.m.qtol => Status::Closed,
            other => other,
        }
    }

    fn psv_status(&self, k: usize, s: Status, hset: f64, h1: f64, h2: f64) -> Status {
        let htol = self.m.htol;
        let q = self.flow[k];
        let hml = self.m.km[k] * q * q;
        match s {
            Status::Active => {
                if q < -self.m.qtol {
                    Status::Closed
                } else if h2 + hml > hset + htol {
                    Status::Open
                } else {
                    Status::Active
                }
            }
            Status::Open => {
                if q < -self.m.qtol {
                    Status::Closed
                } else if h1 < hset - htol {
                    Status::Active
                } else {
                    Status::Open
                }
            }
            Status::Closed => {
                if h2 > hset + htol && h1 > h2 + htol {
                    Status::Open
                } else if h1 >= hset + htol && h1 > h2 + htol {
                    Status::Active
                } else {
                    Status::Closed
                }
            }
            Status::XPressure if q < -self.m.qtol => Status::Closed,
            other => other,
        }
    }

    fn fcv_status(&self, k: usize, s: Status, h1: f64, h2: f64) -> Status {
        let q = self.flow[k];
        if h1 - h2 < -self.m.htol || q < -self.m.qtol {
            Status::XFcv
        } else if s == Status::XFcv && q >= self.setting[k] {
            Status::Active
        } else {
            s
        }
    }

    /// Closes, for now, links that would fill a full tank or drain an empty one (EPANET's `tankstatus`).
    fn tank_status(&mut self, k: usize, n1: usize, n2: usize) {
        if self.status[k].is_closed() {
            return;
        }
        let nj = self.m.njuncs;
        let mut q = self.flow[k];
        let (tn, other) = if n1 >= nj {
            (n1, n2)
        } else if n2 >= nj {
            q = -q;
            (n2, n1)
        } else {
            return;
        };
        let tank = &self.m.tanks[tn - nj];
        if tank.area == 0.0 {
            return;
        }
        let h = self.head[tn] - self.head[other];
        let is_pump = matches!(self.m.ltype[k], LinkType::Pump(_));
        if self.head[tn] >= tank.hmax - self.m.htol && !tank.overflow {
            if is_pump {
                if self.m.to[k] == tn {
                    self.status[k] = Status::TempClosed;
                }
            } else if self.cv_status(Status::Open, h, q) == Status::Closed {
                self.status[k] = Status::TempClosed;
            }
        }
        let tank = &self.m.tanks[tn - nj];
        if self.head[tn] <= tank.hmin + self.m.htol {
            if is_pump {
                if self.m.from[k] == tn {
                    self.status[k] = Status::TempClosed;
                }
            } else if self.cv_status(Status::Closed, h, q) == Status::Open {
                self.status[k] = Status::TempClosed;
            }
        }
    }

    /// Applies simple controls on junction pressures after a converged solution (EPANET's `pswitch`). Returns
    /// whether any link changed.
    pub(super) fn pressure_switch(&mut self) -> bool {
        use super::model::ControlType;
        let mut any = false;
        for ci in 0..self.m.controls.len() {
            let c = &self.m.controls[ci];
            let k = c.link;
            let Some(n) = c.node else { continue };
            if !self.m.is_junction(n) {
                continue;
            }
            let reset = match c.ctype {
                ControlType::LowLevel => self.head[n] <= c.grade + self.m.htol,
                ControlType::HiLevel => self.head[n] >= c.grade - self.m.htol,
                _ => false,
            };
            if !reset {
                continue;
            }
            let s = self.status[k];
            let change = match self.m.ltype[k] {
                LinkType::Pipe | LinkType::CvPipe => s != c.status,
                LinkType::Pump(_) => self.setting[k] != c.setting,
                LinkType::Valve(_) => {
                    self.setting[k] != c.setting || (self.setting[k] == MISSING && s != c.status)
                }
            };
            if change {
                self.status[k] = c.status;
                if !matches!(self.m.ltype[k], LinkType::Pipe | LinkType::CvPipe) {
                    self.setting[k] = c.setting;
                }
                any = true;
            }
        }
        any
    }
}

//! Extended-period hydraulics after EPANET 2.2's `hydraul.c`: initial conditions, demands and patterns, simple
//! controls, the time step (shortened to the next pattern period, report time, tank filling or emptying, control
//! or rule action, or scheduled event), and tank levels between solutions.
//!
//! [`Hydraulics`] holds the solver state. Use it period by period ([`Hydraulics::solve`], then
//! [`Hydraulics::advance`]) when something else drives the clock (a coupled simulation), or run a whole network
//! with [`super::simulate`].

use super::gga::{SolveFailure, SolveInfo};
use super::linear::LinearSystem;
use super::model::{
    interp, interp_inverse, setting_internal, ControlType, LinkType, Model, PumpType, Status,
    MISSING, QZERO,
};
use super::network::{LinkStatus, ValveKind, WaterNetwork};
use super::units::{Quantity, M_PER_FT};
use super::WaterError;

/// A change scheduled at an exact time (a scenario event: a burst, a closure, a valve or pump change).
#[derive(Clone, Debug, PartialEq)]
pub enum WaterEvent {
    /// Sets a junction's emitter coefficient (m³/s per m^exponent of pressure; 0 removes it): a burst or leak.
    SetEmitter {
        /// Junction index.
        node: usize,
        /// Coefficient, SI.
        coefficient: f64,
    },
    /// Opens or closes a link (as a rule action would).
    SetStatus {
        /// Link index.
        link: usize,
        /// New status.
        status: LinkStatus,
    },
    /// Changes a pump's speed or a valve's setting (SI, as [`super::WaterLink::setting`]).
    SetSetting {
        /// Link index.
        link: usize,
        /// New setting.
        setting: f64,
    },
}

/// An extra demand on a junction that follows a series of values, each held for `step_s` (the demand of the
/// buildings it serves, from a simulation).
#[derive(Clone, Debug, PartialEq)]
pub struct DemandSeries {
    /// Junction index.
    pub node: usize,
    /// Seconds each value holds.
    pub step_s: i64,
    /// Demand, m³/s, from time 0 (the last value holds after the end).
    pub values_m3s: Vec<f64>,
}

/// The hydraulic state of a network during an extended-period run, in internal units.
#[derive(Debug)]
pub struct Hydraulics {
    pub(super) m: Model,
    pub(super) ls: LinearSystem,
    /// Matrix slot per link (links joining two junctions).
    pub(super) ndx: Vec<Option<usize>>,
    pub(super) head: Vec<f64>,
    /// Junctions: full demand before a solution, delivered outflow after; tanks: net inflow.
    pub(super) node_demand: Vec<f64>,
    pub(super) demand_flow: Vec<f64>,
    pub(super) emitter_flow: Vec<f64>,
    pub(super) xflow: Vec<f64>,
    pub(super) flow: Vec<f64>,
    pub(super) p: Vec<f64>,
    pub(super) y: Vec<f64>,
    pub(super) setting: Vec<f64>,
    pub(super) status: Vec<Status>,
    /// Emitter coefficients (events change them).
    pub(super) ke: Vec<f64>,
    /// Tank volumes, ft³, by tank (node − njuncs).
    pub(super) tank_v: Vec<f64>,
    pub(super) relax: f64,
    pub(super) max_flow_change: f64,
    pub(super) dsystem: f64,
    pub(super) htime: i64,
    rtime: i64,
    /// Start of the interval rules are checked over (EPANET's `Time1`).
    pub(super) rule_time1: i64,
    series: Vec<DemandSeries>,
    /// Extra times a solution must fall on (sorted), beyond EPANET's own.
    breaks: Vec<i64>,
    events: Vec<(i64, WaterEvent)>,
    next_event: usize,
    /// Solutions and trials so far.
    pub(super) solutions: u64,
    pub(super) trials: u64,
}

impl Hydraulics {
    /// Prepares a network for an extended-period run at time 0 (EPANET's `openhyd` and `inithyd`).
    ///
    /// # Errors
    /// [`WaterError::InvalidNetwork`] when the network breaks one of EPANET's rules (no junctions, no source,
    /// an unconnected junction, a bad pump curve or tank levels…).
    pub fn new(net: &WaterNetwork) -> Result<Hydraulics, WaterError> {
        let m = Model::new(net)?;
        let nj = m.njuncs;
        let mut pairs = Vec::new();
        let mut pair_link = Vec::new();
        for k in 0..m.nlinks {
            if m.from[k] < nj && m.to[k] < nj {
                pairs.push((m.from[k], m.to[k]));
                pair_link.push(k);
            }
        }
        let (ls, slots) = LinearSystem::new(nj, &pairs);
        let mut ndx = vec![None; m.nlinks];
        for (i, &k) in pair_link.iter().enumerate() {
            ndx[k] = Some(slots[i]);
        }
        let (nn, nl) = (m.nnodes, m.nlinks);
        let mut h = Hydraulics {
            ls,
            ndx,
            head: vec![0.0; nn],
            node_demand: vec![0.0; nn],
            demand_flow: vec![0.0; nn],
            emitter_flow: vec![0.0; nn],
            xflow: vec![0.0; nn],
            flow: vec![0.0; nl],
            p: vec![0.0; nl],
            y: vec![0.0; nl],
            setting: vec![0.0; nl],
            status: vec![Status::Open; nl],
            ke: m.ke.clone(),
            tank_v: vec![0.0; m.tanks.len()],
            relax: 1.0,
            max_flow_change: 0.0,
            dsystem: 0.0,
            htime: 0,
            rtime: m.rstep,
            rule_time1: 0,
            series: Vec::new(),
            breaks: Vec::new(),
            events: Vec::new(),
            next_event: 0,
            solutions: 0,
            trials: 0,
            m,
        };
        h.init();
        Ok(h)
    }

    fn init(&mut self) {
        for (t, tank) in self.m.tanks.iter().enumerate() {
            self.tank_v[t] = tank.v0;
            self.head[tank.node] = tank.h0;
            self.node_demand[tank.node] = 0.0;
        }
        for i in 0..self.m.nnodes {
            self.emitter_flow[i] = if self.ke[i] > 0.0 { 1.0 } else { 0.0 };
        }
        for k in 0..self.m.nlinks {
            self.status[k] = self.m.init_status[k];
            self.setting[k] = self.m.init_setting[k];
            if matches!(
                self.m.ltype[k],
                LinkType::Valve(ValveKind::Prv | ValveKind::Psv | ValveKind::Fcv)
            ) && self.setting[k] != MISSING
            {
                self.status[k] = Status::Active;
            }
            if self.status[k].is_closed() {
                self.flow[k] = QZERO;
            } else {
                self.init_link_flow(k);
            }
        }
        self.htime = 0;
        self.rtime = self.m.rstep;
    }

    fn init_link_flow(&mut self, k: usize) {
        self.flow[k] = if self.status[k] == Status::Closed {
            QZERO
        } else if let LinkType::Pump(p) = self.m.ltype[k] {
            self.setting[k] * self.m.pumps[p].q0
        } else {
            let d = self.m.diam[k];
            std::f64::consts::PI * d * d / 4.0
        };
    }

    /// Adds demands that follow a series (on top of the network's own demands).
    pub fn add_demand_series(&mut self, s: DemandSeries) {
        self.series.push(s);
    }

    /// Makes solutions fall exactly on these times, s (a coupled simulation's output steps).
    pub fn add_breakpoints(&mut self, times: impl IntoIterator<Item = i64>) {
        self.breaks.extend(times);
        self.breaks.sort_unstable();
        self.breaks.dedup();
    }

    /// Schedules events; they apply at the start of the first solution at or after their time, and the time step
    /// is shortened so that a solution falls exactly on each.
    pub fn schedule(&mut self, events: impl IntoIterator<Item = (i64, WaterEvent)>) {
        self.events.extend(events);
        self.events.sort_by_key(|e| e.0);
    }

    /// Current time, s.
    pub fn time(&self) -> i64 {
        self.htime
    }

    /// Duration of the run, s.
    pub fn duration(&self) -> i64 {
        self.m.dur
    }

    /// Solves the network at the current time (EPANET's `runhyd`): new demands, controls and events, then the
    /// gradient method.
    ///
    /// # Errors
    /// [`WaterError::IllConditioned`] when the equations have no solution (a junction cut off from every
    /// source); [`WaterError::Unbalanced`] when the solution does not converge within the allowed trials and the
    /// network's `UNBALANCED` option is `STOP` (EPANET's default).
    pub fn solve(&mut self) -> Result<SolveInfo, WaterError> {
        self.demands();
        self.controls();
        self.apply_events();
        let info = self.hydsolve().map_err(|f| match f {
            SolveFailure::IllConditioned(n) => WaterError::IllConditioned {
                time_s: self.htime,
                node: self.m.node_ids[n].clone(),
            },
        })?;
        self.solutions += 1;
        self.trials += u64::from(info.trials);
        if info.relative_error > self.m.hacc && self.m.extra_iter.is_none() {
            return Err(WaterError::Unbalanced {
                time_s: self.htime,
                trials: info.trials,
                relative_error: info.relative_error,
            });
        }
        Ok(info)
    }

    /// Moves to the next solution time (EPANET's `nexthyd`): computes the step, updates tank levels (and
    /// evaluates rules) over it. Returns the step taken, s; 0 once the run is over.
    pub fn advance(&mut self) -> i64 {
        if self.htime < self.m.dur {
            let step = self.timestep();
            self.htime += step;
            if self.htime >= self.rtime {
                self.rtime += self.m.rstep;
            }
            step
        } else {
            self.htime += 1;
            0
        }
    }

    // ---- Demands, controls, events ----

    fn pattern_factor(&self, pat: Option<usize>, period: i64) -> f64 {
        match pat {
            Some(j) => {
                let f = &self.m.patterns[j];
                f[period.rem_euclid(f.len() as i64) as usize]
            }
            None => 1.0,
        }
    }

    /// EPANET's `demands`: junction demands, reservoir heads and pump speeds for the current pattern period.
    fn demands(&mut self) {
        let p = (self.htime + self.m.pstart) / self.m.pstep;
        self.dsystem = 0.0;
        for i in 0..self.m.njuncs {
            let mut sum = 0.0;
            for &(base, pat) in &self.m.demands[i] {
                let d = base * self.pattern_factor(pat, p) * self.m.dmult;
                if d > 0.0 {
                    self.dsystem += d;
                }
                sum += d;
            }
            self.node_demand[i] = sum;
        }
        let kq = self.m.units.internal_per_si(Quantity::Flow);
        for s in &self.series {
            if s.values_m3s.is_empty() {
                continue;
            }
            let idx = ((self.htime / s.step_s.max(1)) as usize).min(s.values_m3s.len() - 1);
            let d = s.values_m3s[idx] * kq;
            if d > 0.0 {
                self.dsystem += d;
            }
            self.node_demand[s.node] += d;
        }
        self.demand_flow[..self.m.njuncs].copy_from_slice(&self.node_demand[..self.m.njuncs]);
        for t in 0..self.m.tanks.len() {
            let tank = &self.m.tanks[t];
            if tank.area == 0.0 && tank.pattern.is_some() {
                let node = tank.node;
                self.head[node] = self.m.el[node] * self.pattern_factor(tank.pattern, p);
            }
        }
        for pi in 0..self.m.pumps.len() {
            if let Some(pat) = self.m.pumps[pi].pattern {
                let k = self.m.pumps[pi].link;
                let v = self.pattern_factor(Some(pat), p);
                self.set_link_setting(k, v);
            }
        }
    }

    /// EPANET's `controls`: tank-level and time controls at the current time. Returns how many acted.
    fn controls(&mut self) -> usize {
        let nj = self.m.njuncs;
        let mut count = 0;
        for ci in 0..self.m.controls.len() {
            let c = self.m.controls[ci].clone();
            let k = c.link;
            let mut reset = false;
            if let Some(n) = c.node {
                if n >= nj {
                    let h = self.head[n];
                    let vplus = self.node_demand[n].abs();
                    let v1 = self.tank_volume(n - nj, h);
                    let v2 = self.tank_volume(n - nj, c.grade);
                    if c.ctype == ControlType::LowLevel && v1 <= v2 + vplus {
                        reset = true;
                    }
                    if c.ctype == ControlType::HiLevel && v1 >= v2 - vplus {
                        reset = true;
                    }
                }
            }
            if c.ctype == ControlType::Timer && c.time == self.htime {
                reset = true;
            }
            if c.ctype == ControlType::TimeOfDay
                && (self.htime + self.m.tstart).rem_euclid(86_400) == c.time
            {
                reset = true;
            }
            if !reset {
                continue;
            }
            let s1 = if self.status[k].is_closed() {
                Status::Closed
            } else {
                Status::Open
            };
            let s2 = c.status;
            let k1 = self.setting[k];
            let k2 = if matches!(self.m.ltype[k], LinkType::Pipe | LinkType::CvPipe) {
                k1
            } else {
                c.setting
            };
            if matches!(self.m.ltype[k], LinkType::Pump(_))
                && s1 == Status::Closed
                && s2 == Status::Open
            {
                self.reset_pump_flow(k);
            }
            if s1 != s2 || k1 != k2 {
                self.status[k] = s2;
                self.setting[k] = k2;
                count += 1;
            }
        }
        count
    }

    fn apply_events(&mut self) {
        let kl = 1.0 / M_PER_FT;
        let kq = self.m.units.internal_per_si(Quantity::Flow);
        while self.next_event < self.events.len() && self.events[self.next_event].0 <= self.htime {
            let ev = self.events[self.next_event].1.clone();
            self.next_event += 1;
            match ev {
                WaterEvent::SetEmitter { node, coefficient } => {
                    if node < self.m.njuncs {
                        let was = self.ke[node];
                        self.ke[node] = if coefficient > 0.0 {
                            kl / (kq * coefficient).powf(self.m.qexp)
                        } else {
                            0.0
                        };
                        if was == 0.0 && self.ke[node] > 0.0 {
                            self.emitter_flow[node] = 1.0;
                        }
                        if self.ke[node] == 0.0 {
                            self.emitter_flow[node] = 0.0;
                        }
                    }
                }
                WaterEvent::SetStatus { link, status } => match status {
                    LinkStatus::Open if self.status[link].is_closed() => {
                        self.set_link_status(link, true)
                    }
                    LinkStatus::Closed if !self.status[link].is_closed() => {
                        self.set_link_status(link, false);
                    }
                    _ => {}
                },
                WaterEvent::SetSetting { link, setting } => {
                    let v = setting_internal(self.m.ltype[link], setting, kl, kq);
                    self.set_link_setting(link, v);
                }
            }
        }
    }

    /// EPANET's `setlinkstatus`.
    pub(super) fn set_link_status(&mut self, k: usize, open: bool) {
        let t = self.m.ltype[k];
        let is_pump = matches!(t, LinkType::Pump(_));
        let is_control_valve = matches!(t, LinkType::Valve(v) if v != ValveKind::Gpv);
        if open {
            if is_pump {
                self.setting[k] = 1.0;
                if self.status[k] == Status::Closed {
                    self.reset_pump_flow(k);
                }
            }
            if is_control_valve {
                self.setting[k] = MISSING;
            }
            self.status[k] = Status::Open;
        } else {
            if is_pump {
                self.setting[k] = 0.0;
            }
            if is_control_valve {
                self.setting[k] = MISSING;
            }
            self.status[k] = Status::Closed;
        }
    }

    /// EPANET's `setlinksetting`.
    pub(super) fn set_link_setting(&mut self, k: usize, value: f64) {
        match self.m.ltype[k] {
            LinkType::Pump(_) => {
                self.setting[k] = value;
                if value > 0.0 && self.status[k].is_closed() {
                    self.reset_pump_flow(k);
                    self.status[k] = Status::Open;
                }
                if value == 0.0 && !self.status[k].is_closed() {
                    self.status[k] = Status::Closed;
                }
            }
            LinkType::Valve(ValveKind::Fcv) => {
                self.setting[k] = value;
                self.status[k] = Status::Active;
            }
            _ => {
                if self.setting[k] == MISSING && self.status[k].is_closed() {
                    self.status[k] = Status::Open;
                }
                self.setting[k] = value;
            }
        }
    }

    fn reset_pump_flow(&mut self, k: usize) {
        if let LinkType::Pump(p) = self.m.ltype[k] {
            if self.m.pumps[p].ptype == PumpType::ConstHp {
                self.flow[k] = self.m.pumps[p].q0;
            }
        }
    }

    // ---- Time step and tanks ----

    /// EPANET's `timestep`, which also moves tank levels (and evaluates rules) over the step.
    fn timestep(&mut self) -> i64 {
        let mut tstep = self.m.hstep;
        let n = (self.htime + self.m.pstart) / self.m.pstep + 1;
        let t = n * self.m.pstep - self.htime;
        if t > 0 && t < tstep {
            tstep = t;
        }
        let t = self.rtime - self.htime;
        if t > 0 && t < tstep {
            tstep = t;
        }
        // Scheduled events and demand series boundaries.
        if let Some((te, _)) = self.events.get(self.next_event) {
            let t = te - self.htime;
            if t > 0 && t < tstep {
                tstep = t;
            }
        }
        let next = self.breaks.partition_point(|&b| b <= self.htime);
        if let Some(b) = self.breaks.get(next) {
            let t = b - self.htime;
            if t > 0 && t < tstep {
                tstep = t;
            }
        }
        for s in &self.series {
            let step = s.step_s.max(1);
            let t = (self.htime / step + 1) * step - self.htime;
            if t > 0 && t < tstep {
                tstep = t;
            }
        }
        self.tank_timestep(&mut tstep);
        self.control_timestep(&mut tstep);
        if self.m.rules.is_empty() {
            self.tank_levels(tstep);
        } else {
            self.rule_timestep(&mut tstep);
        }
        tstep
    }

    fn tank_timestep(&self, tstep: &mut i64) {
        for (t, tank) in self.m.tanks.iter().enumerate() {
            if tank.area == 0.0 {
                continue;
            }
            let n = tank.node;
            let h = self.head[n];
            let q = self.node_demand[n];
            if q.abs() <= QZERO {
                continue;
            }
            let v = if q > 0.0 && h < tank.hmax {
                tank.vmax - self.tank_v[t]
            } else if q < 0.0 && h > tank.hmin {
                tank.vmin - self.tank_v[t]
            } else {
                continue;
            };
            let step = round(v / q);
            if step > 0 && step < *tstep {
                *tstep = step;
            }
        }
    }

    fn control_timestep(&self, tstep: &mut i64) {
        let nj = self.m.njuncs;
        for c in &self.m.controls {
            let mut t = 0;
            if let Some(n) = c.node {
                if n < nj {
                    continue;
                }
                let h = self.head[n];
                let q = self.node_demand[n];
                if q.abs() <= QZERO {
                    continue;
                }
                if (h < c.grade && c.ctype == ControlType::HiLevel && q > 0.0)
                    || (h > c.grade && c.ctype == ControlType::LowLevel && q < 0.0)
                {
                    let v = self.tank_volume(n - nj, c.grade) - self.tank_v[n - nj];
                    t = round(v / q);
                }
            }
            if c.ctype == ControlType::Timer && c.time > self.htime {
                t = c.time - self.htime;
            }
            if c.ctype == ControlType::TimeOfDay {
                let t1 = (self.htime + self.m.tstart).rem_euclid(86_400);
                let t2 = c.time;
                t = if t2 >= t1 { t2 - t1 } else { 86_400 - t1 + t2 };
            }
            if t > 0 && t < *tstep {
                let k = c.link;
                let not_pipe = !matches!(self.m.ltype[k], LinkType::Pipe | LinkType::CvPipe);
                if (not_pipe && self.setting[k] != c.setting) || self.status[k] != c.status {
                    *tstep = t;
                }
            }
        }
    }

    fn rule_timestep(&mut self, tstep: &mut i64) {
        let tnow = self.htime;
        let tmax = tnow + *tstep;
        let rulestep = self.m.rulestep;
        let mut dt = rulestep.min(*tstep);
        let mut dt1 = (rulestep - tnow.rem_euclid(rulestep)).min(*tstep);
        if dt1 == 0 {
            dt1 = dt;
        }
        loop {
            self.htime += dt1;
            self.tank_levels(dt1);
            if self.check_rules(dt1) > 0 {
                break;
            }
            dt = dt.min(tmax - self.htime);
            dt1 = dt;
            if dt <= 0 {
                break;
            }
        }
        *tstep = self.htime - tnow;
        self.htime = tnow;
    }

    /// EPANET's `tanklevels`: moves tank volumes and heads forward by `tstep` seconds at the current inflows.
    pub(super) fn tank_levels(&mut self, tstep: i64) {
        for t in 0..self.m.tanks.len() {
            let tank = &self.m.tanks[t];
            if tank.area == 0.0 {
                continue;
            }
            let n = tank.node;
            let q = self.node_demand[n];
            let mut v = self.tank_v[t] + q * tstep as f64;
            if v + q >= tank.vmax {
                v = tank.vmax;
            } else if v - q <= tank.vmin {
                v = tank.vmin;
            }
            self.tank_v[t] = v;
            self.head[n] = self.tank_grade(t, v);
        }
    }

    /// Volume of tank `t` at head `h`, ft³.
    pub(super) fn tank_volume(&self, t: usize, h: f64) -> f64 {
        let tank = &self.m.tanks[t];
        match &tank.vcurve {
            None => tank.vmin + (h - tank.hmin) * tank.area,
            Some(c) => interp(c, h - self.m.el[tank.node]),
        }
    }

    /// Head of tank `t` at volume `v`, ft.
    fn tank_grade(&self, t: usize, v: f64) -> f64 {
        let tank = &self.m.tanks[t];
        match &tank.vcurve {
            None => tank.hmin + (v - tank.vmin) / tank.area,
            Some(c) => self.m.el[tank.node] + interp_inverse(c, v),
        }
    }

    // ---- Results in SI ----

    /// Head of node `i`, m.
    pub fn head_m(&self, i: usize) -> f64 {
        self.head[i] * M_PER_FT
    }

    /// Pressure head of node `i` (head − elevation), m.
    pub fn pressure_m(&self, i: usize) -> f64 {
        (self.head[i] - self.m.el[i]) * M_PER_FT
    }

    /// Junction: delivered demand (with emitter outflow); tank or reservoir: net inflow. m³/s.
    pub fn demand_m3s(&self, i: usize) -> f64 {
        self.node_demand[i] / self.m.units.internal_per_si(Quantity::Flow)
    }

    /// Emitter (leak or burst) outflow of junction `i`, m³/s.
    pub fn emitter_m3s(&self, i: usize) -> f64 {
        self.emitter_flow[i] / self.m.units.internal_per_si(Quantity::Flow)
    }

    /// Flow of link `k`, m³/s (0 when closed; negative against its direction).
    pub fn flow_m3s(&self, k: usize) -> f64 {
        if self.status[k].is_closed() {
            0.0
        } else {
            self.flow[k] / self.m.units.internal_per_si(Quantity::Flow)
        }
    }

    /// Mean velocity in link `k`, m/s (0 for pumps and closed links).
    pub fn velocity_ms(&self, k: usize) -> f64 {
        let d = self.m.diam[k];
        if self.status[k].is_closed() || d == 0.0 || matches!(self.m.ltype[k], LinkType::Pump(_)) {
            return 0.0;
        }
        // Velocity from cfs and ft, then to m/s.
        self.flow[k].abs() / (std::f64::consts::PI * d * d / 4.0) * M_PER_FT
    }

    /// Which nodes have a path of open links to a reservoir or tank (EPANET warns of the others as
    /// "disconnected": their computed heads mean nothing).
    pub fn connected_nodes(&self) -> Vec<bool> {
        let nn = self.m.nnodes;
        let mut adj: Vec<Vec<usize>> = vec![Vec::new(); nn];
        for k in 0..self.m.nlinks {
            if !self.status[k].is_closed() {
                adj[self.m.from[k]].push(self.m.to[k]);
                adj[self.m.to[k]].push(self.m.from[k]);
            }
        }
        let mut seen = vec![false; nn];
        let mut stack: Vec<usize> = (self.m.njuncs..nn).collect();
        for &s in &stack {
            seen[s] = true;
        }
        while let Some(n) = stack.pop() {
            for &m in &adj[n] {
                if !seen[m] {
                    seen[m] = true;
                    stack.push(m);
                }
            }
        }
        seen
    }

    /// Status of link `k`.
    pub fn status(&self, k: usize) -> Status {
        self.status[k]
    }

    /// Number of nodes and links.
    pub fn size(&self) -> (usize, usize) {
        (self.m.nnodes, self.m.nlinks)
    }

    /// Solutions computed and gradient-method trials used so far.
    pub fn work(&self) -> (u64, u64) {
        (self.solutions, self.trials)
    }
}

/// EPANET's `ROUND`: to the nearest integer, halves away from zero.
pub(super) fn round(x: f64) -> i64 {
    if x >= 0.0 {
        (x + 0.5) as i64
    } else {
        (x - 0.5) as i64
    }
}

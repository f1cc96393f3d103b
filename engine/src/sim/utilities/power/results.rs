//! pandapower's result tables from a solved state (`results.py`, `results_bus.py`, `results_branch.py`,
//! `results_gen.py`, `pypower/pfsoln.py`).
//!
//! - Flows: `S_from = V_from · conj(I_from)`, `S_to` likewise, MW / Mvar into the branch at each end; losses are
//!   their sum. Currents `|S| / (√3 · |V| · V_base)`, kA; `i_ka` the larger end (NaN if either is).
//! - Line loading: `i_ka / (max_i_ka · df · parallel)`, %; transformer loading (pandapower's "current"): the larger
//!   of `i · vn_side · √3 / sn_mva` over both sides, divided by `parallel` and `df`, %.
//! - External grids: the active power that balances their bus (minus that of generators there), shared equally;
//!   generators' reactive power: what balances their bus, shared by pandapower's rule (equally, then in
//!   proportion to the reactive ranges when several generators share a bus).
//! - Bus `p_mw` / `q_mvar`: consumption of the elements at the bus (loads, shunts) minus generation (static
//!   generators, generators, external grids).
//! - Out-of-service elements and elements at isolated buses carry zero power; isolated buses have NaN voltages,
//!   out-of-service buses NaN everywhere; branches out of service or between isolated buses carry no flow, and
//!   their currents are NaN where an end's voltage is.

use super::build::{GenSource, PuGrid};
use super::newton::Solution;
use super::ybus::Ybus;
use super::PowerGrid;
use faer::c64;
use serde::{Deserialize, Serialize};

/// A row of a result table: the element's pandapower index and pandapower's columns, in pandapower's order.
pub trait ResultRow {
    /// Column names after `index`, as pandapower writes them.
    const COLUMNS: &'static [&'static str];
    /// The element's pandapower index.
    fn index(&self) -> i64;
    /// The values, in the order of [`Self::COLUMNS`].
    fn values(&self) -> Vec<f64>;
}

/// A bus result (`res_bus`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BusResult {
    /// pandapower index.
    pub index: i64,
    /// Voltage magnitude, pu.
    pub vm_pu: f64,
    /// Voltage angle, degrees.
    pub va_degree: f64,
    /// Net consumption at the bus, MW.
    pub p_mw: f64,
    /// Net reactive consumption at the bus, Mvar.
    pub q_mvar: f64,
}

/// A line result (`res_line`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct LineResult {
    /// pandapower index.
    pub index: i64,
    pub p_from_mw: f64,
    pub q_from_mvar: f64,
    pub p_to_mw: f64,
    pub q_to_mvar: f64,
    pub pl_mw: f64,
    pub ql_mvar: f64,
    pub i_from_ka: f64,
    pub i_to_ka: f64,
    pub i_ka: f64,
    pub vm_from_pu: f64,
    pub va_from_degree: f64,
    pub vm_to_pu: f64,
    pub va_to_degree: f64,
    pub loading_percent: f64,
}

/// A transformer result (`res_trafo`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct TrafoResult {
    /// pandapower index.
    pub index: i64,
    pub p_hv_mw: f64,
    pub q_hv_mvar: f64,
    pub p_lv_mw: f64,
    pub q_lv_mvar: f64,
    pub pl_mw: f64,
    pub ql_mvar: f64,
    pub i_hv_ka: f64,
    pub i_lv_ka: f64,
    pub vm_hv_pu: f64,
    pub va_hv_degree: f64,
    pub vm_lv_pu: f64,
    pub va_lv_degree: f64,
    pub loading_percent: f64,
}

/// An element with an active and a reactive power (`res_ext_grid`, `res_load`, `res_sgen`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PqResult {
    /// pandapower index.
    pub index: i64,
    /// Active power, MW (consumption for loads, generation for the others... as pandapower signs them).
    pub p_mw: f64,
    /// Reactive power, Mvar.
    pub q_mvar: f64,
}

/// A generator result (`res_gen`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GenResult {
    /// pandapower index.
    pub index: i64,
    /// Active power generated, MW.
    pub p_mw: f64,
    /// Reactive power generated, Mvar.
    pub q_mvar: f64,
    /// Voltage angle at its bus, degrees.
    pub va_degree: f64,
    /// Voltage magnitude at its bus, pu.
    pub vm_pu: f64,
}

/// The solution: pandapower's result tables, one row per element in table order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PfResult {
    /// Newton–Raphson iterations.
    pub iterations: usize,
    /// The final largest power mismatch, per unit of `sn_mva`.
    pub mismatch_mva: f64,
    /// `res_bus`.
    pub bus: Vec<BusResult>,
    /// `res_line`.
    pub line: Vec<LineResult>,
    /// `res_trafo`.
    pub trafo: Vec<TrafoResult>,
    /// `res_ext_grid`.
    pub ext_grid: Vec<PqResult>,
    /// `res_load`.
    pub load: Vec<PqResult>,
    /// `res_sgen`.
    pub sgen: Vec<PqResult>,
    /// `res_gen`.
    pub gen: Vec<GenResult>,
}

impl ResultRow for BusResult {
    const COLUMNS: &'static [&'static str] = &["vm_pu", "va_degree", "p_mw", "q_mvar"];
    fn index(&self) -> i64 {
        self.index
    }
    fn values(&self) -> Vec<f64> {
        vec![self.vm_pu, self.va_degree, self.p_mw, self.q_mvar]
    }
}

impl ResultRow for LineResult {
    const COLUMNS: &'static [&'static str] = &[
        "p_from_mw",
        "q_from_mvar",
        "p_to_mw",
        "q_to_mvar",
        "pl_mw",
        "ql_mvar",
        "i_from_ka",
        "i_to_ka",
        "i_ka",
        "vm_from_pu",
        "va_from_degree",
        "vm_to_pu",
        "va_to_degree",
        "loading_percent",
    ];
    fn index(&self) -> i64 {
        self.index
    }
    fn values(&self) -> Vec<f64> {
        vec![
            self.p_from_mw,
            self.q_from_mvar,
            self.p_to_mw,
            self.q_to_mvar,
            self.pl_mw,
            self.ql_mvar,
            self.i_from_ka,
            self.i_to_ka,
            self.i_ka,
            self.vm_from_pu,
            self.va_from_degree,
            self.vm_to_pu,
            self.va_to_degree,
            self.loading_percent,
        ]
    }
}

impl ResultRow for TrafoResult {
    const COLUMNS: &'static [&'static str] = &[
        "p_hv_mw",
        "q_hv_mvar",
        "p_lv_mw",
        "q_lv_mvar",
        "pl_mw",
        "ql_mvar",
        "i_hv_ka",
        "i_lv_ka",
        "vm_hv_pu",
        "va_hv_degree",
        "vm_lv_pu",
        "va_lv_degree",
        "loading_percent",
    ];
    fn index(&self) -> i64 {
        self.index
    }
    fn values(&self) -> Vec<f64> {
        vec![
            self.p_hv_mw,
            self.q_hv_mvar,
            self.p_lv_mw,
            self.q_lv_mvar,
            self.pl_mw,
            self.ql_mvar,
            self.i_hv_ka,
            self.i_lv_ka,
            self.vm_hv_pu,
            self.va_hv_degree,
            self.vm_lv_pu,
            self.va_lv_degree,
            self.loading_percent,
        ]
    }
}

impl ResultRow for PqResult {
    const COLUMNS: &'static [&'static str] = &["p_mw", "q_mvar"];
    fn index(&self) -> i64 {
        self.index
    }
    fn values(&self) -> Vec<f64> {
        vec![self.p_mw, self.q_mvar]
    }
}

impl ResultRow for GenResult {
    const COLUMNS: &'static [&'static str] = &["p_mw", "q_mvar", "va_degree", "vm_pu"];
    fn index(&self) -> i64 {
        self.index
    }
    fn values(&self) -> Vec<f64> {
        vec![self.p_mw, self.q_mvar, self.va_degree, self.vm_pu]
    }
}

/// NumPy's `max`: NaN if either is NaN.
fn nan_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.max(b)
    }
}

/// Flows and currents at both ends of branch `k`: `(S_from, S_to, i_from, i_to)`, MVA and kA.
fn branch_flow(pu: &PuGrid, y: &Ybus, v: &[c64], k: usize) -> (c64, c64, f64, f64) {
    let br = &pu.branches[k];
    let (f, t) = (br.from, br.to);
    let (sf, st) = if br.active {
        let [yff, yft, ytf, ytt] = y.branch[k];
        (
            v[f] * (yff * v[f] + yft * v[t]).conj() * pu.base_mva,
            v[t] * (ytf * v[f] + ytt * v[t]).conj() * pu.base_mva,
        )
    } else {
        (c64::new(0.0, 0.0), c64::new(0.0, 0.0))
    };
    let current = |s: c64, i: usize| s.norm() / (v[i].norm() * pu.buses[i].base_kv) / 3f64.sqrt();
    (sf, st, current(sf, f), current(st, t))
}

fn vm_va(v: c64) -> (f64, f64) {
    (v.norm(), v.arg().to_degrees())
}

/// The result tables.
pub(crate) fn results(grid: &PowerGrid, pu: &PuGrid, y: &Ybus, sol: &Solution) -> PfResult {
    let v = &sol.v;
    let base = pu.base_mva;
    let i_bus = y.mul(v);
    let s_calc: Vec<c64> = v.iter().zip(&i_bus).map(|(v, i)| v * i.conj()).collect();

    // Generators: Q for all, P for reference machines (pandapower's pfsoln).
    let ng = pu.gens.len();
    let mut pg: Vec<f64> = pu.gens.iter().map(|g| g.pg).collect();
    let mut qg: Vec<f64> = pu
        .gens
        .iter()
        .map(|g| s_calc[g.bus].im * base + pu.buses[g.bus].qd)
        .collect();
    if ng > 1 {
        let nb = pu.buses.len();
        let (mut count, mut qtot, mut qmin, mut qmax) = (
            vec![0usize; nb],
            vec![0.0; nb],
            vec![0.0; nb],
            vec![0.0; nb],
        );
        for g in &pu.gens {
            count[g.bus] += 1;
        }
        for (g, q) in pu.gens.iter().zip(&mut qg) {
            *q /= count[g.bus] as f64;
            qtot[g.bus] += *q;
            qmin[g.bus] += g.qmin;
            qmax[g.bus] += g.qmax;
        }
        for (g, q) in pu.gens.iter().zip(&mut qg) {
            let b = g.bus;
            if qmin[b] != qmax[b] {
                *q = g.qmin
                    + (qtot[b] - qmin[b]) / (qmax[b] - qmin[b] + f64::EPSILON) * (g.qmax - g.qmin);
            }
        }
    }
    let mut done = vec![false; pu.buses.len()];
    for g in pu.gens.iter().filter(|g| g.is_ref) {
        let b = g.bus;
        if std::mem::replace(&mut done[b], true) {
            continue;
        }
        let p_bus = s_calc[b].re * base + pu.buses[b].pd;
        let at_bus: Vec<usize> = (0..ng).filter(|&k| pu.gens[k].bus == b).collect();
        if at_bus.len() == 1 {
            pg[at_bus[0]] = p_bus;
        } else {
            let others: f64 = at_bus
                .iter()
                .filter(|&&k| !pu.gens[k].is_ref)
                .map(|&k| pg[k])
                .sum();
            let refs: Vec<usize> = at_bus
                .iter()
                .copied()
                .filter(|&k| pu.gens[k].is_ref)
                .collect();
            for &k in &refs {
                pg[k] = (p_bus - others) / refs.len() as f64;
            }
        }
    }
    let mut ext_grid: Vec<PqResult> = grid
        .ext_grids
        .iter()
        .map(|e| PqResult {
            index: e.index,
            p_mw: 0.0,
            q_mvar: 0.0,
        })
        .collect();
    let mut gen: Vec<GenResult> = grid
        .gens
        .iter()
        .map(|g| GenResult {
            index: g.index,
            p_mw: 0.0,
            q_mvar: 0.0,
            va_degree: 0.0,
            vm_pu: 0.0,
        })
        .collect();
    for (k, g) in pu.gens.iter().enumerate() {
        match g.source {
            GenSource::ExtGrid(r) => {
                ext_grid[r].p_mw = pg[k];
                ext_grid[r].q_mvar = qg[k];
            }
            GenSource::Gen(r) => {
                let (vm, va) = vm_va(v[g.bus]);
                gen[r] = GenResult {
                    index: gen[r].index,
                    p_mw: pg[k],
                    q_mvar: qg[k],
                    va_degree: va,
                    vm_pu: vm,
                };
            }
        }
    }

    // Bus elements; the bus sums collect consumption minus generation per pandapower bus.
    let row_of: std::collections::HashMap<i64, usize> = grid
        .buses
        .iter()
        .enumerate()
        .map(|(r, b)| (b.index, r))
        .collect();
    let nb = grid.buses.len();
    let (mut bus_p, mut bus_q) = (vec![0.0; nb], vec![0.0; nb]);
    let vm_at = |bus: i64| row_of.get(&bus).map(|&r| (r, v[pu.bus_of[r]].norm()));
    let mut load = Vec::with_capacity(grid.loads.len());
    for l in &grid.loads {
        let (p, q) = match vm_at(l.bus) {
            Some((r, vm)) if l.in_service && pu.bus_active[r] => {
                let (zp, ip, zq, iq) = (
                    l.const_z_p_percent / 100.0,
                    l.const_i_p_percent / 100.0,
                    l.const_z_q_percent / 100.0,
                    l.const_i_q_percent / 100.0,
                );
                let p = l.p_mw * l.scaling * (1.0 - zp - ip)
                    + l.p_mw * l.scaling * (ip * vm + zp * vm * vm);
                let q = l.q_mvar * l.scaling * (1.0 - zq - iq)
                    + l.q_mvar * l.scaling * (iq * vm + zq * vm * vm);
                bus_p[r] += p;
                bus_q[r] += q;
                (p, q)
            }
            _ => (0.0, 0.0),
        };
        load.push(PqResult {
            index: l.index,
            p_mw: p,
            q_mvar: q,
        });
    }
    let mut sgen = Vec::with_capacity(grid.sgens.len());
    for s in &grid.sgens {
        let (p, q) = match vm_at(s.bus) {
            Some((r, _)) if s.in_service && pu.bus_active[r] => {
                let (p, q) = (s.p_mw * s.scaling, s.q_mvar * s.scaling);
                bus_p[r] -= p;
                bus_q[r] -= q;
                (p, q)
            }
            _ => (0.0, 0.0),
        };
        sgen.push(PqResult {
            index: s.index,
            p_mw: p,
            q_mvar: q,
        });
    }
    for s in &grid.shunts {
        if let Some((r, vm)) = vm_at(s.bus) {
            if s.in_service && pu.bus_active[r] {
                let vn = if s.vn_kv.is_nan() {
                    grid.buses[r].vn_kv
                } else {
                    s.vn_kv
                };
                let ratio = (pu.buses[pu.bus_of[r]].base_kv / vn).powi(2);
                bus_p[r] += vm * vm * s.p_mw * ratio * s.step;
                bus_q[r] += vm * vm * s.q_mvar * ratio * s.step;
            }
        }
    }
    let (mut gen_p, mut gen_q) = (vec![0.0; nb], vec![0.0; nb]);
    for (e, res) in grid.ext_grids.iter().zip(&ext_grid) {
        if let Some(&r) = row_of.get(&e.bus) {
            gen_p[r] += res.p_mw;
            gen_q[r] += res.q_mvar;
        }
    }
    for (g, res) in grid.gens.iter().zip(&gen) {
        if let Some(&r) = row_of.get(&g.bus) {
            gen_p[r] += res.p_mw;
            gen_q[r] += res.q_mvar;
        }
    }
    let bus: Vec<BusResult> = grid
        .buses
        .iter()
        .enumerate()
        .map(|(r, b)| {
            if !b.in_service {
                return BusResult {
                    index: b.index,
                    vm_pu: f64::NAN,
                    va_degree: f64::NAN,
                    p_mw: f64::NAN,
                    q_mvar: f64::NAN,
                };
            }
            let (vm, va) = vm_va(v[pu.bus_of[r]]);
            BusResult {
                index: b.index,
                vm_pu: vm,
                va_degree: va,
                p_mw: bus_p[r] - gen_p[r],
                q_mvar: bus_q[r] - gen_q[r],
            }
        })
        .collect();

    let line = grid
        .lines
        .iter()
        .enumerate()
        .map(|(k, l)| {
            let (sf, st, i_from, i_to) = branch_flow(pu, y, v, k);
            let br = &pu.branches[k];
            let (vm_from, va_from) = vm_va(v[br.from]);
            let (vm_to, va_to) = vm_va(v[br.to]);
            let i_ka = nan_max(i_from, i_to);
            let i_max = l.max_i_ka * l.df * l.parallel;
            LineResult {
                index: l.index,
                p_from_mw: sf.re,
                q_from_mvar: sf.im,
                p_to_mw: st.re,
                q_to_mvar: st.im,
                pl_mw: sf.re + st.re,
                ql_mvar: sf.im + st.im,
                i_from_ka: i_from,
                i_to_ka: i_to,
                i_ka,
                vm_from_pu: vm_from,
                va_from_degree: va_from,
                vm_to_pu: vm_to,
                va_to_degree: va_to,
                loading_percent: if i_max != 0.0 {
                    i_ka / i_max * 100.0
                } else {
                    f64::INFINITY
                },
            }
        })
        .collect();
    let trafo = grid
        .trafos
        .iter()
        .enumerate()
        .map(|(k, t)| {
            let (sf, st, i_hv, i_lv) = branch_flow(pu, y, v, pu.trafo_offset + k);
            let br = &pu.branches[pu.trafo_offset + k];
            let (vm_hv, va_hv) = vm_va(v[br.from]);
            let (vm_lv, va_lv) = vm_va(v[br.to]);
            let ld = |i: f64, vn: f64| i * vn * 3f64.sqrt() / t.sn_mva * 100.0;
            let loading = nan_max(ld(i_hv, t.vn_hv_kv), ld(i_lv, t.vn_lv_kv)) / t.parallel / t.df;
            TrafoResult {
                index: t.index,
                p_hv_mw: sf.re,
                q_hv_mvar: sf.im,
                p_lv_mw: st.re,
                q_lv_mvar: st.im,
                pl_mw: sf.re + st.re,
                ql_mvar: sf.im + st.im,
                i_hv_ka: i_hv,
                i_lv_ka: i_lv,
                vm_hv_pu: vm_hv,
                va_hv_degree: va_hv,
                vm_lv_pu: vm_lv,
                va_lv_degree: va_lv,
                loading_percent: loading,
            }
        })
        .collect();
    PfResult {
        iterations: sol.iterations,
        mismatch_mva: sol.mismatch,
        bus,
        line,
        trafo,
        ext_grid,
        load,
        sgen,
        gen,
    }
}

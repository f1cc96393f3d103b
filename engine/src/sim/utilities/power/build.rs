//! The pandapower tables as a per-unit network of internal buses and branches (pandapower's `ppc`; `pd2ppc.py`,
//! `build_bus.py`, `build_gen.py`, `build_branch.py: _switch_branches, _branches_with_oos_buses`,
//! `auxiliary.py: _check_connectivity`).
//!
//! Internal buses are the pandapower buses with closed bus–bus switches fused, then one auxiliary bus per open
//! line or transformer switch and per line end at an out-of-service bus. Branches are the lines (in table order),
//! then the transformers, then bus–bus switches with an impedance. Buses with no path to a reference bus are
//! isolated ([`BusKind::Isolated`]).

use super::{branch, PfOptions, PowerError, PowerGrid, SwitchTarget};
use std::collections::HashMap;

/// What an internal bus is to the Newton–Raphson solver.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BusKind {
    /// Voltage magnitude and angle fixed (external grid, slack generator).
    Ref,
    /// Active power and voltage magnitude fixed (generator).
    Pv,
    /// Active and reactive power fixed.
    Pq,
    /// Out of service, or without a path to a reference bus: not solved, results NaN.
    Isolated,
}

/// An internal bus.
#[derive(Clone, Debug)]
pub(crate) struct PuBus {
    /// The pandapower bus it stands for (the first of fused buses; the switch's bus for auxiliary buses).
    pub pp_index: i64,
    /// Base voltage, kV.
    pub base_kv: f64,
    /// Its role.
    pub kind: BusKind,
    /// Load minus static generation at 1 pu, MW / Mvar.
    pub pd: f64,
    /// See `pd`.
    pub qd: f64,
    /// Shunt active power at 1 pu, MW (pandapower's GS).
    pub gs: f64,
    /// Shunt susceptance as reactive power injected at 1 pu, Mvar (pandapower's BS).
    pub bs: f64,
    /// Voltage-dependent share of the load: constant current (P, Q) and constant impedance (P, Q), fractions.
    pub zip: [f64; 4],
    /// Start magnitude, pu.
    pub vm0: f64,
    /// Start angle (reference buses: the fixed angle), degrees.
    pub va0: f64,
}

/// An internal branch.
#[derive(Clone, Debug)]
pub(crate) struct PuBranch {
    /// From (HV) internal bus.
    pub from: usize,
    /// To (LV) internal bus.
    pub to: usize,
    /// Its parameters.
    pub p: branch::BranchParams,
    /// In service and both ends solved.
    pub active: bool,
}

/// A generator row: an external grid, or a generator.
#[derive(Clone, Debug)]
pub(crate) struct PuGen {
    /// Internal bus.
    pub bus: usize,
    /// Active power set point (external grids: 0), MW.
    pub pg: f64,
    /// Reactive limits used to share Q between generators at one bus (pandapower's QMIN / QMAX).
    pub qmin: f64,
    /// See `qmin`.
    pub qmax: f64,
    /// A reference machine (external grid, slack generator).
    pub is_ref: bool,
    /// Position in the ext_grid table, or in the gen table.
    pub source: GenSource,
}

/// Where a [`PuGen`] comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum GenSource {
    /// Row of `grid.ext_grids`.
    ExtGrid(usize),
    /// Row of `grid.gens`.
    Gen(usize),
}

/// The per-unit network.
#[derive(Clone, Debug)]
pub(crate) struct PuGrid {
    /// System base, MVA.
    pub base_mva: f64,
    /// Internal buses.
    pub buses: Vec<PuBus>,
    /// Branches: lines, then transformers, then impedance switches.
    pub branches: Vec<PuBranch>,
    /// In-service generators on solved buses: external grids first, then generators, in table order.
    pub gens: Vec<PuGen>,
    /// Internal bus of each row of `grid.buses`.
    pub bus_of: Vec<usize>,
    /// Whether each row of `grid.buses` is solved (in service and connected).
    pub bus_active: Vec<bool>,
    /// First transformer branch (= number of lines).
    pub trafo_offset: usize,
}

impl PuGrid {
    /// Whether internal bus `i` is solved.
    pub fn solved(&self, i: usize) -> bool {
        self.buses[i].kind != BusKind::Isolated
    }
}

fn find(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

/// Builds the per-unit network.
pub(crate) fn build(grid: &PowerGrid, opts: &PfOptions) -> Result<PuGrid, PowerError> {
    for (what, value) in [("sn_mva", grid.sn_mva), ("f_hz", grid.f_hz)] {
        if !(value > 0.0 && value.is_finite()) {
            return Err(PowerError::BadSystem { what, value });
        }
    }
    let nb = grid.buses.len();
    let mut row_of: HashMap<i64, usize> = HashMap::with_capacity(nb);
    for (i, b) in grid.buses.iter().enumerate() {
        if row_of.insert(b.index, i).is_some() {
            return Err(PowerError::DuplicateBus { index: b.index });
        }
        if b.in_service && (b.vn_kv.is_nan() || b.vn_kv <= 0.0) {
            return Err(PowerError::BadParameter {
                table: "bus",
                index: b.index,
                detail: format!("vn_kv is {}; it must be positive", b.vn_kv),
            });
        }
    }
    let row = |table: &'static str, index: i64, column: &'static str, bus: i64| {
        row_of.get(&bus).copied().ok_or(PowerError::UnknownBus {
            table,
            index,
            column,
            bus,
        })
    };
    let bus_in = |r: usize| grid.buses[r].in_service;

    // Fuse buses joined by closed bus-bus switches without impedance (both buses in service).
    let mut parent: Vec<usize> = (0..nb).collect();
    let mut impedance_switches = Vec::new();
    for s in &grid.switches {
        if s.et != SwitchTarget::Bus {
            continue;
        }
        let a = row("switch", s.index, "bus", s.bus)?;
        let b = row("switch", s.index, "element", s.element)?;
        if !s.closed || !bus_in(a) || !bus_in(b) {
            continue;
        }
        if s.z_ohm > 0.0 {
            impedance_switches.push((s, a, b));
        } else {
            let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
            // The root is the earlier bus of the table, so fusing is independent of the switch order.
            let (lo, hi) = (ra.min(rb), ra.max(rb));
            parent[hi] = lo;
        }
    }
    let mut buses: Vec<PuBus> = Vec::new();
    let mut internal_of_root: HashMap<usize, usize> = HashMap::new();
    let mut bus_of = vec![0usize; nb];
    for (r, slot) in bus_of.iter_mut().enumerate() {
        let root = find(&mut parent, r);
        let i = *internal_of_root.entry(root).or_insert_with(|| {
            let b = &grid.buses[root];
            buses.push(PuBus {
                pp_index: b.index,
                base_kv: b.vn_kv,
                kind: if b.in_service {
                    BusKind::Pq
                } else {
                    BusKind::Isolated
                },
                pd: 0.0,
                qd: 0.0,
                gs: 0.0,
                bs: 0.0,
                zip: [0.0; 4],
                vm0: 1.0,
                va0: 0.0,
            });
            buses.len() - 1
        });
        *slot = i;
    }
    let aux = |buses: &mut Vec<PuBus>, like: usize| {
        let mut b = buses[like].clone();
        b.kind = BusKind::Pq;
        (b.pd, b.qd, b.gs, b.bs, b.zip) = (0.0, 0.0, 0.0, 0.0, [0.0; 4]);
        buses.push(b);
        buses.len() - 1
    };

    // Branches.
    let mut branches =
        Vec::with_capacity(grid.lines.len() + grid.trafos.len() + impedance_switches.len());
    let mut line_rows = Vec::with_capacity(grid.lines.len());
    for l in &grid.lines {
        let f = row("line", l.index, "from_bus", l.from_bus)?;
        let t = row("line", l.index, "to_bus", l.to_bus)?;
        line_rows.push((f, t));
        let p = branch::line(l, buses[bus_of[f]].base_kv, grid.sn_mva, grid.f_hz)?;
        branches.push(PuBranch {
            from: bus_of[f],
            to: bus_of[t],
            p,
            active: l.in_service,
        });
    }
    let trafo_offset = branches.len();
    for t in &grid.trafos {
        let h = row("trafo", t.index, "hv_bus", t.hv_bus)?;
        let l = row("trafo", t.index, "lv_bus", t.lv_bus)?;
        let p = branch::trafo(
            t,
            buses[bus_of[h]].base_kv,
            buses[bus_of[l]].base_kv,
            grid.sn_mva,
            opts.trafo_model,
            opts.calculate_voltage_angles,
        )?;
        branches.push(PuBranch {
            from: bus_of[h],
            to: bus_of[l],
            p,
            active: t.in_service,
        });
    }

    // Open line and transformer switches: the branch end at the switch's bus moves to a new auxiliary bus.
    for target in [SwitchTarget::Line, SwitchTarget::Trafo] {
        for s in grid.switches.iter().filter(|s| s.et == target && !s.closed) {
            let at = row("switch", s.index, "bus", s.bus)?;
            let (k, from_end) = match target {
                SwitchTarget::Line => {
                    let k = grid
                        .lines
                        .iter()
                        .position(|l| l.index == s.element)
                        .ok_or_else(|| PowerError::BadSwitch {
                            index: s.index,
                            detail: format!("line {} is not in the line table", s.element),
                        })?;
                    (k, grid.lines[k].to_bus != s.bus)
                }
                _ => {
                    let k = grid
                        .trafos
                        .iter()
                        .position(|t| t.index == s.element)
                        .ok_or_else(|| PowerError::BadSwitch {
                            index: s.index,
                            detail: format!("trafo {} is not in the trafo table", s.element),
                        })?;
                    (trafo_offset + k, grid.trafos[k].hv_bus == s.bus)
                }
            };
            let a = aux(&mut buses, bus_of[at]);
            if from_end {
                branches[k].from = a;
            } else {
                branches[k].to = a;
            }
        }
    }
    // In-service lines with exactly one end at an out-of-service bus: that end moves to an auxiliary bus.
    for (k, (l, &(f, t))) in grid.lines.iter().zip(&line_rows).enumerate() {
        if !l.in_service || bus_in(f) == bus_in(t) {
            continue;
        }
        if bus_in(f) {
            branches[k].to = aux(&mut buses, bus_of[t]);
        } else {
            branches[k].from = aux(&mut buses, bus_of[f]);
        }
    }
    // Bus-bus switches with an impedance: r/x = 2 (pandapower's switch_rx_ratio).
    let rx: f64 = 2.0;
    for (s, a, b) in impedance_switches {
        let base_r = buses[bus_of[a]].base_kv.powi(2) / grid.sn_mva;
        let z = s.z_ohm / base_r;
        branches.push(PuBranch {
            from: bus_of[a],
            to: bus_of[b],
            p: branch::BranchParams {
                r: z * rx / (1.0 + rx * rx).sqrt(),
                x: z / (1.0 + rx * rx).sqrt(),
                g: 0.0,
                b: 0.0,
                g_asym: 0.0,
                b_asym: 0.0,
                tap: 1.0,
                shift_deg: 0.0,
            },
            active: true,
        });
    }

    // Reference and PV buses, set points.
    let mut setpoint: Vec<Option<f64>> = vec![None; buses.len()];
    let mut set_vm = |buses: &mut Vec<PuBus>, i: usize, vm: f64| -> Result<(), PowerError> {
        if let Some(old) = setpoint[i] {
            if old != vm {
                return Err(PowerError::ConflictingSetpoints {
                    bus: buses[i].pp_index,
                    a: old,
                    b: vm,
                });
            }
        }
        setpoint[i] = Some(vm);
        buses[i].vm0 = vm;
        Ok(())
    };
    for e in &grid.ext_grids {
        let r = row("ext_grid", e.index, "bus", e.bus)?;
        if e.in_service && bus_in(r) {
            let i = bus_of[r];
            buses[i].kind = BusKind::Ref;
            if opts.calculate_voltage_angles {
                buses[i].va0 = e.va_degree;
            }
            set_vm(&mut buses, i, e.vm_pu)?;
        }
    }
    for g in &grid.gens {
        let r = row("gen", g.index, "bus", g.bus)?;
        if g.in_service && bus_in(r) && g.slack {
            buses[bus_of[r]].kind = BusKind::Ref;
        }
    }
    for g in &grid.gens {
        let r = row("gen", g.index, "bus", g.bus)?;
        if g.in_service && bus_in(r) {
            let i = bus_of[r];
            if buses[i].kind == BusKind::Pq {
                buses[i].kind = BusKind::Pv;
            }
            set_vm(&mut buses, i, g.vm_pu)?;
        }
    }

    // Connectivity: breadth-first from the reference buses over in-service branches between in-service buses.
    let n = buses.len();
    let mut adj: Vec<Vec<usize>> = vec![Vec::new(); n];
    for br in branches.iter().filter(|b| b.active) {
        if buses[br.from].kind != BusKind::Isolated && buses[br.to].kind != BusKind::Isolated {
            adj[br.from].push(br.to);
            adj[br.to].push(br.from);
        }
    }
    let mut reached = vec![false; n];
    let mut queue: Vec<usize> = (0..n).filter(|&i| buses[i].kind == BusKind::Ref).collect();
    if queue.is_empty() {
        return Err(PowerError::NoSlack);
    }
    for &i in &queue {
        reached[i] = true;
    }
    while let Some(i) = queue.pop() {
        for &j in &adj[i] {
            if !reached[j] {
                reached[j] = true;
                queue.push(j);
            }
        }
    }
    for (b, r) in buses.iter_mut().zip(&reached) {
        if !r {
            b.kind = BusKind::Isolated;
        }
    }
    for br in &mut branches {
        br.active = br.active && reached[br.from] && reached[br.to];
    }
    let bus_active: Vec<bool> = (0..nb).map(|r| bus_in(r) && reached[bus_of[r]]).collect();

    // Start magnitudes: the mean of the in-service set points (pandapower's init "auto"), else 1 pu.
    let vm_init = match opts.init {
        super::PfInit::Auto => {
            let v: Vec<f64> = grid
                .ext_grids
                .iter()
                .filter(|e| e.in_service)
                .map(|e| e.vm_pu)
                .chain(grid.gens.iter().filter(|g| g.in_service).map(|g| g.vm_pu))
                .collect();
            if v.is_empty() {
                1.0
            } else {
                v.iter().sum::<f64>() / v.len() as f64
            }
        }
        _ => 1.0,
    };
    for (b, s) in buses.iter_mut().zip(&setpoint) {
        if s.is_none() {
            b.vm0 = vm_init;
        }
    }

    // Bus elements on solved buses.
    let active_at = |table: &'static str,
                     index: i64,
                     bus: i64,
                     in_service: bool|
     -> Result<Option<usize>, PowerError> {
        let r = row(table, index, "bus", bus)?;
        Ok((in_service && bus_active[r]).then_some(bus_of[r]))
    };
    // Voltage-dependent loads: per pandapower bus, the mean of its loads' shares (pandapower's averaging).
    let mut zip_by_row: Vec<Option<([f64; 4], usize)>> = vec![None; nb];
    for l in &grid.loads {
        if let Some(i) = active_at("load", l.index, l.bus, l.in_service)? {
            buses[i].pd += l.p_mw * l.scaling;
            buses[i].qd += l.q_mvar * l.scaling;
            let (zp, ip, zq, iq) = (
                l.const_z_p_percent,
                l.const_i_p_percent,
                l.const_z_q_percent,
                l.const_i_q_percent,
            );
            if zp + ip > 100.0 || zq + iq > 100.0 {
                return Err(PowerError::BadParameter {
                    table: "load",
                    index: l.index,
                    detail: "const_z_*_percent + const_i_*_percent exceeds 100".into(),
                });
            }
            let r = row_of[&l.bus];
            let e = zip_by_row[r].get_or_insert(([0.0; 4], 0));
            for (acc, v) in e.0.iter_mut().zip([ip, zp, iq, zq]) {
                *acc += v / 100.0;
            }
            e.1 += 1;
        }
    }
    for (r, z) in zip_by_row.iter().enumerate() {
        if let Some((sum, count)) = z {
            buses[bus_of[r]].zip = sum.map(|s| s / *count as f64);
        }
    }
    for s in &grid.sgens {
        if let Some(i) = active_at("sgen", s.index, s.bus, s.in_service)? {
            buses[i].pd -= s.p_mw * s.scaling;
            buses[i].qd -= s.q_mvar * s.scaling;
        }
    }
    for s in &grid.shunts {
        if let Some(i) = active_at("shunt", s.index, s.bus, s.in_service)? {
            let vn = if s.vn_kv.is_nan() {
                grid.buses[row_of[&s.bus]].vn_kv
            } else {
                s.vn_kv
            };
            let ratio = (buses[i].base_kv / vn).powi(2);
            buses[i].gs += s.p_mw * s.step * ratio;
            buses[i].bs -= s.q_mvar * s.step * ratio;
        }
    }
    let mut gens = Vec::new();
    for (k, e) in grid.ext_grids.iter().enumerate() {
        if let Some(i) = active_at("ext_grid", e.index, e.bus, e.in_service)? {
            gens.push(PuGen {
                bus: i,
                pg: 0.0,
                qmin: 0.0,
                qmax: 0.0,
                is_ref: true,
                source: GenSource::ExtGrid(k),
            });
        }
    }
    for (k, g) in grid.gens.iter().enumerate() {
        if let Some(i) = active_at("gen", g.index, g.bus, g.in_service)? {
            let lim = |v: f64, default: f64| if v.is_nan() { default } else { v };
            gens.push(PuGen {
                bus: i,
                pg: g.p_mw * g.scaling,
                qmin: lim(g.min_q_mvar, -1e9),
                qmax: lim(g.max_q_mvar, 1e9),
                is_ref: g.slack,
                source: GenSource::Gen(k),
            });
        }
    }
    Ok(PuGrid {
        base_mva: grid.sn_mva,
        buses,
        branches,
        gens,
        bus_of,
        bus_active,
        trafo_offset,
    })
}

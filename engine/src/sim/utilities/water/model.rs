//! The network in the solver's internal units (ft, cfs, s), with every derived coefficient EPANET computes before
//! a run: pipe resistances, minor-loss coefficients, pump curve fits, tank areas and volumes, emitter
//! coefficients. Built once per run from a [`WaterNetwork`]; checked as EPANET checks a project it opens.

use super::network::{
    ControlCondition, CurveKind, HeadLoss, LinkKind, LinkStatus, NodeKind, PremiseValue, PumpHead,
    RuleObject, RuleVariable, ValveKind, WaterNetwork,
};
use super::units::{Quantity, Units, M_PER_FT};
use super::WaterError;

/// EPANET's "missing value" marker for link settings.
pub(super) const MISSING: f64 = -1e10;
/// A huge resistance.
pub(super) const CBIG: f64 = 1e8;
/// A tiny resistance.
pub(super) const CSMALL: f64 = 1e-6;
/// A tiny number.
pub(super) const TINY: f64 = 1e-6;
/// A huge number (no head limit).
pub(super) const BIG: f64 = 1e10;
/// Flow treated as zero, cfs.
pub(super) const QZERO: f64 = 1e-6;
/// Smallest range of the pressure-driven demand curve (psi or m, as EPANET).
pub(super) const MINPDIFF: f64 = 0.1;

/// Link types as the solver distinguishes them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum LinkType {
    /// A pipe with a check valve.
    CvPipe,
    /// A pipe.
    Pipe,
    /// A pump (its index into [`Model::pumps`]).
    Pump(usize),
    /// A valve.
    Valve(ValveKind),
}

/// Pump curve forms (EPANET's `PumpType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum PumpType {
    ConstHp,
    PowerFunc,
    Custom,
}

/// A pump's head curve in internal units. Head loss across the pump (negative gain) is `h0 + r·q^n`.
#[derive(Clone, Debug)]
pub(super) struct PumpParams {
    pub link: usize,
    pub ptype: PumpType,
    /// Shutoff head loss (−gain), ft.
    pub h0: f64,
    /// Curve coefficient.
    pub r: f64,
    /// Curve exponent.
    pub n: f64,
    /// Largest head the pump can deliver, ft.
    pub hmax: f64,
    /// Initial flow, cfs.
    pub q0: f64,
    /// Custom curve points (cfs, ft).
    pub curve: Vec<(f64, f64)>,
    /// Speed pattern.
    pub pattern: Option<usize>,
}

/// A tank or reservoir in internal units.
#[derive(Clone, Debug)]
pub(super) struct TankParams {
    /// Its node.
    pub node: usize,
    /// Cross-section area, ft² (0: a reservoir).
    pub area: f64,
    pub hmin: f64,
    pub hmax: f64,
    pub h0: f64,
    pub vmin: f64,
    pub vmax: f64,
    pub v0: f64,
    /// Volume curve: (level above bottom ft, volume ft³).
    pub vcurve: Option<Vec<(f64, f64)>>,
    /// Head pattern (reservoirs).
    pub pattern: Option<usize>,
    pub overflow: bool,
}

/// Control types (EPANET's `ControlType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ControlType {
    LowLevel,
    HiLevel,
    Timer,
    TimeOfDay,
}

/// A simple control in internal units.
#[derive(Clone, Debug)]
pub(super) struct ControlParams {
    pub link: usize,
    /// Controlling node (`None`: a time control).
    pub node: Option<usize>,
    pub ctype: ControlType,
    pub status: Status,
    /// Setting in internal units, or [`MISSING`].
    pub setting: f64,
    /// Time, s.
    pub time: i64,
    /// Head at which it acts, ft.
    pub grade: f64,
}

/// Link status as the solver tracks it (EPANET's `StatusType`; the order matters: `<= Closed` means closed).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    /// A pump that cannot deliver its head (temporarily closed).
    XHead,
    /// Temporarily closed (a full or empty tank).
    TempClosed,
    /// Closed.
    Closed,
    /// Open.
    Open,
    /// A control valve regulating.
    Active,
    /// A pump beyond its maximum flow.
    XFlow,
    /// A flow control valve that cannot deliver its flow.
    XFcv,
    /// A pressure valve that cannot deliver its pressure.
    XPressure,
}

impl Status {
    /// Whether the link carries no flow.
    pub fn is_closed(self) -> bool {
        self <= Status::Closed
    }

    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::XHead => "closed (head)",
            Status::TempClosed => "closed (tank)",
            Status::Closed => "closed",
            Status::Open => "open",
            Status::Active => "active",
            Status::XFlow => "open (over max flow)",
            Status::XFcv => "open (cannot deliver flow)",
            Status::XPressure => "open (cannot deliver pressure)",
        }
    }
}

impl From<LinkStatus> for Status {
    fn from(s: LinkStatus) -> Self {
        match s {
            LinkStatus::Open => Status::Open,
            LinkStatus::Closed => Status::Closed,
            LinkStatus::Active => Status::Active,
        }
    }
}

/// A rule premise in internal terms.
#[derive(Clone, Debug)]
pub(super) struct PremiseParams {
    pub or: bool,
    pub object: RuleObject,
    pub variable: RuleVariable,
    pub relation: super::network::Relation,
    /// Numeric value in the file's units (EPANET compares in them, with a 1e-3 tolerance), or a time in s.
    pub value: f64,
    /// Status compared against, when the premise tests one.
    pub status: Option<LinkStatus>,
}

/// A rule action in internal terms.
#[derive(Clone, Debug)]
pub(super) struct ActionParams {
    pub link: usize,
    pub status: Option<LinkStatus>,
    /// Setting in the file's units (converted when applied, as EPANET does), or [`MISSING`].
    pub setting: f64,
}

/// A rule in internal terms.
#[derive(Clone, Debug)]
pub(super) struct RuleParams {
    pub premises: Vec<PremiseParams>,
    pub then_actions: Vec<ActionParams>,
    pub else_actions: Vec<ActionParams>,
    pub priority: f64,
}

/// The network in internal units.
#[derive(Clone, Debug)]
pub(super) struct Model {
    pub units: Units,
    /// Node and link ids, for messages.
    pub node_ids: Vec<String>,
    pub njuncs: usize,
    pub nnodes: usize,
    pub nlinks: usize,
    /// Node elevations, ft (reservoirs: head).
    pub el: Vec<f64>,
    pub from: Vec<usize>,
    pub to: Vec<usize>,
    pub ltype: Vec<LinkType>,
    /// Diameters, ft (pumps: 0).
    pub diam: Vec<f64>,
    /// Resistance coefficients.
    pub r: Vec<f64>,
    /// Minor loss coefficients, ft per cfs².
    pub km: Vec<f64>,
    /// Pipe roughness (H-W C, D-W ft, C-M n).
    pub kc: Vec<f64>,
    /// Initial status and setting of each link.
    pub init_status: Vec<Status>,
    pub init_setting: Vec<f64>,
    /// GPV head-loss curves (cfs, ft), by link.
    pub gpv_curve: Vec<Option<Vec<(f64, f64)>>>,
    pub pumps: Vec<PumpParams>,
    /// Tanks and reservoirs, by node index − njuncs.
    pub tanks: Vec<TankParams>,
    /// Valve link indices, in file order.
    pub valves: Vec<usize>,
    pub patterns: Vec<Vec<f64>>,
    /// Demand categories per junction: (base cfs, pattern).
    pub demands: Vec<Vec<(f64, Option<usize>)>>,
    /// Emitter coefficients, ft per cfs^qexp (0: none), per node.
    pub ke: Vec<f64>,
    pub controls: Vec<ControlParams>,
    pub rules: Vec<RuleParams>,
    // Options.
    pub headloss: HeadLoss,
    pub hexp: f64,
    pub viscos: f64,
    pub hacc: f64,
    pub htol: f64,
    pub qtol: f64,
    pub rqtol: f64,
    pub max_iter: u32,
    pub extra_iter: Option<u32>,
    pub check_freq: u32,
    pub max_check: u32,
    pub damp_limit: f64,
    pub head_error_limit: f64,
    pub flow_change_limit: f64,
    pub dmult: f64,
    pub qexp: f64,
    pub pda: bool,
    pub pmin: f64,
    pub preq: f64,
    pub pexp: f64,
    // Times, s.
    pub dur: i64,
    pub hstep: i64,
    pub pstep: i64,
    pub pstart: i64,
    pub rstep: i64,
    pub rulestep: i64,
    pub tstart: i64,
}

fn invalid(what: String) -> WaterError {
    WaterError::InvalidNetwork { what }
}

impl Model {
    /// Converts and checks a network (EPANET's `convertunits`, `inittanks`, `updatepumpparams`, `unlinked`).
    pub(super) fn new(net: &WaterNetwork) -> Result<Model, WaterError> {
        let u = net.units;
        let kl = u.internal_per_si(Quantity::Length);
        let kq = u.internal_per_si(Quantity::Flow);
        let kv = u.internal_per_si(Quantity::Volume);
        let nnodes = net.nodes.len();
        let njuncs = net.junctions;
        let nlinks = net.links.len();
        if njuncs == 0 {
            return Err(invalid("the network has no junctions".into()));
        }
        if nnodes == njuncs {
            return Err(invalid("the network has no reservoir or tank".into()));
        }
        let opts = &net.options;
        let hexp = if opts.headloss == HeadLoss::HazenWilliams {
            1.852
        } else {
            2.0
        };
        let el: Vec<f64> = net.nodes.iter().map(|n| n.elevation_m * kl).collect();
        let curve_pts = |i: usize, kx: f64, ky: f64| -> Vec<(f64, f64)> {
            net.curves[i]
                .points
                .iter()
                .map(|p| (p[0] * kx, p[1] * ky))
                .collect()
        };
        let check_pattern = |p: Option<usize>, what: &str| -> Result<(), WaterError> {
            match p {
                Some(i) if i >= net.patterns.len() || net.patterns[i].factors.is_empty() => Err(
                    invalid(format!("{what} refers to a missing or empty pattern")),
                ),
                _ => Ok(()),
            }
        };

        // Nodes.
        let mut demands = Vec::with_capacity(njuncs);
        let mut ke = vec![0.0; nnodes];
        let qexp = 1.0 / opts.emitter_exponent;
        let mut tanks = Vec::with_capacity(nnodes - njuncs);
        for (i, n) in net.nodes.iter().enumerate() {
            let junction = i < njuncs;
            match (&n.kind, junction) {
                (NodeKind::Junction, true) => {}
                (NodeKind::Junction, false) | (_, true) => {
                    return Err(invalid(format!(
                        "node {}: junctions must come before reservoirs and tanks",
                        n.id
                    )))
                }
                _ => {}
            }
            if !n.elevation_m.is_finite() {
                return Err(invalid(format!("node {}: elevation is not a number", n.id)));
            }
            if junction {
                let mut d = Vec::with_capacity(n.demands.len());
                for dem in &n.demands {
                    check_pattern(dem.pattern, &format!("junction {}'s demand", n.id))?;
                    d.push((dem.base_m3s * kq, dem.pattern));
                }
                demands.push(d);
                if n.emitter > 0.0 {
                    ke[i] = kl / (kq * n.emitter).powf(qexp);
                }
                continue;
            }
            let t = match &n.kind {
                NodeKind::Reservoir { head_pattern } => {
                    check_pattern(*head_pattern, &format!("reservoir {}", n.id))?;
                    TankParams {
                        node: i,
                        area: 0.0,
                        hmin: el[i],
                        hmax: el[i],
                        h0: el[i],
                        vmin: 0.0,
                        vmax: 0.0,
                        v0: 0.0,
                        vcurve: None,
                        pattern: *head_pattern,
                        overflow: false,
                    }
                }
                NodeKind::Tank(t) => {
                    let (l0, lmin, lmax) =
                        (t.init_level_m * kl, t.min_level_m * kl, t.max_level_m * kl);
                    let bad = || {
                        invalid(format!(
                            "tank {}: levels must satisfy minimum ≤ initial ≤ maximum (within its volume curve)",
                            n.id
                        ))
                    };
                    if l0 > lmax || lmin > lmax || l0 < lmin || lmin < 0.0 {
                        return Err(bad());
                    }
                    let (area, vmin, vmax, v0, vcurve) = match t.volume_curve {
                        Some(c) => {
                            let pts = curve_pts(c, kl, kv);
                            let (first, last) = match (pts.first(), pts.last()) {
                                (Some(f), Some(l)) => (*f, *l),
                                _ => return Err(bad()),
                            };
                            if lmin < first.0 || lmax > last.0 {
                                return Err(bad());
                            }
                            let area = if last.0 > first.0 {
                                (last.1 - first.1) / (last.0 - first.0)
                            } else {
                                0.0
                            };
                            (
                                area,
                                interp(&pts, lmin),
                                interp(&pts, lmax),
                                interp(&pts, l0),
                                Some(pts),
                            )
                        }
                        None => {
                            let d = t.diameter_m * kl;
                            let area = std::f64::consts::PI * d * d / 4.0;
                            let mut vmin = area * lmin;
                            if t.min_volume_m3 > 0.0 {
                                vmin = t.min_volume_m3 * kv;
                            }
                            (
                                area,
                                vmin,
                                vmin + area * (lmax - lmin),
                                vmin + area * (l0 - lmin),
                                None,
                            )
                        }
                    };
                    if area.is_nan() || area <= 0.0 {
                        return Err(invalid(format!(
                            "tank {}: its diameter (or volume curve) gives no area",
                            n.id
                        )));
                    }
                    TankParams {
                        node: i,
                        area,
                        hmin: el[i] + lmin,
                        hmax: el[i] + lmax,
                        h0: el[i] + l0,
                        vmin,
                        vmax,
                        v0,
                        vcurve,
                        pattern: None,
                        overflow: t.overflow,
                    }
                }
                NodeKind::Junction => unreachable!("checked above"),
            };
            tanks.push(t);
        }

        // Links.
        let mut from = Vec::with_capacity(nlinks);
        let mut to = Vec::with_capacity(nlinks);
        let mut ltype = Vec::with_capacity(nlinks);
        let mut diam = vec![0.0; nlinks];
        let mut r = vec![0.0; nlinks];
        let mut km = vec![0.0; nlinks];
        let mut kc = vec![0.0; nlinks];
        let mut init_status = Vec::with_capacity(nlinks);
        let mut init_setting = Vec::with_capacity(nlinks);
        let mut gpv_curve = vec![None; nlinks];
        let mut pumps = Vec::new();
        let mut valves = Vec::new();
        let mut linked = vec![false; nnodes];
        for (k, l) in net.links.iter().enumerate() {
            if l.from >= nnodes || l.to >= nnodes || l.from == l.to {
                return Err(invalid(format!("link {}: bad end nodes", l.id)));
            }
            linked[l.from] = true;
            linked[l.to] = true;
            from.push(l.from);
            to.push(l.to);
            let status = Status::from(l.status);
            match &l.kind {
                LinkKind::Pipe(p) => {
                    if !(p.length_m > 0.0 && p.diameter_m > 0.0) {
                        return Err(invalid(format!(
                            "pipe {}: length and diameter must be positive",
                            l.id
                        )));
                    }
                    let d = p.diameter_m * kl;
                    let len = p.length_m * kl;
                    let e = if opts.headloss == HeadLoss::DarcyWeisbach {
                        p.roughness * kl
                    } else {
                        p.roughness
                    };
                    diam[k] = d;
                    kc[k] = e;
                    km[k] = 0.02517 * p.minor_loss / (d * d) / (d * d);
                    r[k] = match opts.headloss {
                        HeadLoss::HazenWilliams => 4.727 * len / e.powf(hexp) / d.powf(4.871),
                        HeadLoss::DarcyWeisbach => {
                            let a = std::f64::consts::PI * d * d / 4.0;
                            len / 2.0 / 32.2 / d / (a * a)
                        }
                        HeadLoss::ChezyManning => {
                            let c = 4.0 * e / (1.49 * std::f64::consts::PI * d * d);
                            c * c * (d / 4.0).powf(-1.333) * len
                        }
                    };
                    ltype.push(if p.check_valve {
                        LinkType::CvPipe
                    } else {
                        LinkType::Pipe
                    });
                    init_status.push(if status == Status::Active {
                        Status::Open
                    } else {
                        status
                    });
                    init_setting.push(e);
                }
                LinkKind::Pump(p) => {
                    check_pattern(p.speed_pattern, &format!("pump {}", l.id))?;
                    let pp = pump_params(net, k, p, kq, kl)?;
                    ltype.push(LinkType::Pump(pumps.len()));
                    pumps.push(pp);
                    r[k] = CBIG;
                    let speed = l.setting.unwrap_or(1.0);
                    if speed.is_nan() || speed < 0.0 {
                        return Err(invalid(format!("pump {}: negative speed", l.id)));
                    }
                    init_status.push(if status == Status::Active {
                        Status::Open
                    } else {
                        status
                    });
                    init_setting.push(speed);
                }
                LinkKind::Valve(v) => {
                    if v.diameter_m.is_nan() || v.diameter_m <= 0.0 {
                        return Err(invalid(format!(
                            "valve {}: diameter must be positive",
                            l.id
                        )));
                    }
                    let d = v.diameter_m * kl;
                    diam[k] = d;
                    km[k] = 0.02517 * v.minor_loss / (d * d) / (d * d);
                    r[k] = CSMALL;
                    let setting = match (v.kind, l.setting) {
                        (_, None) => MISSING,
                        (ValveKind::Prv | ValveKind::Psv | ValveKind::Pbv, Some(s)) => s * kl,
                        (ValveKind::Fcv, Some(s)) => s * kq,
                        (ValveKind::Tcv, Some(s)) => s,
                        (ValveKind::Gpv, Some(_)) => 0.0,
                    };
                    if v.kind == ValveKind::Gpv {
                        let c = v
                            .curve
                            .ok_or_else(|| invalid(format!("GPV {}: no head-loss curve", l.id)))?;
                        gpv_curve[k] = Some(curve_pts(c, kq, kl));
                    }
                    ltype.push(LinkType::Valve(v.kind));
                    valves.push(k);
                    init_status.push(status);
                    init_setting.push(setting);
                }
            }
        }
        if let Some(i) = (0..njuncs).find(|&i| !linked[i]) {
            return Err(invalid(format!(
                "junction {} is not connected to any link",
                net.nodes[i].id
            )));
        }

        // Controls.
        let mut controls = Vec::with_capacity(net.controls.len());
        for c in &net.controls {
            let k = c.link;
            if k >= nlinks {
                return Err(invalid("a control refers to a missing link".into()));
            }
            let setting = match c.setting {
                Some(s) => setting_internal(ltype[k], s, kl, kq),
                None => MISSING,
            };
            if let ControlCondition::Below { node, .. } | ControlCondition::Above { node, .. } =
                c.condition
            {
                if node >= nnodes {
                    return Err(invalid("a control refers to a missing node".into()));
                }
            }
            let (node, ctype, time, grade) = match c.condition {
                ControlCondition::Below { node, value_m } => (
                    Some(node),
                    ControlType::LowLevel,
                    0,
                    el[node] + value_m * kl,
                ),
                ControlCondition::Above { node, value_m } => {
                    (Some(node), ControlType::HiLevel, 0, el[node] + value_m * kl)
                }
                ControlCondition::AtTime(t) => (None, ControlType::Timer, t, 0.0),
                ControlCondition::AtClockTime(t) => {
                    (None, ControlType::TimeOfDay, t.rem_euclid(86_400), 0.0)
                }
            };
            controls.push(ControlParams {
                link: k,
                node,
                ctype,
                status: c.status.into(),
                setting,
                time,
                grade,
            });
        }

        for rule in &net.rules {
            let bad_object = rule.premises.iter().any(|p| match p.object {
                RuleObject::Node(i) => i >= nnodes,
                RuleObject::Link(k) => k >= nlinks,
                RuleObject::System => false,
            });
            let bad_action = rule
                .then_actions
                .iter()
                .chain(&rule.else_actions)
                .any(|a| a.link >= nlinks);
            if bad_object || bad_action {
                return Err(invalid(format!(
                    "rule {} refers to a missing node or link",
                    rule.label
                )));
            }
        }
        // Rules: thresholds back to the file's units, where EPANET compares them.
        let rules = net
            .rules
            .iter()
            .map(|rule| RuleParams {
                premises: rule
                    .premises
                    .iter()
                    .map(|p| {
                        let (value, status) = match p.value {
                            PremiseValue::Number(x) => {
                                (premise_user_value(&u, net, p.object, p.variable, x), None)
                            }
                            PremiseValue::Status(s) => (MISSING, Some(s)),
                            PremiseValue::Time(t) => (t as f64, None),
                        };
                        PremiseParams {
                            or: p.or,
                            object: p.object,
                            variable: p.variable,
                            relation: p.relation,
                            value,
                            status,
                        }
                    })
                    .collect(),
                then_actions: actions(&u, net, &rule.then_actions),
                else_actions: actions(&u, net, &rule.else_actions),
                priority: rule.priority,
            })
            .collect();

        let times = &net.times;
        let hstep = times.hydraulic_step_s.max(1);
        Ok(Model {
            units: u,
            node_ids: net.nodes.iter().map(|n| n.id.clone()).collect(),
            njuncs,
            nnodes,
            nlinks,
            el,
            from,
            to,
            ltype,
            diam,
            r,
            km,
            kc,
            init_status,
            init_setting,
            gpv_curve,
            pumps,
            tanks,
            valves,
            patterns: net.patterns.iter().map(|p| p.factors.clone()).collect(),
            demands,
            ke,
            controls,
            rules,
            headloss: opts.headloss,
            hexp,
            viscos: opts.viscosity_m2s / (M_PER_FT * M_PER_FT),
            hacc: opts.accuracy,
            htol: opts.head_tolerance_m / M_PER_FT,
            qtol: opts.flow_tolerance_m3s / (M_PER_FT * M_PER_FT * M_PER_FT),
            rqtol: opts.rq_tolerance,
            max_iter: opts.trials.max(1),
            extra_iter: opts.unbalanced_continue,
            check_freq: opts.check_frequency.max(1),
            max_check: opts.max_check,
            damp_limit: opts.damp_limit,
            head_error_limit: opts.head_error_m * kl,
            flow_change_limit: opts.flow_change_m3s * kq,
            dmult: opts.demand_multiplier,
            qexp,
            pda: opts.demand_model == super::network::DemandModel::PressureDriven,
            pmin: opts.minimum_pressure_m * kl,
            preq: opts.required_pressure_m * kl,
            pexp: opts.pressure_exponent,
            dur: times.duration_s.max(0),
            hstep,
            pstep: times.pattern_step_s.max(1),
            pstart: times.pattern_start_s.max(0),
            rstep: times.report_step_s.max(1),
            rulestep: times.rule_step_s.clamp(1, hstep),
            tstart: times.start_clocktime_s.rem_euclid(86_400),
        })
    }

    /// Whether node `n` is a junction.
    #[inline]
    pub(super) fn is_junction(&self, n: usize) -> bool {
        n < self.njuncs
    }
}

/// A link setting in SI converted to internal units.
pub(super) fn setting_internal(t: LinkType, s: f64, kl: f64, kq: f64) -> f64 {
    match t {
        LinkType::Valve(ValveKind::Prv | ValveKind::Psv | ValveKind::Pbv) => s * kl,
        LinkType::Valve(ValveKind::Fcv) => s * kq,
        _ => s,
    }
}

/// A rule threshold in SI converted to the file's units.
fn premise_user_value(
    u: &Units,
    net: &WaterNetwork,
    obj: RuleObject,
    v: RuleVariable,
    x: f64,
) -> f64 {
    match v {
        RuleVariable::Demand | RuleVariable::Flow => u.to_user(Quantity::Flow, x),
        RuleVariable::Head | RuleVariable::Grade | RuleVariable::Level => {
            u.to_user(Quantity::Length, x)
        }
        RuleVariable::Pressure => u.to_user(Quantity::Pressure, x),
        RuleVariable::Setting => match obj {
            RuleObject::Link(k) => match &net.links[k].kind {
                LinkKind::Valve(vv) => match vv.kind {
                    ValveKind::Prv | ValveKind::Psv | ValveKind::Pbv => {
                        u.to_user(Quantity::Pressure, x)
                    }
                    ValveKind::Fcv => u.to_user(Quantity::Flow, x),
                    _ => x,
                },
                _ => x,
            },
            _ => x,
        },
        _ => x,
    }
}

fn actions(u: &Units, net: &WaterNetwork, a: &[super::network::RuleAction]) -> Vec<ActionParams> {
    a.iter()
        .map(|a| ActionParams {
            link: a.link,
            status: a.status,
            setting: match a.setting {
                Some(s) => {
                    premise_user_value(u, net, RuleObject::Link(a.link), RuleVariable::Setting, s)
                }
                None => MISSING,
            },
        })
        .collect()
}

/// EPANET's pump curve fit (`updatepumpparams`, `powercurve`) in internal units.
fn pump_params(
    net: &WaterNetwork,
    k: usize,
    p: &super::network::Pump,
    kq: f64,
    kl: f64,
) -> Result<PumpParams, WaterError> {
    let id = &net.links[k].id;
    let bad = || invalid(format!("pump {id}: invalid head curve"));
    match p.head {
        PumpHead::Power(kw) => {
            if kw.is_nan() || kw <= 0.0 {
                return Err(invalid(format!("pump {id}: power must be positive")));
            }
            let hp = kw * net.units.internal_per_si(Quantity::Power);
            Ok(PumpParams {
                link: k,
                ptype: PumpType::ConstHp,
                h0: 0.0,
                r: -8.814 * hp,
                n: -1.0,
                hmax: BIG,
                q0: 1.0,
                curve: Vec::new(),
                pattern: p.speed_pattern,
            })
        }
        PumpHead::Curve(c) => {
            let curve = net.curves.get(c).ok_or_else(bad)?;
            if curve.kind != CurveKind::PumpHead && curve.kind != CurveKind::Generic {
                return Err(bad());
            }
            let pts: Vec<(f64, f64)> = curve
                .points
                .iter()
                .map(|q| (q[0] * kq, q[1] * kl))
                .collect();
            let fit =
                |h0: f64, h1: f64, h2: f64, q1: f64, q2: f64| -> Result<PumpParams, WaterError> {
                    let (a, b, c) = power_curve(h0, h1, h2, q1, q2).ok_or_else(bad)?;
                    Ok(PumpParams {
                        link: k,
                        ptype: PumpType::PowerFunc,
                        h0: -a,
                        r: -b,
                        n: c,
                        hmax: h0,
                        q0: q1,
                        curve: Vec::new(),
                        pattern: p.speed_pattern,
                    })
                };
            match pts.len() {
                0 => Err(bad()),
                1 => {
                    let (q1, h1) = pts[0];
                    fit(1.33334 * h1, h1, 0.0, q1, 2.0 * q1)
                }
                3 if pts[0].0 == 0.0 => fit(pts[0].1, pts[1].1, pts[2].1, pts[1].0, pts[2].0),
                n => {
                    if pts.windows(2).any(|w| w[1].1 >= w[0].1) {
                        return Err(bad());
                    }
                    Ok(PumpParams {
                        link: k,
                        ptype: PumpType::Custom,
                        h0: 0.0,
                        r: 0.0,
                        n: 1.0,
                        hmax: pts[0].1,
                        q0: (pts[0].0 + pts[n - 1].0) / 2.0,
                        curve: pts,
                        pattern: p.speed_pattern,
                    })
                }
            }
        }
    }
}

/// Fits `h = a − b·q^c` through shutoff head `h0`, design point (`q1`, `h1`) and maximum flow point (`q2`, `h2`)
/// (EPANET's `powercurve`; `b` comes back negative, as there).
pub(super) fn power_curve(h0: f64, h1: f64, h2: f64, q1: f64, q2: f64) -> Option<(f64, f64, f64)> {
    if h0 < TINY || h0 - h1 < TINY || h1 - h2 < TINY || q1 < TINY || q2 - q1 < TINY {
        return None;
    }
    let h4 = h0 - h1;
    let h5 = h0 - h2;
    let c = (h5 / h4).ln() / (q2 / q1).ln();
    if !(c > 0.0 && c <= 20.0) {
        return None;
    }
    let b = -h4 / q1.powf(c);
    if b >= 0.0 {
        return None;
    }
    Some((h0, b, c))
}

/// Linear interpolation on a curve (EPANET's `interp`: clamped to the end values beyond the ends).
pub(super) fn interp(pts: &[(f64, f64)], x: f64) -> f64 {
    let n = pts.len();
    if n == 0 {
        return 0.0;
    }
    if n == 1 || x <= pts[0].0 {
        return pts[0].1;
    }
    for m in 1..n {
        if pts[m].0 >= x {
            let dx = pts[m].0 - pts[m - 1].0;
            let dy = pts[m].1 - pts[m - 1].1;
            if dx.abs() < TINY {
                return pts[m].1;
            }
            return pts[m].1 - (pts[m].0 - x) * dy / dx;
        }
    }
    pts[n - 1].1
}

/// The intercept and slope of the curve segment that brackets `x` (EPANET's `curvecoeff`; the first or last
/// segment beyond the ends).
pub(super) fn interp_segment(pts: &[(f64, f64)], x: f64) -> (f64, f64) {
    let n = pts.len();
    if n < 2 {
        return (pts.first().map_or(0.0, |p| p.1), 0.0);
    }
    let mut k2 = 0;
    while k2 < n && pts[k2].0 < x {
        k2 += 1;
    }
    if k2 == 0 {
        k2 = 1;
    } else if k2 == n {
        k2 = n - 1;
    }
    let (a, b) = (pts[k2 - 1], pts[k2]);
    let r = (b.1 - a.1) / (b.0 - a.0);
    (a.1 - r * a.0, r)
}

/// Same as [`interp`], with x and y swapped.
pub(super) fn interp_inverse(pts: &[(f64, f64)], y: f64) -> f64 {
    let swapped: Vec<(f64, f64)> = pts.iter().map(|p| (p.1, p.0)).collect();
    interp(&swapped, y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn power_curve_through_three_points() {
        // EPANET's 1-point rule: shutoff 4/3 of design head, zero head at twice the design flow.
        let (a, b, c) = power_curve(1.33334 * 100.0, 100.0, 0.0, 1.0, 2.0).expect("valid");
        let h = |q: f64| a + b * q.powf(c);
        assert!((h(1.0) - 100.0).abs() < 1e-9);
        assert!(h(2.0).abs() < 1e-9);
        assert!((c - 2.0).abs() < 1e-3, "c = {c}");
        assert!(
            power_curve(100.0, 120.0, 0.0, 1.0, 2.0).is_none(),
            "rising head refused"
        );
    }

    #[test]
    fn interp_clamps_and_interpolates() {
        let pts = [(0.0, 10.0), (1.0, 20.0), (3.0, 20.0)];
        assert_eq!(interp(&pts, -1.0), 10.0);
        assert_eq!(interp(&pts, 0.5), 15.0);
        assert_eq!(interp(&pts, 5.0), 20.0);
        assert_eq!(interp_inverse(&[(0.0, 0.0), (2.0, 4.0)], 2.0), 1.0);
    }
}

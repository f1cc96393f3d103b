//! The water network model: nodes, links, patterns, curves, controls, rules and options, as an EPANET input file
//! describes them, in SI units (see [`super::units`]).

use super::units::Units;
use crate::ids::FeatureId;
use serde::{Deserialize, Serialize};

/// An EPANET water network, ready to solve.
///
/// Nodes are in EPANET's order: all junctions first (in file order), then reservoirs and tanks (in file order);
/// links in file order. Indices into [`Self::nodes`], [`Self::links`], [`Self::patterns`] and [`Self::curves`] are
/// the ids used everywhere else in the model.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WaterNetwork {
    /// Title lines (`[TITLE]`, at most three).
    pub title: Vec<String>,
    /// Units of the source file (kept for EPANET-exact conversions and for rule thresholds).
    pub units: Units,
    /// Hydraulic options.
    pub options: HydraulicOptions,
    /// Time settings.
    pub times: TimeOptions,
    /// Nodes: junctions, then reservoirs and tanks.
    pub nodes: Vec<WaterNode>,
    /// Number of junctions (the first nodes).
    pub junctions: usize,
    /// Links: pipes, pumps and valves.
    pub links: Vec<WaterLink>,
    /// Time patterns (multipliers per pattern period).
    pub patterns: Vec<Pattern>,
    /// Curves (pump head, efficiency, tank volume, valve head loss).
    pub curves: Vec<Curve>,
    /// Simple controls (`[CONTROLS]`).
    pub controls: Vec<Control>,
    /// Rule-based controls (`[RULES]`).
    pub rules: Vec<Rule>,
}

impl WaterNetwork {
    /// Checks that every node, link, pattern and curve index in the network is in range (the reader builds only
    /// such networks; a scene file read back is checked with this).
    ///
    /// # Errors
    /// The first reference out of range.
    pub fn check_references(&self) -> Result<(), String> {
        let (nn, nl, np, nc) = (
            self.nodes.len(),
            self.links.len(),
            self.patterns.len(),
            self.curves.len(),
        );
        let bad = |what: &str, i: usize, n: usize| -> Result<(), String> {
            if i < n {
                Ok(())
            } else {
                Err(format!("{what} {i} of {n}"))
            }
        };
        let opt = |what: &str, i: Option<usize>, n: usize| i.map_or(Ok(()), |i| bad(what, i, n));
        if self.junctions > nn {
            return Err(format!("{} junctions of {nn} nodes", self.junctions));
        }
        if let Some(p) = self.patterns.iter().find(|p| p.factors.is_empty()) {
            return Err(format!("pattern {} has no factors", p.id));
        }
        if let Some(c) = self.curves.iter().find(|c| c.points.is_empty()) {
            return Err(format!("curve {} has no points", c.id));
        }
        for n in &self.nodes {
            for d in &n.demands {
                opt("demand pattern", d.pattern, np)?;
            }
            match &n.kind {
                NodeKind::Junction => {}
                NodeKind::Reservoir { head_pattern } => opt("head pattern", *head_pattern, np)?,
                NodeKind::Tank(t) => opt("volume curve", t.volume_curve, nc)?,
            }
        }
        for l in &self.links {
            bad("link end node", l.from, nn)?;
            bad("link end node", l.to, nn)?;
            match &l.kind {
                LinkKind::Pipe(_) => {}
                LinkKind::Pump(p) => {
                    if let PumpHead::Curve(c) = p.head {
                        bad("pump curve", c, nc)?;
                    }
                    opt("speed pattern", p.speed_pattern, np)?;
                    opt("efficiency curve", p.efficiency_curve, nc)?;
                }
                LinkKind::Valve(v) => opt("valve curve", v.curve, nc)?,
            }
        }
        for c in &self.controls {
            bad("control link", c.link, nl)?;
            if let ControlCondition::Below { node, .. } | ControlCondition::Above { node, .. } =
                c.condition
            {
                bad("control node", node, nn)?;
            }
        }
        for r in &self.rules {
            for p in &r.premises {
                match p.object {
                    RuleObject::Node(i) => bad("rule node", i, nn)?,
                    RuleObject::Link(i) => bad("rule link", i, nl)?,
                    RuleObject::System => {}
                }
            }
            for a in r.then_actions.iter().chain(&r.else_actions) {
                bad("rule link", a.link, nl)?;
            }
        }
        Ok(())
    }

    /// The index of the node with this id.
    pub fn node_index(&self, id: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.id == id)
    }

    /// The index of the link with this id.
    pub fn link_index(&self, id: &str) -> Option<usize> {
        self.links.iter().position(|l| l.id == id)
    }

    /// Whether node `i` is a junction.
    pub fn is_junction(&self, i: usize) -> bool {
        i < self.junctions
    }

    /// Splits pipe `k` in two at its middle with a new junction (for a burst on the pipe): the first half keeps
    /// the link's index and id, the second half is appended as link `"{id}#2"`, the junction (id `"{id}#mid"`,
    /// elevation the mean of the ends', no demand) is inserted after the existing junctions, so node indices
    /// from there on move up by one everywhere they are used. Returns the new junction's and link's indices.
    ///
    /// # Errors
    /// A message when `k` is not a pipe.
    pub fn split_pipe(&mut self, k: usize) -> Result<(usize, usize), String> {
        let link = self.links.get(k).ok_or("no such link")?.clone();
        let LinkKind::Pipe(pipe) = &link.kind else {
            return Err(format!("link {} is not a pipe", link.id));
        };
        let at = self.junctions;
        let shift = |i: &mut usize| {
            if *i >= at {
                *i += 1;
            }
        };
        for l in &mut self.links {
            shift(&mut l.from);
            shift(&mut l.to);
        }
        for c in &mut self.controls {
            if let ControlCondition::Below { node, .. } | ControlCondition::Above { node, .. } =
                &mut c.condition
            {
                shift(node);
            }
        }
        for r in &mut self.rules {
            for p in &mut r.premises {
                if let RuleObject::Node(n) = &mut p.object {
                    shift(n);
                }
            }
        }
        let (from, to) = (self.links[k].from, self.links[k].to);
        // `link` holds the indices from before the shift, which still index `self.nodes` here.
        let elevation_m =
            (self.nodes[link.from].elevation_m + self.nodes[link.to].elevation_m) / 2.0;
        let position = match (self.nodes[link.from].position, self.nodes[link.to].position) {
            (Some(a), Some(b)) => Some([(a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0]),
            _ => None,
        };
        self.nodes.insert(
            at,
            WaterNode {
                id: format!("{}#mid", link.id),
                elevation_m,
                kind: NodeKind::Junction,
                demands: Vec::new(),
                emitter: 0.0,
                position,
                feature: None,
            },
        );
        self.junctions += 1;
        let half = Pipe {
            length_m: pipe.length_m / 2.0,
            ..pipe.clone()
        };
        self.links[k].to = at;
        self.links[k].kind = LinkKind::Pipe(Pipe {
            minor_loss: pipe.minor_loss,
            ..half.clone()
        });
        self.links.push(WaterLink {
            id: format!("{}#2", link.id),
            from: at,
            to,
            kind: LinkKind::Pipe(Pipe {
                minor_loss: 0.0,
                ..half
            }),
            status: link.status,
            setting: link.setting,
            vertices: Vec::new(),
            feature: link.feature,
        });
        debug_assert_eq!(self.links[k].from, from);
        Ok((at, self.links.len() - 1))
    }

    /// Number of tanks (not counting reservoirs).
    pub fn tank_count(&self) -> usize {
        self.nodes
            .iter()
            .filter(|n| matches!(n.kind, NodeKind::Tank(_)))
            .count()
    }
}

/// A node.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WaterNode {
    /// EPANET id.
    pub id: String,
    /// Elevation, m (for a reservoir: its total head, m).
    pub elevation_m: f64,
    /// Junction, reservoir or tank.
    pub kind: NodeKind,
    /// Demand categories (junctions only).
    pub demands: Vec<Demand>,
    /// Emitter discharge coefficient, m³/s per m of pressure head to the power of the emitter exponent (0 =
    /// none).
    pub emitter: f64,
    /// Position from `[COORDINATES]`, in the file's coordinates.
    pub position: Option<[f64; 2]>,
    /// The scene feature that is this node, when the network is a scene layer.
    pub feature: Option<FeatureId>,
}

/// What a node is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum NodeKind {
    /// A junction: demands, an optional emitter.
    Junction,
    /// A reservoir: a fixed head (the node's elevation), optionally varied by a pattern.
    Reservoir {
        /// Head pattern.
        head_pattern: Option<usize>,
    },
    /// A storage tank.
    Tank(Tank),
}

/// A storage tank.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tank {
    /// Initial water level above the bottom (the node's elevation), m.
    pub init_level_m: f64,
    /// Minimum level, m.
    pub min_level_m: f64,
    /// Maximum level, m.
    pub max_level_m: f64,
    /// Diameter, m.
    pub diameter_m: f64,
    /// Volume at the minimum level, m³ (0: from the diameter).
    pub min_volume_m3: f64,
    /// Volume curve (level, m → volume, m³).
    pub volume_curve: Option<usize>,
    /// Whether the tank may overflow when full.
    pub overflow: bool,
}

/// One demand category of a junction.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Demand {
    /// Base demand, m³/s.
    pub base_m3s: f64,
    /// Pattern (`None`: constant).
    pub pattern: Option<usize>,
    /// Category name (the comment in `[DEMANDS]`).
    pub name: Option<String>,
}

/// A link.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WaterLink {
    /// EPANET id.
    pub id: String,
    /// Start node.
    pub from: usize,
    /// End node.
    pub to: usize,
    /// Pipe, pump or valve.
    pub kind: LinkKind,
    /// Initial status: open or closed (valves with a setting start active).
    pub status: LinkStatus,
    /// Initial setting: pump speed; valve setting in SI (PRV/PSV/PBV: m of head; FCV: m³/s; TCV: loss
    /// coefficient; GPV: unused); `None` for a valve whose status `[STATUS]` fixed open or closed.
    pub setting: Option<f64>,
    /// Interior vertices from `[VERTICES]`, in the file's coordinates.
    pub vertices: Vec<[f64; 2]>,
    /// The scene feature that is this link, when the network is a scene layer.
    pub feature: Option<FeatureId>,
}

/// Open, closed or active (a control valve regulating).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LinkStatus {
    /// Open.
    Open,
    /// Closed.
    Closed,
    /// Regulating (valves).
    Active,
}

impl LinkStatus {
    /// EPANET's word.
    pub fn as_str(self) -> &'static str {
        match self {
            LinkStatus::Open => "OPEN",
            LinkStatus::Closed => "CLOSED",
            LinkStatus::Active => "ACTIVE",
        }
    }
}

/// What a link is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum LinkKind {
    /// A pipe.
    Pipe(Pipe),
    /// A pump.
    Pump(Pump),
    /// A valve.
    Valve(Valve),
}

impl LinkKind {
    /// Lowercase name: `pipe`, `cv_pipe`, `pump` or the valve type (`prv`…).
    pub fn name(&self) -> &'static str {
        match self {
            LinkKind::Pipe(p) if p.check_valve => "cv_pipe",
            LinkKind::Pipe(_) => "pipe",
            LinkKind::Pump(_) => "pump",
            LinkKind::Valve(v) => v.kind.as_str(),
        }
    }
}

/// A pipe.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pipe {
    /// Length, m.
    pub length_m: f64,
    /// Diameter, m.
    pub diameter_m: f64,
    /// Roughness: Hazen–Williams C, Darcy–Weisbach roughness height in m, or Manning's n (per
    /// [`HydraulicOptions::headloss`]).
    pub roughness: f64,
    /// Minor loss coefficient (velocity-head basis).
    pub minor_loss: f64,
    /// Whether the pipe has a check valve (flow only from `from` to `to`).
    pub check_valve: bool,
}

/// A pump.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pump {
    /// Head curve or constant power.
    pub head: PumpHead,
    /// Speed pattern.
    pub speed_pattern: Option<usize>,
    /// Efficiency curve (flow m³/s → %), for energy only.
    pub efficiency_curve: Option<usize>,
}

/// How a pump's head depends on its flow.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum PumpHead {
    /// A head curve (flow m³/s → head m).
    Curve(usize),
    /// Constant power, kW.
    Power(f64),
}

/// A valve.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Valve {
    /// Type.
    pub kind: ValveKind,
    /// Diameter, m.
    pub diameter_m: f64,
    /// Minor loss coefficient when fully open (velocity-head basis).
    pub minor_loss: f64,
    /// Head-loss curve of a GPV (flow m³/s → head loss m).
    pub curve: Option<usize>,
}

/// Valve types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ValveKind {
    /// Pressure reducing: holds the downstream pressure at its setting.
    Prv,
    /// Pressure sustaining: holds the upstream pressure at its setting.
    Psv,
    /// Pressure breaker: forces a head loss equal to its setting.
    Pbv,
    /// Flow control: limits the flow to its setting.
    Fcv,
    /// Throttle control: a minor loss coefficient set by its setting.
    Tcv,
    /// General purpose: a head-loss curve.
    Gpv,
}

impl ValveKind {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            ValveKind::Prv => "prv",
            ValveKind::Psv => "psv",
            ValveKind::Pbv => "pbv",
            ValveKind::Fcv => "fcv",
            ValveKind::Tcv => "tcv",
            ValveKind::Gpv => "gpv",
        }
    }
}

/// A time pattern.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pattern {
    /// EPANET id.
    pub id: String,
    /// Multipliers, one per pattern period (at least one).
    pub factors: Vec<f64>,
}

/// A curve of (x, y) points, x strictly increasing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Curve {
    /// EPANET id.
    pub id: String,
    /// What it is used for.
    pub kind: CurveKind,
    /// Points, in SI: pump (m³/s, m), efficiency (m³/s, %), volume (m, m³), head loss (m³/s, m).
    pub points: Vec<[f64; 2]>,
}

/// What a curve describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CurveKind {
    /// Pump head against flow.
    PumpHead,
    /// Pump efficiency against flow.
    Efficiency,
    /// Tank volume against level.
    Volume,
    /// Valve head loss against flow.
    HeadLoss,
    /// Not referenced by any element.
    Generic,
}

/// Head-loss formula.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum HeadLoss {
    /// Hazen–Williams (EPANET's default).
    #[default]
    HazenWilliams,
    /// Darcy–Weisbach.
    DarcyWeisbach,
    /// Chezy–Manning.
    ChezyManning,
}

/// Demand model.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum DemandModel {
    /// Demand-driven: demands are met whatever the pressure.
    #[default]
    DemandDriven,
    /// Pressure-driven: demands fall off below the required pressure.
    PressureDriven,
}

/// Hydraulic options (`[OPTIONS]`), in SI.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HydraulicOptions {
    /// Head-loss formula.
    pub headloss: HeadLoss,
    /// Kinematic viscosity, m²/s.
    pub viscosity_m2s: f64,
    /// Maximum trials per hydraulic solution.
    pub trials: u32,
    /// Convergence: total flow change over total flow.
    pub accuracy: f64,
    /// What to do when a solution does not converge: `None` stops the run (EPANET's `STOP`); `Some(n)` goes
    /// on after `n` extra trials without status changes (`CONTINUE n`).
    pub unbalanced_continue: Option<u32>,
    /// Global demand multiplier.
    pub demand_multiplier: f64,
    /// Emitter exponent (flow ∝ pressure^exponent).
    pub emitter_exponent: f64,
    /// Demand model.
    pub demand_model: DemandModel,
    /// Pressure-driven: pressure below which nothing is delivered, m.
    pub minimum_pressure_m: f64,
    /// Pressure-driven: pressure at which the full demand is delivered, m.
    pub required_pressure_m: f64,
    /// Pressure-driven: exponent of the demand–pressure curve.
    pub pressure_exponent: f64,
    /// Trials between status checks.
    pub check_frequency: u32,
    /// Trial after which status checks stop.
    pub max_check: u32,
    /// Relative error below which valve statuses are checked and updates damped (0: every trial, undamped).
    pub damp_limit: f64,
    /// Largest head-loss error allowed at convergence, m (0: not checked).
    pub head_error_m: f64,
    /// Largest flow change allowed at convergence, m³/s (0: not checked).
    pub flow_change_m3s: f64,
    /// Head tolerance for status decisions, m (EPANET's undocumented `HTOL`).
    pub head_tolerance_m: f64,
    /// Flow tolerance for status decisions, m³/s (EPANET's `QTOL`).
    pub flow_tolerance_m3s: f64,
    /// Smallest head-loss gradient, ft/cfs as EPANET's `RQTOL` (kept in EPANET's unit: it guards the solver).
    pub rq_tolerance: f64,
}

impl Default for HydraulicOptions {
    fn default() -> Self {
        let m = super::units::M_PER_FT;
        HydraulicOptions {
            headloss: HeadLoss::HazenWilliams,
            viscosity_m2s: 1.1e-5 * m * m,
            trials: 200,
            accuracy: 0.001,
            unbalanced_continue: None,
            demand_multiplier: 1.0,
            emitter_exponent: 0.5,
            demand_model: DemandModel::DemandDriven,
            minimum_pressure_m: 0.0,
            required_pressure_m: 0.1 * m / 0.4333,
            pressure_exponent: 0.5,
            check_frequency: 2,
            max_check: 10,
            damp_limit: 0.0,
            head_error_m: 0.0,
            flow_change_m3s: 0.0,
            head_tolerance_m: 0.0005 * m,
            flow_tolerance_m3s: 0.0001 * m * m * m,
            rq_tolerance: 1e-7,
        }
    }
}

/// Time settings (`[TIMES]`), in seconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimeOptions {
    /// Duration (0: a single steady state).
    pub duration_s: i64,
    /// Hydraulic time step.
    pub hydraulic_step_s: i64,
    /// Pattern period.
    pub pattern_step_s: i64,
    /// Pattern time at the start of the run.
    pub pattern_start_s: i64,
    /// Reporting step.
    pub report_step_s: i64,
    /// First reported time.
    pub report_start_s: i64,
    /// Rule evaluation step.
    pub rule_step_s: i64,
    /// Clock time of day at the start, seconds after midnight.
    pub start_clocktime_s: i64,
}

impl Default for TimeOptions {
    fn default() -> Self {
        TimeOptions {
            duration_s: 0,
            hydraulic_step_s: 3600,
            pattern_step_s: 3600,
            pattern_start_s: 0,
            report_step_s: 3600,
            report_start_s: 0,
            rule_step_s: 360,
            start_clocktime_s: 0,
        }
    }
}

/// A simple control (`[CONTROLS]`): set a link's status or setting when a condition holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Control {
    /// The controlled link.
    pub link: usize,
    /// The status it gets.
    pub status: LinkStatus,
    /// The setting it gets (SI, as [`WaterLink::setting`]); for a pump its speed.
    pub setting: Option<f64>,
    /// When.
    pub condition: ControlCondition,
}

/// When a simple control acts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ControlCondition {
    /// A tank's level (m above its bottom) or a junction's pressure (m of head) falls to or below a value.
    Below {
        /// The node.
        node: usize,
        /// Threshold, m.
        value_m: f64,
    },
    /// A tank's level or a junction's pressure rises to or above a value.
    Above {
        /// The node.
        node: usize,
        /// Threshold, m.
        value_m: f64,
    },
    /// At an elapsed time, s.
    AtTime(i64),
    /// At a clock time of day, s after midnight, every day.
    AtClockTime(i64),
}

/// A rule-based control (`[RULES]`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    /// Label.
    pub label: String,
    /// Conditions, combined left to right with each one's [`Premise::or`].
    pub premises: Vec<Premise>,
    /// Actions when the conditions hold.
    pub then_actions: Vec<RuleAction>,
    /// Actions when they do not.
    pub else_actions: Vec<RuleAction>,
    /// Priority (higher wins when rules act on the same link; 0 = none).
    pub priority: f64,
}

/// One condition of a rule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Premise {
    /// Joined to what came before by OR (else AND).
    pub or: bool,
    /// What is tested.
    pub object: RuleObject,
    /// Which variable.
    pub variable: RuleVariable,
    /// Comparison.
    pub relation: Relation,
    /// Value compared against.
    pub value: PremiseValue,
}

/// The object of a premise.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RuleObject {
    /// A node.
    Node(usize),
    /// A link.
    Link(usize),
    /// The whole system (demand, time, clock time).
    System,
}

/// A premise's variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RuleVariable {
    /// Node demand (or system demand).
    Demand,
    /// Hydraulic head.
    Head,
    /// Same as head.
    Grade,
    /// Tank level.
    Level,
    /// Pressure.
    Pressure,
    /// Link flow.
    Flow,
    /// Link status.
    Status,
    /// Link setting.
    Setting,
    /// Pump power (not evaluated by EPANET 2.2).
    Power,
    /// Elapsed time.
    Time,
    /// Clock time.
    ClockTime,
    /// Time for a tank to fill.
    FillTime,
    /// Time for a tank to drain.
    DrainTime,
}

/// A comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Relation {
    /// `=` or `IS`.
    Eq,
    /// `<>` or `NOT`.
    Ne,
    /// `<=`.
    Le,
    /// `>=`.
    Ge,
    /// `<` or `BELOW`.
    Lt,
    /// `>` or `ABOVE`.
    Gt,
}

/// What a premise compares against.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum PremiseValue {
    /// A number in SI (m³/s, m, m of head; for fill and drain times, s; for a pump setting, its speed).
    Number(f64),
    /// A link status.
    Status(LinkStatus),
    /// A time, s.
    Time(i64),
}

/// One action of a rule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RuleAction {
    /// The link acted on.
    pub link: usize,
    /// New status (`Active` has no effect, as in EPANET).
    pub status: Option<LinkStatus>,
    /// New setting (SI, as [`WaterLink::setting`]).
    pub setting: Option<f64>,
}

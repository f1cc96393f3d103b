//! Utility networks within a simulation: every water network solved as an extended period over the run, and
//! every power grid solved at each output step, with the buildings' demands from their simulated occupancy and
//! the scenario's events; then each building's service, the networks' states as time series keyed by feature,
//! KPIs and an alerts table.
//!
//! Water layers are solved one per thread (rayon) and power steps in parallel; each result lands in a fixed
//! slot, so outputs do not depend on the thread count.

use super::config::{EventAction, UtilitiesConfig, UtilityEvent};
use super::power::{self, PfOptions, PowerGrid};
use super::service::{self, Assignment, Rates};
use super::water::{self, DemandSeries, Hydraulics, LinkKind, NodeKind, WaterEvent, WaterNetwork};
use super::UtilityModel;
use crate::sim::population::Places;
use crate::sim::scenario::ScenarioSource;
use crate::sim::SimError;
use crate::time::SimTime;
use crate::timeseries::{EntityKind, SeriesTable};
use crate::{FeatureId, Layer, Scene};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// What a run's utility stage needs.
pub struct Input<'a> {
    /// The scene.
    pub scene: &'a Scene,
    /// The scenario's `[utilities]`.
    pub cfg: &'a UtilitiesConfig,
    /// The scenario text, for errors with lines.
    pub source: &'a ScenarioSource,
    /// Output step times (the first is the run's start).
    pub steps: &'a [SimTime],
    /// The population's buildings and their occupancy at each step, for population runs.
    pub population: Option<(&'a Places, &'a SeriesTable)>,
}

/// An alert: a threshold crossed somewhere for a while, or an event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// First step it held.
    pub start: SimTime,
    /// First step it no longer held (`None`: to the end of the run).
    pub end: Option<SimTime>,
    /// The utility layer.
    pub layer: String,
    /// What: `no_water`, `low_pressure`, `no_power`, `undervoltage`, `overvoltage`, `overload`, or an event
    /// (`burst`, `close`, `outage`…).
    pub kind: String,
    /// The element: `node 12`, `link 110`, `bus 3`, `line 7`, `trafo 0`, `switch 2`.
    pub element: String,
    /// Its scene feature, when it has one.
    pub feature: Option<u64>,
    /// The worst value over the alert (m, pu or %; for events, 0).
    pub value: f64,
    /// The threshold crossed.
    pub threshold: f64,
    /// Most buildings served by the element while it held.
    pub buildings: u32,
    /// Most persons in them at a step.
    pub persons: u32,
    /// A sentence for people.
    pub message: String,
}

/// KPIs of the utility networks (all zero when the scene has none).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UtilityKpis {
    /// Buildings connected to a water network.
    pub water_buildings: u64,
    /// Buildings without water (pressure below the no-water threshold) at some step.
    pub water_buildings_without: u64,
    /// Buildings with low pressure at some step (with water or not).
    pub water_buildings_low_pressure: u64,
    /// Most persons in buildings without water at one step.
    pub water_persons_without_peak: u64,
    /// Person-hours without water.
    pub water_person_hours_without: f64,
    /// Lowest pressure at a connected building, m.
    pub water_min_building_pressure_m: f64,
    /// Water lost through bursts, m³.
    pub water_burst_loss_m3: f64,
    /// Hydraulic solutions that did not meet the accuracy.
    pub water_unbalanced_solutions: u64,
    /// Buildings connected to a power grid.
    pub power_buildings: u64,
    /// Buildings without power (their bus de-energised) at some step.
    pub power_buildings_without: u64,
    /// Buildings whose voltage left the band at some step.
    pub power_buildings_voltage_band: u64,
    /// Most persons in buildings without power at one step.
    pub power_persons_without_peak: u64,
    /// Person-hours without power.
    pub power_person_hours_without: f64,
    /// Lowest voltage at an energised bus, pu.
    pub power_min_voltage_pu: f64,
    /// Highest line or transformer loading, %.
    pub power_max_loading_percent: f64,
    /// Lines and transformers overloaded at some step.
    pub power_overloaded_elements: u64,
    /// Bus-steps with the voltage outside the band.
    pub power_voltage_violations: u64,
    /// Alerts raised.
    pub utility_alerts: u64,
}

/// The utility stage's results.
#[derive(Clone, Debug)]
pub struct UtilityOutput {
    /// Per feature and step: `water_pressure_m`, `water_service`, `power_voltage_pu`, `power_service`
    /// (buildings); `pressure_m` (water nodes); `flow_m3s`, `velocity_ms` (pipes, pumps, valves); `vm_pu`
    /// (buses); `loading_percent` (lines, transformers).
    pub table: SeriesTable,
    /// Alerts, by start time then layer and element.
    pub alerts: Vec<Alert>,
    /// KPIs.
    pub kpis: UtilityKpis,
    /// The layers solved.
    pub layers: Vec<String>,
    /// Hydraulic solutions and power flows computed.
    pub solutions: u64,
}

/// Service of a building at a step: 1 fine, 0.5 poor (low pressure, voltage out of band), 0 none.
const OK: f32 = 1.0;
const POOR: f32 = 0.5;
const NONE: f32 = 0.0;

fn scenario_error(
    src: &ScenarioSource,
    span: std::ops::Range<usize>,
    key: &str,
    msg: String,
) -> SimError {
    SimError::Scenario(src.error(span, key, msg))
}

/// The layers to solve, in scene order (or the scenario's).
fn layers<'a>(inp: &Input<'a>) -> Result<Vec<&'a Layer>, SimError> {
    match &inp.cfg.layers {
        None => Ok(inp
            .scene
            .layers
            .iter()
            .filter(|l| l.utility.is_some())
            .collect()),
        Some(names) => names
            .get_ref()
            .iter()
            .map(|n| {
                let l = inp.scene.layer(n).map_err(|_| {
                    scenario_error(
                        inp.source,
                        names.span(),
                        "utilities.layers",
                        format!("no layer `{n}` in the scene"),
                    )
                })?;
                if l.utility.is_none() {
                    return Err(scenario_error(
                        inp.source,
                        names.span(),
                        "utilities.layers",
                        format!("layer `{n}` has no water or power model (import an EPANET .inp or pandapower JSON)"),
                    ));
                }
                Ok(l)
            })
            .collect(),
    }
}

/// One solved utility layer.
struct Solved {
    layer: String,
    /// Per place, its serving element and service per step.
    assignment: Assignment,
    /// Per place and step: the value at its node (pressure m, or voltage pu) and its service.
    building_value: Vec<Vec<f32>>,
    building_service: Vec<Vec<f32>>,
    /// Feature columns: (feature, column name, values per step).
    features: Vec<(FeatureId, &'static str, Vec<f32>)>,
    alerts: Vec<Alert>,
    kpis: UtilityKpis,
    solutions: u64,
    water: bool,
}

/// Runs every utility layer of the scene (or the scenario's list) over the run.
///
/// # Errors
/// [`SimError::Scenario`] for layers or events that do not fit the scene (with the scenario's line);
/// [`SimError::Utility`] when a network cannot be solved (naming the layer and time).
pub fn simulate(inp: &Input<'_>) -> Result<Option<UtilityOutput>, SimError> {
    let layers = layers(inp)?;
    if layers.is_empty() {
        if inp.cfg.events.is_empty() {
            return Ok(None);
        }
        return Err(scenario_error(
            inp.source,
            inp.cfg.events[0].span(),
            "utilities.events",
            "the scenario has utility events but the scene has no water or power layer".into(),
        ));
    }
    let events = resolve_events(inp, &layers)?;
    let solved: Vec<Solved> = layers
        .par_iter()
        .enumerate()
        .map(|(i, l)| {
            let ev: Vec<&ResolvedEvent> = events.iter().filter(|e| e.layer == i).collect();
            match l.utility.as_deref() {
                Some(UtilityModel::Water(w)) => solve_water(inp, l, w, &ev),
                Some(UtilityModel::Power(p)) => solve_power(inp, l, p, &ev),
                None => unreachable!("layers without a model are refused above"),
            }
        })
        .collect::<Result<_, _>>()?;
    Ok(Some(merge(inp, solved)))
}

/// An event resolved to a layer and element.
struct ResolvedEvent {
    layer: usize,
    event: UtilityEvent,
    target: Target,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Target {
    WaterLink(usize),
    WaterNode(usize),
    Line(usize),
    Trafo(usize),
    Switch(usize),
}

fn resolve_events(inp: &Input<'_>, layers: &[&Layer]) -> Result<Vec<ResolvedEvent>, SimError> {
    let mut out = Vec::new();
    for sp in &inp.cfg.events {
        let e = sp.get_ref();
        let fail = |m: String| scenario_error(inp.source, sp.span(), "utilities.events", m);
        let water = e.action.is_water();
        let kind = if water { "water" } else { "power" };
        let fits = |l: &&Layer| match l.utility.as_deref() {
            Some(UtilityModel::Water(_)) => water,
            Some(UtilityModel::Power(_)) => !water,
            None => false,
        };
        let li = match &e.layer {
            Some(name) => layers
                .iter()
                .position(|l| &l.name == name)
                .ok_or_else(|| fail(format!("`{name}` is not a utility layer of this run")))?,
            None => {
                let cands: Vec<usize> = (0..layers.len()).filter(|&i| fits(&layers[i])).collect();
                match cands.as_slice() {
                    [one] => *one,
                    [] => {
                        return Err(fail(format!(
                            "no {kind} layer for a `{}` event",
                            e.action.as_str()
                        )))
                    }
                    _ => {
                        return Err(fail(format!(
                            "several {kind} layers: name one with `layer`"
                        )))
                    }
                }
            }
        };
        let layer = layers[li];
        if !fits(&layer) {
            return Err(fail(format!(
                "`{}` is a {kind} event but layer `{}` is not a {kind} network",
                e.action.as_str(),
                layer.name
            )));
        }
        let target = match layer.utility.as_deref() {
            Some(UtilityModel::Water(w)) => water_target(e, w).map_err(fail)?,
            Some(UtilityModel::Power(p)) => power_target(e, p).map_err(fail)?,
            None => unreachable!("utility layers only"),
        };
        out.push(ResolvedEvent {
            layer: li,
            event: e.clone(),
            target,
        });
    }
    Ok(out)
}

fn water_target(e: &UtilityEvent, w: &WaterNetwork) -> Result<Target, String> {
    if let Some(f) = e.feature {
        let f = FeatureId(f);
        if let Some(k) = w.links.iter().position(|l| l.feature == Some(f)) {
            return Ok(Target::WaterLink(k));
        }
        if let Some(i) = w.nodes.iter().position(|n| n.feature == Some(f)) {
            if e.action != EventAction::Burst {
                return Err(format!(
                    "feature {} is a water node; `{}` needs a link",
                    f.0,
                    e.action.as_str()
                ));
            }
            return Ok(Target::WaterNode(i));
        }
        return Err(format!("feature {} is not part of this water network", f.0));
    }
    if let Some(id) = &e.link {
        return w
            .link_index(id)
            .map(Target::WaterLink)
            .ok_or_else(|| format!("no link `{id}` in the water network"));
    }
    if let Some(id) = &e.node {
        let i = w
            .node_index(id)
            .ok_or_else(|| format!("no node `{id}` in the water network"))?;
        if w.nodes[i].kind != NodeKind::Junction {
            return Err(format!(
                "node `{id}` is not a junction: only junctions burst"
            ));
        }
        return Ok(Target::WaterNode(i));
    }
    Err("a water event names a link, a node or a feature".into())
}

fn power_target(e: &UtilityEvent, p: &PowerGrid) -> Result<Target, String> {
    if let Some(f) = e.feature {
        let f = FeatureId(f);
        if let Some(i) = p.lines.iter().position(|l| l.feature == Some(f)) {
            return Ok(Target::Line(i));
        }
        if let Some(i) = p.trafos.iter().position(|t| t.feature == Some(f)) {
            return Ok(Target::Trafo(i));
        }
        return Err(format!(
            "feature {} is not a line or transformer of this grid",
            f.0
        ));
    }
    // The row of the element with pandapower index `ix`.
    fn row<T>(rows: &[T], ix: i64, index: fn(&T) -> i64, what: &str) -> Result<usize, String> {
        rows.iter()
            .position(|r| index(r) == ix)
            .ok_or_else(|| format!("no {what} {ix} in the grid"))
    }
    if let Some(ix) = e.line {
        return row(&p.lines, ix, |l| l.index, "line").map(Target::Line);
    }
    if let Some(ix) = e.trafo {
        return row(&p.trafos, ix, |t| t.index, "transformer").map(Target::Trafo);
    }
    if let Some(ix) = e.switch {
        return row(&p.switches, ix, |s| s.index, "switch").map(Target::Switch);
    }
    Err("a power event names a line, a transformer, a switch or a feature".into())
}

/// Persons in place `k` at step `j` (0 without a population).
fn persons(inp: &Input<'_>, k: usize, j: usize) -> f64 {
    match inp.population {
        Some((_, occ)) => occ
            .column("occupancy")
            .map_or(0.0, |c| f64::from(occ.step_values(c, j)[k])),
        None => 0.0,
    }
}

fn utility_error(layer: &str, msg: String) -> SimError {
    SimError::Utility {
        layer: layer.to_owned(),
        message: msg,
    }
}

fn solve_water(
    inp: &Input<'_>,
    layer: &Layer,
    base: &WaterNetwork,
    events: &[&ResolvedEvent],
) -> Result<Solved, SimError> {
    let cfg = &inp.cfg.water;
    let steps = inp.steps;
    let start = steps[0].0 as i64;
    let end = steps[steps.len() - 1].0 as i64;
    let step = steps.get(1).map_or(3600, |t| t.0 as i64 - start).max(1);
    let mut net = base.clone();
    // The run's clock: patterns follow the time of day (the file's patterns are taken to start at midnight).
    net.times.duration_s = end - start;
    net.times.report_step_s = step;
    net.times.report_start_s = 0;
    net.times.hydraulic_step_s = net.times.hydraulic_step_s.min(step).max(1);
    net.times.rule_step_s = net.times.rule_step_s.min(net.times.hydraulic_step_s).max(1);
    net.times.pattern_start_s += start;
    net.times.start_clocktime_s = (net.times.start_clocktime_s + start).rem_euclid(86_400);
    // A coupled run keeps going through an unbalanced solution (a burst can cause one), counting it.
    if net.options.unbalanced_continue.is_none() {
        net.options.unbalanced_continue = Some(10);
    }
    let (assignment, node_demand) = match inp.population {
        Some((places, occ)) => {
            let a = service::water(inp.scene, layer, base, places, inp.cfg);
            let d = service::node_demands(places, occ, &a, &Rates::water(inp.cfg));
            if !cfg.keep_network_demands {
                for n in &mut net.nodes {
                    n.demands.clear();
                }
            }
            (a, d)
        }
        None => (Vec::new(), BTreeMap::new()),
    };
    // A burst pipe gets a junction at its middle, where the burst flows out; closing the pipe then isolates
    // the burst, as valving it off does.
    let mut node_map: Vec<usize> = (0..base.nodes.len()).collect();
    let mut second_half: BTreeMap<usize, usize> = BTreeMap::new();
    let mut mid_node: BTreeMap<usize, usize> = BTreeMap::new();
    for re in events {
        if let (EventAction::Burst, Target::WaterLink(k)) = (re.event.action, re.target) {
            if mid_node.contains_key(&k) || !matches!(base.links[k].kind, LinkKind::Pipe(_)) {
                continue;
            }
            let (mid, link2) = net
                .split_pipe(k)
                .map_err(|m| utility_error(&layer.name, m))?;
            for n in node_map.iter_mut().filter(|n| **n >= mid) {
                *n += 1;
            }
            for m in mid_node.values_mut().filter(|m| **m >= mid) {
                *m += 1;
            }
            mid_node.insert(k, mid);
            second_half.insert(k, link2);
        }
    }
    let mut h = Hydraulics::new(&net).map_err(|e| utility_error(&layer.name, e.to_string()))?;
    for (node, values) in node_demand {
        h.add_demand_series(DemandSeries {
            node: node_map[node],
            step_s: step,
            values_m3s: values,
        });
    }
    h.add_breakpoints(steps.iter().map(|t| t.0 as i64 - start));
    let mut burst_nodes = BTreeSet::new();
    let mut scheduled = Vec::new();
    for re in events {
        let e = &re.event;
        let at = e.at.0 as i64 - start;
        let until = e.until.map(|u| u.0 as i64 - start);
        match (e.action, re.target) {
            (EventAction::Burst, t) => {
                // An emitter: flow_lps at pressure_m, flow ∝ pressure^exponent. A burst pipe leaks at its end
                // junctions, half each.
                let p_ref = e.pressure_m.unwrap_or(30.0);
                let q = e.flow_lps.unwrap_or(0.0) / 1000.0;
                let coeff = q / p_ref.powf(net.options.emitter_exponent);
                // A pump or valve "burst" leaks at its end junctions, half each.
                let (nodes, own): (Vec<usize>, Vec<f64>) = match t {
                    Target::WaterNode(i) => (vec![node_map[i]], vec![base.nodes[i].emitter]),
                    Target::WaterLink(k) => match mid_node.get(&k) {
                        Some(&m) => (vec![m], vec![0.0]),
                        None => [base.links[k].from, base.links[k].to]
                            .into_iter()
                            .filter(|&i| base.is_junction(i))
                            .map(|i| (node_map[i], base.nodes[i].emitter))
                            .unzip(),
                    },
                    _ => unreachable!("water targets only"),
                };
                let share = coeff / nodes.len().max(1) as f64;
                for (i, own) in nodes.into_iter().zip(own) {
                    burst_nodes.insert(i);
                    scheduled.push((
                        at,
                        WaterEvent::SetEmitter {
                            node: i,
                            coefficient: own + share,
                        },
                    ));
                    if let Some(u) = until {
                        scheduled.push((
                            u,
                            WaterEvent::SetEmitter {
                                node: i,
                                coefficient: own,
                            },
                        ));
                    }
                }
            }
            (EventAction::Close | EventAction::Open, Target::WaterLink(k)) => {
                let status = if e.action == EventAction::Close {
                    water::LinkStatus::Closed
                } else {
                    water::LinkStatus::Open
                };
                let halves: Vec<usize> = std::iter::once(k)
                    .chain(second_half.get(&k).copied())
                    .collect();
                for &l in &halves {
                    scheduled.push((at, WaterEvent::SetStatus { link: l, status }));
                }
                if let Some(u) = until {
                    let back = match base.links[k].status {
                        water::LinkStatus::Closed => water::LinkStatus::Closed,
                        _ => water::LinkStatus::Open,
                    };
                    for &l in &halves {
                        scheduled.push((
                            u,
                            WaterEvent::SetStatus {
                                link: l,
                                status: back,
                            },
                        ));
                    }
                    if let Some(s) = base.links[k].setting {
                        if !matches!(base.links[k].kind, LinkKind::Pipe(_)) {
                            scheduled.push((
                                u,
                                WaterEvent::SetSetting {
                                    link: k,
                                    setting: s,
                                },
                            ));
                        }
                    }
                }
            }
            (EventAction::Setting, Target::WaterLink(k)) => {
                scheduled.push((
                    at,
                    WaterEvent::SetSetting {
                        link: k,
                        setting: e.setting.unwrap_or(0.0),
                    },
                ));
                if let (Some(u), Some(s)) = (until, base.links[k].setting) {
                    scheduled.push((
                        u,
                        WaterEvent::SetSetting {
                            link: k,
                            setting: s,
                        },
                    ));
                }
            }
            _ => {}
        }
    }
    h.schedule(scheduled);

    // Run, recording at every step (in the original network's nodes and links).
    let (nn, nl) = (base.nodes.len(), base.links.len());
    let ns = steps.len();
    let mut pressure = vec![vec![f32::NAN; ns]; nn];
    let mut flow = vec![vec![f32::NAN; ns]; nl];
    let mut velocity = vec![vec![f32::NAN; ns]; nl];
    let mut leak_m3s = vec![0.0f64; ns];
    let mut cut_off = vec![vec![false; ns]; nn];
    let mut unbalanced = 0u64;
    let mut j = 0;
    loop {
        let info = h
            .solve()
            .map_err(|e| utility_error(&layer.name, e.to_string()))?;
        if !info.converged {
            unbalanced += 1;
        }
        let t = h.time();
        while j < ns && (steps[j].0 as i64 - start) <= t {
            if steps[j].0 as i64 - start == t {
                // A junction cut off from every source has no supply: its computed head means nothing.
                let connected = h.connected_nodes();
                for (i, p) in pressure.iter_mut().enumerate() {
                    let n = node_map[i];
                    p[j] = if connected[n] {
                        h.pressure_m(n) as f32
                    } else {
                        0.0
                    };
                    if !connected[n] {
                        cut_off[i][j] = true;
                    }
                }
                for k in 0..nl {
                    flow[k][j] = h.flow_m3s(k) as f32;
                    velocity[k][j] = h.velocity_ms(k) as f32;
                }
                leak_m3s[j] = burst_nodes
                    .iter()
                    .filter(|&&i| connected[i])
                    .map(|&i| h.emitter_m3s(i))
                    .sum();
            }
            j += 1;
        }
        if h.advance() == 0 {
            break;
        }
    }
    let solutions = h.work().0;

    // Buildings.
    let nplaces = assignment.len();
    let mut building_value = vec![vec![f32::NAN; ns]; nplaces];
    let mut building_service = vec![vec![f32::NAN; ns]; nplaces];
    for (k, a) in assignment.iter().enumerate() {
        let Some(node) = a else { continue };
        for jj in 0..ns {
            let p = pressure[*node][jj];
            building_value[k][jj] = p;
            building_service[k][jj] = if cut_off[*node][jj] {
                NONE
            } else if f64::from(p) >= cfg.low_pressure_m {
                OK
            } else if f64::from(p) >= cfg.no_water_pressure_m {
                POOR
            } else {
                NONE
            };
        }
    }
    // Features.
    let mut features = Vec::new();
    for (i, n) in base.nodes.iter().enumerate() {
        if let Some(f) = n.feature {
            features.push((f, "pressure_m", pressure[i].clone()));
        }
    }
    for (k, l) in base.links.iter().enumerate() {
        if let Some(f) = l.feature {
            features.push((f, "flow_m3s", flow[k].clone()));
            features.push((f, "velocity_ms", velocity[k].clone()));
        }
    }
    // Alerts per junction that serves buildings (every junction without a population).
    let served = served_counts(inp, &assignment, nn, ns);
    let mut alerts = Vec::new();
    for (i, n) in base.nodes.iter().enumerate() {
        if !base.is_junction(i) || (inp.population.is_some() && served[i].0 == 0) {
            continue;
        }
        let series: Vec<f64> = pressure[i].iter().map(|v| f64::from(*v)).collect();
        let (none, low) = (cfg.no_water_pressure_m, cfg.low_pressure_m);
        for (kind, what, threshold, bad) in [
            (
                "no_water",
                "no water",
                none,
                Box::new(move |p: f64| p < none) as Box<dyn Fn(f64) -> bool>,
            ),
            (
                "low_pressure",
                "low pressure",
                low,
                Box::new(move |p: f64| p >= none && p < low),
            ),
        ] {
            episodes(
                &series,
                bad,
                steps,
                |s, e, worst, jmax| {
                    alerts.push(Alert {
                        start: s,
                        end: e,
                        layer: layer.name.clone(),
                        kind: kind.into(),
                        element: format!("node {}", n.id),
                        feature: n.feature.map(|f| f.0),
                        value: worst,
                        threshold,
                        buildings: served[i].0,
                        persons: served[i].1[jmax],
                        message: format!(
                            "{what} at junction {} (pressure {worst:.1} m, below {threshold} m): {} buildings",
                            n.id, served[i].0
                        ),
                    });
                },
                f64::min,
            );
        }
    }
    for re in events {
        let e = &re.event;
        let (element, feature) = match re.target {
            Target::WaterLink(k) => (format!("link {}", base.links[k].id), base.links[k].feature),
            Target::WaterNode(i) => (format!("node {}", base.nodes[i].id), base.nodes[i].feature),
            _ => continue,
        };
        alerts.push(event_alert(&layer.name, e, element, feature));
    }
    let dt: Vec<f64> = (0..ns)
        .map(|jj| {
            steps
                .get(jj + 1)
                .map_or(0.0, |n| f64::from(n.0 - steps[jj].0))
        })
        .collect();
    let mut kpis = building_kpis(inp, &building_service, &building_value, &dt, true);
    kpis.water_burst_loss_m3 = leak_m3s.iter().zip(&dt).map(|(q, d)| q * d).sum();
    kpis.water_unbalanced_solutions = unbalanced;
    Ok(Solved {
        layer: layer.name.clone(),
        assignment,
        building_value,
        building_service,
        features,
        alerts,
        kpis,
        solutions,
        water: true,
    })
}

fn event_alert(
    layer: &str,
    e: &UtilityEvent,
    element: String,
    feature: Option<FeatureId>,
) -> Alert {
    let what = match e.action {
        EventAction::Burst => format!(
            "burst at {element}: {:.1} L/s at {:.0} m",
            e.flow_lps.unwrap_or(0.0),
            e.pressure_m.unwrap_or(30.0)
        ),
        EventAction::Setting => format!("{element} set to {}", e.setting.unwrap_or(0.0)),
        a => format!("{element}: {}", a.as_str().replace('_', " ")),
    };
    Alert {
        start: e.at,
        end: e.until,
        layer: layer.to_owned(),
        kind: e.action.as_str().to_owned(),
        element,
        feature: feature.map(|f| f.0),
        value: 0.0,
        threshold: 0.0,
        buildings: 0,
        persons: 0,
        message: match e.until {
            Some(u) => format!("{what} (until {u})"),
            None => what,
        },
    }
}

/// Buildings served by each node, and the persons in them at each step.
fn served_counts(inp: &Input<'_>, a: &Assignment, nodes: usize, ns: usize) -> Vec<(u32, Vec<u32>)> {
    let mut out = vec![(0u32, vec![0u32; ns]); nodes];
    for (k, n) in a.iter().enumerate() {
        let Some(n) = n else { continue };
        out[*n].0 += 1;
        for j in 0..ns {
            out[*n].1[j] += persons(inp, k, j).round() as u32;
        }
    }
    out
}

/// Calls `emit(start, end, worst, step of the most persons)` for each run of steps where `bad` holds.
fn episodes(
    series: &[f64],
    bad: impl Fn(f64) -> bool,
    steps: &[SimTime],
    mut emit: impl FnMut(SimTime, Option<SimTime>, f64, usize),
    worse: fn(f64, f64) -> f64,
) {
    let mut open: Option<(usize, f64)> = None;
    for (j, &v) in series.iter().enumerate() {
        let b = v.is_finite() && bad(v);
        match (&mut open, b) {
            (None, true) => open = Some((j, v)),
            (Some((_, w)), true) => *w = worse(*w, v),
            (Some((s, w)), false) => {
                emit(steps[*s], Some(steps[j]), *w, *s);
                open = None;
            }
            (None, false) => {}
        }
    }
    if let Some((s, w)) = open {
        emit(steps[s], None, w, s);
    }
}

/// Building KPIs from per-place service and values (water or power).
fn building_kpis(
    inp: &Input<'_>,
    service: &[Vec<f32>],
    value: &[Vec<f32>],
    dt: &[f64],
    water: bool,
) -> UtilityKpis {
    let ns = dt.len();
    let mut k = UtilityKpis::default();
    let mut connected = 0u64;
    let mut without = 0u64;
    let mut poor = 0u64;
    let mut peak = vec![0.0f64; ns];
    let mut person_hours = 0.0;
    let mut lowest = f64::INFINITY;
    for (b, s) in service.iter().enumerate() {
        if s.iter().all(|v| v.is_nan()) {
            continue;
        }
        connected += 1;
        if s.contains(&NONE) {
            without += 1;
        }
        if s.iter().any(|v| *v < OK) {
            poor += 1;
        }
        for j in 0..ns {
            if s[j] == NONE {
                let p = persons(inp, b, j);
                peak[j] += p;
                person_hours += p * dt[j] / 3600.0;
            }
            if value[b][j].is_finite() {
                lowest = lowest.min(f64::from(value[b][j]));
            }
        }
    }
    let peak = peak.iter().fold(0.0f64, |a, b| a.max(*b)).round() as u64;
    let lowest = if lowest.is_finite() { lowest } else { 0.0 };
    if water {
        k.water_buildings = connected;
        k.water_buildings_without = without;
        k.water_buildings_low_pressure = poor;
        k.water_persons_without_peak = peak;
        k.water_person_hours_without = person_hours;
        k.water_min_building_pressure_m = lowest;
    } else {
        k.power_buildings = connected;
        k.power_buildings_without = without;
        k.power_buildings_voltage_band = poor - without.min(poor);
        k.power_persons_without_peak = peak;
        k.power_person_hours_without = person_hours;
    }
    k
}

fn solve_power(
    inp: &Input<'_>,
    layer: &Layer,
    base: &PowerGrid,
    events: &[&ResolvedEvent],
) -> Result<Solved, SimError> {
    let cfg = &inp.cfg.power;
    let steps = inp.steps;
    let ns = steps.len();
    let nb = base.buses.len();
    let (assignment, bus_kw) = match inp.population {
        Some((places, occ)) => {
            let a = service::power(inp.scene, layer, base, places, inp.cfg);
            let d = service::node_demands(places, occ, &a, &Rates::power(inp.cfg));
            (a, Some(d))
        }
        None => (Vec::new(), None),
    };
    let tan_phi = (1.0 / (cfg.power_factor * cfg.power_factor) - 1.0)
        .max(0.0)
        .sqrt();
    let first_index = base
        .loads
        .iter()
        .map(|l| l.index)
        .max()
        .map_or(0, |m| m + 1);
    let opts = PfOptions::default();
    let results: Vec<Result<power::PfResult, (power::PowerError, f64)>> = (0..ns)
        .into_par_iter()
        .map(|j| {
            let t = steps[j];
            let mut g = base.clone();
            if let Some(d) = &bus_kw {
                if !cfg.keep_network_loads {
                    g.loads.clear();
                }
                for (n, (bus, kw)) in d.iter().enumerate() {
                    let p_mw = kw[j] / 1000.0;
                    g.loads.push(power::Injection {
                        index: first_index + n as i64,
                        name: Some("buildings".into()),
                        bus: base.buses[*bus].index,
                        p_mw,
                        q_mvar: p_mw * tan_phi,
                        scaling: 1.0,
                        in_service: true,
                        const_z_p_percent: 0.0,
                        const_i_p_percent: 0.0,
                        const_z_q_percent: 0.0,
                        const_i_q_percent: 0.0,
                    });
                }
            }
            for re in events {
                let e = &re.event;
                if e.at > t || e.until.is_some_and(|u| u <= t) {
                    continue;
                }
                match (e.action, re.target) {
                    (EventAction::Outage, Target::Line(i)) => g.lines[i].in_service = false,
                    (EventAction::Outage, Target::Trafo(i)) => g.trafos[i].in_service = false,
                    (EventAction::SwitchOpen, Target::Switch(i)) => g.switches[i].closed = false,
                    (EventAction::SwitchClose, Target::Switch(i)) => g.switches[i].closed = true,
                    _ => {}
                }
            }
            let load_mw: f64 = g
                .loads
                .iter()
                .filter(|l| l.in_service)
                .map(|l| l.p_mw * l.scaling)
                .sum();
            power::solve(&g, &opts).map_err(|e| (e, load_mw))
        })
        .collect();
    let rows = |ix: &mut dyn Iterator<Item = i64>| -> std::collections::HashMap<i64, usize> {
        ix.enumerate().map(|(r, i)| (i, r)).collect()
    };
    let bus_row = rows(&mut base.buses.iter().map(|b| b.index));
    let line_row = rows(&mut base.lines.iter().map(|l| l.index));
    let trafo_row = rows(&mut base.trafos.iter().map(|t| t.index));
    let mut vm = vec![vec![f32::NAN; ns]; nb];
    let mut line_loading = vec![vec![f32::NAN; ns]; base.lines.len()];
    let mut trafo_loading = vec![vec![f32::NAN; ns]; base.trafos.len()];
    // A step the grid cannot carry (Newton–Raphson diverges: voltage collapse) leaves every bus without a
    // voltage at that step, and raises an alert; other failures stop the run.
    let mut collapsed: Vec<(usize, f64, String)> = Vec::new();
    for (j, r) in results.into_iter().enumerate() {
        let r = match r {
            Ok(r) => r,
            Err((e @ power::PowerError::NotConverged { .. }, load)) => {
                collapsed.push((j, load, e.to_string()));
                continue;
            }
            Err((e, _)) => {
                return Err(utility_error(
                    &layer.name,
                    format!("power flow at {}: {e}", steps[j]),
                ))
            }
        };
        for res in &r.bus {
            if let Some(&b) = bus_row.get(&res.index) {
                vm[b][j] = res.vm_pu as f32;
            }
        }
        for res in &r.line {
            if let Some(&i) = line_row.get(&res.index) {
                line_loading[i][j] = res.loading_percent as f32;
            }
        }
        for res in &r.trafo {
            if let Some(&i) = trafo_row.get(&res.index) {
                trafo_loading[i][j] = res.loading_percent as f32;
            }
        }
    }
    // Buildings.
    let mut building_value = vec![vec![f32::NAN; ns]; assignment.len()];
    let mut building_service = vec![vec![f32::NAN; ns]; assignment.len()];
    let in_band = |v: f64| v >= cfg.min_voltage_pu && v <= cfg.max_voltage_pu;
    for (k, a) in assignment.iter().enumerate() {
        let Some(b) = a else { continue };
        for j in 0..ns {
            let v = vm[*b][j];
            building_value[k][j] = v;
            building_service[k][j] = if !(v.is_finite() && v > 0.0) {
                NONE
            } else if in_band(f64::from(v)) {
                OK
            } else {
                POOR
            };
        }
    }
    let mut features = Vec::new();
    for (b, bus) in base.buses.iter().enumerate() {
        if let Some(f) = bus.feature {
            features.push((f, "vm_pu", vm[b].clone()));
        }
    }
    for (i, l) in base.lines.iter().enumerate() {
        if let Some(f) = l.feature {
            features.push((f, "loading_percent", line_loading[i].clone()));
        }
    }
    for (i, t) in base.trafos.iter().enumerate() {
        if let Some(f) = t.feature {
            features.push((f, "loading_percent", trafo_loading[i].clone()));
        }
    }
    // Alerts.
    let served = served_counts(inp, &assignment, nb, ns);
    let mut alerts = Vec::new();
    let name = &layer.name;
    for (b, bus) in base.buses.iter().enumerate() {
        if !bus.in_service {
            continue;
        }
        let relevant = inp.population.is_none() || served[b].0 > 0;
        // De-energised (no voltage) at steps the grid carried; collapsed steps have their own alert.
        let dead: Vec<f64> = vm[b]
            .iter()
            .enumerate()
            .map(|(j, v)| {
                let collapse = collapsed.iter().any(|c| c.0 == j);
                if collapse || (v.is_finite() && *v > 0.0) {
                    0.0
                } else {
                    1.0
                }
            })
            .collect();
        let vals: Vec<f64> = vm[b].iter().map(|v| f64::from(*v)).collect();
        let element = format!("bus {}", bus.index);
        let feature = bus.feature.map(|f| f.0);
        if relevant {
            episodes(
                &dead,
                |d| d > 0.5,
                steps,
                |s, e, _, jmax| {
                    alerts.push(Alert {
                        start: s,
                        end: e,
                        layer: name.clone(),
                        kind: "no_power".into(),
                        element: element.clone(),
                        feature,
                        value: 0.0,
                        threshold: 0.0,
                        buildings: served[b].0,
                        persons: served[b].1[jmax],
                        message: format!(
                            "no power at bus {}: {} buildings",
                            bus.index, served[b].0
                        ),
                    });
                },
                f64::max,
            );
        }
        for (kind, bad, thr, worse) in [
            (
                "undervoltage",
                Box::new(|v: f64| v > 0.0 && v < cfg.min_voltage_pu) as Box<dyn Fn(f64) -> bool>,
                cfg.min_voltage_pu,
                f64::min as fn(f64, f64) -> f64,
            ),
            (
                "overvoltage",
                Box::new(|v: f64| v > cfg.max_voltage_pu),
                cfg.max_voltage_pu,
                f64::max,
            ),
        ] {
            episodes(
                &vals,
                bad,
                steps,
                |s, e, worst, jmax| {
                    alerts.push(Alert {
                        start: s,
                        end: e,
                        layer: name.clone(),
                        kind: kind.into(),
                        element: element.clone(),
                        feature,
                        value: worst,
                        threshold: thr,
                        buildings: served[b].0,
                        persons: served[b].1[jmax],
                        message: format!(
                            "{kind} at bus {} ({worst:.3} pu, limit {thr} pu)",
                            bus.index
                        ),
                    });
                },
                worse,
            );
        }
    }
    let mut overloaded = 0u64;
    let mut max_loading = 0.0f64;
    for (what, rows, loading) in [
        (
            "line",
            base.lines
                .iter()
                .map(|l| (l.index, l.feature))
                .collect::<Vec<_>>(),
            &line_loading,
        ),
        (
            "trafo",
            base.trafos
                .iter()
                .map(|t| (t.index, t.feature))
                .collect::<Vec<_>>(),
            &trafo_loading,
        ),
    ] {
        for (i, (ix, f)) in rows.into_iter().enumerate() {
            let vals: Vec<f64> = loading[i].iter().map(|v| f64::from(*v)).collect();
            max_loading = vals
                .iter()
                .filter(|v| v.is_finite())
                .fold(max_loading, |a, b| a.max(*b));
            let mut any = false;
            episodes(
                &vals,
                |v| v > cfg.max_loading_percent,
                steps,
                |s, e, worst, _| {
                    any = true;
                    alerts.push(Alert {
                        start: s,
                        end: e,
                        layer: name.clone(),
                        kind: "overload".into(),
                        element: format!("{what} {ix}"),
                        feature: f.map(|f| f.0),
                        value: worst,
                        threshold: cfg.max_loading_percent,
                        buildings: 0,
                        persons: 0,
                        message: format!(
                            "{what} {ix} overloaded ({worst:.0} %, limit {} %)",
                            cfg.max_loading_percent
                        ),
                    });
                },
                f64::max,
            );
            overloaded += u64::from(any);
        }
    }
    let mut c = 0;
    while c < collapsed.len() {
        // One alert per run of consecutive collapsed steps.
        let (j0, _, why) = collapsed[c].clone();
        let mut j1 = j0;
        let mut worst = collapsed[c].1;
        while c + 1 < collapsed.len() && collapsed[c + 1].0 == j1 + 1 {
            c += 1;
            j1 = collapsed[c].0;
            worst = worst.max(collapsed[c].1);
        }
        c += 1;
        alerts.push(Alert {
            start: steps[j0],
            end: steps.get(j1 + 1).copied(),
            layer: name.clone(),
            kind: "no_solution".into(),
            element: "grid".into(),
            feature: None,
            value: worst,
            threshold: 0.0,
            buildings: assignment.iter().filter(|a| a.is_some()).count() as u32,
            persons: 0,
            message: format!(
                "the grid cannot carry {worst:.2} MW of load (voltage collapse: {why}); its buildings count as without power"
            ),
        });
    }
    for re in events {
        let (element, feature) = match re.target {
            Target::Line(i) => (
                format!("line {}", base.lines[i].index),
                base.lines[i].feature,
            ),
            Target::Trafo(i) => (
                format!("trafo {}", base.trafos[i].index),
                base.trafos[i].feature,
            ),
            Target::Switch(i) => (format!("switch {}", base.switches[i].index), None),
            _ => continue,
        };
        alerts.push(event_alert(name, &re.event, element, feature));
    }
    let dt: Vec<f64> = (0..ns)
        .map(|j| {
            steps
                .get(j + 1)
                .map_or(0.0, |n| f64::from(n.0 - steps[j].0))
        })
        .collect();
    let mut kpis = building_kpis(inp, &building_service, &building_value, &dt, false);
    kpis.power_max_loading_percent = max_loading;
    kpis.power_overloaded_elements = overloaded;
    let energised: Vec<f64> = vm
        .iter()
        .flatten()
        .map(|v| f64::from(*v))
        .filter(|v| v.is_finite() && *v > 0.0)
        .collect();
    kpis.power_min_voltage_pu = energised.iter().copied().fold(f64::INFINITY, f64::min);
    if !kpis.power_min_voltage_pu.is_finite() {
        kpis.power_min_voltage_pu = 0.0;
    }
    kpis.power_voltage_violations = energised.iter().filter(|v| !in_band(**v)).count() as u64;
    Ok(Solved {
        layer: layer.name.clone(),
        assignment,
        building_value,
        building_service,
        features,
        alerts,
        kpis,
        solutions: ns as u64,
        water: false,
    })
}

/// Merges the layers' results into one feature table, one alert list and one KPI set.
fn merge(inp: &Input<'_>, solved: Vec<Solved>) -> UtilityOutput {
    let steps = inp.steps;
    let ns = steps.len();
    // Columns by name, then entity ids.
    let mut cols: BTreeMap<&'static str, BTreeMap<u64, Vec<f32>>> = BTreeMap::new();
    let mut kpis = UtilityKpis::default();
    let mut alerts = Vec::new();
    let mut layers = Vec::new();
    let mut solutions = 0;
    for s in solved {
        let (vcol, scol) = if s.water {
            ("water_pressure_m", "water_service")
        } else {
            ("power_voltage_pu", "power_service")
        };
        if let Some((places, _)) = inp.population {
            for (k, a) in s.assignment.iter().enumerate() {
                if a.is_none() {
                    continue;
                }
                let f = places.feature[k].0;
                cols.entry(vcol)
                    .or_default()
                    .insert(f, s.building_value[k].clone());
                cols.entry(scol)
                    .or_default()
                    .insert(f, s.building_service[k].clone());
            }
        }
        for (f, c, v) in s.features {
            cols.entry(c).or_default().insert(f.0, v);
        }
        add_kpis(&mut kpis, &s.kpis);
        alerts.extend(s.alerts);
        layers.push(s.layer);
        solutions += s.solutions;
    }
    let ids: BTreeSet<u64> = cols.values().flat_map(|m| m.keys().copied()).collect();
    let ids: Vec<u64> = ids.into_iter().collect();
    let mut table = SeriesTable::new(EntityKind::Feature, steps.to_vec(), ids.clone());
    for (name, by_id) in &cols {
        let mut values = vec![f32::NAN; ns * ids.len()];
        for (e, id) in ids.iter().enumerate() {
            if let Some(v) = by_id.get(id) {
                for j in 0..ns {
                    values[j * ids.len() + e] = v[j];
                }
            }
        }
        let unit = match *name {
            "water_pressure_m" | "pressure_m" => "m",
            "flow_m3s" => "m3/s",
            "velocity_ms" => "m/s",
            "vm_pu" | "power_voltage_pu" => "pu",
            "loading_percent" => "%",
            _ => "",
        };
        table.push_column(name, unit, values);
    }
    alerts.sort_by(|a, b| {
        (a.start, &a.layer, &a.element, &a.kind).cmp(&(b.start, &b.layer, &b.element, &b.kind))
    });
    kpis.utility_alerts = alerts.len() as u64;
    UtilityOutput {
        table,
        alerts,
        kpis,
        layers,
        solutions,
    }
}

/// Adds one layer's KPIs to the run's (counts add; extremes take the worst).
fn add_kpis(k: &mut UtilityKpis, o: &UtilityKpis) {
    let first_water = k.water_buildings == 0 && k.water_min_building_pressure_m == 0.0;
    k.water_buildings += o.water_buildings;
    k.water_buildings_without += o.water_buildings_without;
    k.water_buildings_low_pressure += o.water_buildings_low_pressure;
    k.water_persons_without_peak += o.water_persons_without_peak;
    k.water_person_hours_without += o.water_person_hours_without;
    if o.water_buildings > 0 {
        k.water_min_building_pressure_m = if first_water {
            o.water_min_building_pressure_m
        } else {
            k.water_min_building_pressure_m
                .min(o.water_min_building_pressure_m)
        };
    }
    k.water_burst_loss_m3 += o.water_burst_loss_m3;
    k.water_unbalanced_solutions += o.water_unbalanced_solutions;
    let first_power = k.power_min_voltage_pu == 0.0;
    k.power_buildings += o.power_buildings;
    k.power_buildings_without += o.power_buildings_without;
    k.power_buildings_voltage_band += o.power_buildings_voltage_band;
    k.power_persons_without_peak += o.power_persons_without_peak;
    k.power_person_hours_without += o.power_person_hours_without;
    if o.power_min_voltage_pu > 0.0 {
        k.power_min_voltage_pu = if first_power {
            o.power_min_voltage_pu
        } else {
            k.power_min_voltage_pu.min(o.power_min_voltage_pu)
        };
    }
    k.power_max_loading_percent = k.power_max_loading_percent.max(o.power_max_loading_percent);
    k.power_overloaded_elements += o.power_overloaded_elements;
    k.power_voltage_violations += o.power_voltage_violations;
}

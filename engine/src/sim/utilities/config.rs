//! The `[utilities]` section of a scenario: which utility layers a run solves, how buildings draw water and
//! power from their occupancy, floor area and use, what counts as served, and the events (bursts, closures,
//! outages, switching) that happen during the run.
//!
//! ```toml
//! [utilities]
//! max_service_distance_m = 300
//!
//! [utilities.water]
//! litres_per_person_day = { residential = 150, office = 30 }
//! low_pressure_m = 20
//!
//! [[utilities.events]]
//! at = "07:30"
//! until = "11:00"
//! action = "burst"
//! link = "12"
//! flow_lps = 40
//! ```

use crate::sim::scenario::UseCategory;
use crate::time::SimTime;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use toml::Spanned;

/// The utilities a run solves and how buildings load them.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct UtilitiesConfig {
    /// The utility layers to solve (default: every layer of the scene that carries a water or power model).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layers: Option<Spanned<Vec<String>>>,
    /// Farthest a building may be from the node or bus that serves it, m; farther buildings are not connected.
    #[serde(default = "d_max_distance")]
    pub max_service_distance_m: f64,
    /// Water: demands, service thresholds.
    #[serde(default)]
    pub water: WaterConfig,
    /// Power: loads, voltage band, loading limit.
    #[serde(default)]
    pub power: PowerConfig,
    /// Events at given times.
    #[serde(default)]
    pub events: Vec<Spanned<UtilityEvent>>,
}

impl Default for UtilitiesConfig {
    fn default() -> Self {
        UtilitiesConfig {
            layers: None,
            max_service_distance_m: d_max_distance(),
            water: WaterConfig::default(),
            power: PowerConfig::default(),
            events: Vec::new(),
        }
    }
}

fn d_max_distance() -> f64 {
    300.0
}

/// How buildings draw water, and what counts as served.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WaterConfig {
    /// Building attribute naming the EPANET junction that serves it, overriding the nearest one.
    #[serde(default = "d_water_attr")]
    pub node_attribute: String,
    /// Litres per person per day, by the use of the building the person is in (follows the occupancy).
    #[serde(default = "d_litres_person")]
    pub litres_per_person_day: BTreeMap<UseCategory, f64>,
    /// Litres per m² of floor area per day, by use (the building's own load, whoever is in).
    #[serde(default = "d_litres_m2")]
    pub litres_per_m2_day: BTreeMap<UseCategory, f64>,
    /// Hourly weights of per-person use (24, hour 0 first; scaled to a mean of 1).
    #[serde(default = "d_person_profile_water")]
    pub person_profile: Spanned<Vec<f64>>,
    /// Hourly weights of per-area use.
    #[serde(default = "d_area_profile")]
    pub area_profile: Spanned<Vec<f64>>,
    /// Keep the network's own demands (its base demands and patterns) besides the buildings'. Without a
    /// population (external trips) they are always kept.
    #[serde(default)]
    pub keep_network_demands: bool,
    /// Pressure below which a building's supply is poor, m of head.
    #[serde(default = "d_low_pressure")]
    pub low_pressure_m: f64,
    /// Pressure below which a building has no water, m of head.
    #[serde(default = "d_no_water")]
    pub no_water_pressure_m: f64,
}

fn d_water_attr() -> String {
    "water_node".into()
}
fn d_litres_person() -> BTreeMap<UseCategory, f64> {
    [
        (UseCategory::Residential, 140.0),
        (UseCategory::Office, 40.0),
        (UseCategory::Retail, 30.0),
        (UseCategory::Industrial, 40.0),
        (UseCategory::Education, 25.0),
        (UseCategory::Leisure, 50.0),
    ]
    .into()
}
fn d_litres_m2() -> BTreeMap<UseCategory, f64> {
    [
        (UseCategory::Office, 1.0),
        (UseCategory::Retail, 2.0),
        (UseCategory::Industrial, 4.0),
        (UseCategory::Education, 1.0),
        (UseCategory::Leisure, 2.0),
    ]
    .into()
}
fn spanned<T>(v: T) -> Spanned<T> {
    Spanned::new(0..0, v)
}
fn d_person_profile_water() -> Spanned<Vec<f64>> {
    // Household use: a morning and an evening peak, little at night.
    spanned(vec![
        0.3, 0.2, 0.2, 0.2, 0.3, 0.7, 1.6, 2.0, 1.6, 1.2, 1.0, 1.0, 1.1, 1.0, 0.9, 0.9, 1.0, 1.3,
        1.6, 1.7, 1.5, 1.2, 0.8, 0.5,
    ])
}
fn d_area_profile() -> Spanned<Vec<f64>> {
    // Business hours.
    spanned(vec![
        0.3, 0.3, 0.3, 0.3, 0.3, 0.4, 0.7, 1.2, 1.6, 1.7, 1.7, 1.7, 1.6, 1.7, 1.7, 1.6, 1.5, 1.2,
        0.9, 0.7, 0.6, 0.5, 0.4, 0.3,
    ])
}
fn d_low_pressure() -> f64 {
    20.0
}
fn d_no_water() -> f64 {
    5.0
}

impl Default for WaterConfig {
    fn default() -> Self {
        WaterConfig {
            node_attribute: d_water_attr(),
            litres_per_person_day: d_litres_person(),
            litres_per_m2_day: d_litres_m2(),
            person_profile: d_person_profile_water(),
            area_profile: d_area_profile(),
            keep_network_demands: false,
            low_pressure_m: d_low_pressure(),
            no_water_pressure_m: d_no_water(),
        }
    }
}

/// How buildings draw power, and the limits the grid is checked against.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PowerConfig {
    /// Building attribute naming the pandapower bus index that serves it, overriding the nearest bus.
    #[serde(default = "d_power_attr")]
    pub bus_attribute: String,
    /// Buses up to this nominal voltage serve buildings (the nearest such bus), kV; a grid with none uses all.
    #[serde(default = "d_service_kv")]
    pub service_max_kv: f64,
    /// Mean kW per person present, by the use of the building (follows the occupancy).
    #[serde(default = "d_kw_person")]
    pub kw_per_person: BTreeMap<UseCategory, f64>,
    /// Mean W per m² of floor area, by use (the building's own load).
    #[serde(default = "d_w_m2")]
    pub w_per_m2: BTreeMap<UseCategory, f64>,
    /// Hourly weights of per-person load (24; scaled to a mean of 1).
    #[serde(default = "d_person_profile_power")]
    pub person_profile: Spanned<Vec<f64>>,
    /// Hourly weights of per-area load.
    #[serde(default = "d_area_profile")]
    pub area_profile: Spanned<Vec<f64>>,
    /// Power factor of building loads (reactive power = P·tan(acos(pf))).
    #[serde(default = "d_power_factor")]
    pub power_factor: f64,
    /// Keep the grid's own loads besides the buildings'. Without a population they are always kept.
    #[serde(default)]
    pub keep_network_loads: bool,
    /// Lowest acceptable voltage, pu.
    #[serde(default = "d_vmin")]
    pub min_voltage_pu: f64,
    /// Highest acceptable voltage, pu.
    #[serde(default = "d_vmax")]
    pub max_voltage_pu: f64,
    /// Line and transformer loading above which they count as overloaded, %.
    #[serde(default = "d_loading")]
    pub max_loading_percent: f64,
}

fn d_power_attr() -> String {
    "power_bus".into()
}
fn d_service_kv() -> f64 {
    1.0
}
fn d_kw_person() -> BTreeMap<UseCategory, f64> {
    [
        (UseCategory::Residential, 0.35),
        (UseCategory::Office, 0.25),
        (UseCategory::Retail, 0.2),
        (UseCategory::Industrial, 0.5),
        (UseCategory::Education, 0.15),
        (UseCategory::Leisure, 0.2),
    ]
    .into()
}
fn d_w_m2() -> BTreeMap<UseCategory, f64> {
    [
        (UseCategory::Residential, 2.0),
        (UseCategory::Office, 15.0),
        (UseCategory::Retail, 25.0),
        (UseCategory::Industrial, 20.0),
        (UseCategory::Education, 10.0),
        (UseCategory::Leisure, 15.0),
    ]
    .into()
}
fn d_person_profile_power() -> Spanned<Vec<f64>> {
    spanned(vec![
        0.5, 0.4, 0.4, 0.4, 0.4, 0.6, 1.0, 1.3, 1.1, 1.0, 1.0, 1.0, 1.1, 1.0, 0.9, 0.9, 1.0, 1.4,
        1.8, 1.9, 1.7, 1.4, 1.0, 0.7,
    ])
}
fn d_power_factor() -> f64 {
    0.95
}
fn d_vmin() -> f64 {
    0.95
}
fn d_vmax() -> f64 {
    1.05
}
fn d_loading() -> f64 {
    100.0
}

impl Default for PowerConfig {
    fn default() -> Self {
        PowerConfig {
            bus_attribute: d_power_attr(),
            service_max_kv: d_service_kv(),
            kw_per_person: d_kw_person(),
            w_per_m2: d_w_m2(),
            person_profile: d_person_profile_power(),
            area_profile: d_area_profile(),
            power_factor: d_power_factor(),
            keep_network_loads: false,
            min_voltage_pu: d_vmin(),
            max_voltage_pu: d_vmax(),
            max_loading_percent: d_loading(),
        }
    }
}

/// Something that happens to a utility network at a given time.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct UtilityEvent {
    /// When it happens.
    pub at: SimTime,
    /// When it is undone (the burst repaired, the line back), if it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<SimTime>,
    /// The utility layer (may be left out when the scene has one layer of the element's kind).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<String>,
    /// What happens.
    pub action: EventAction,
    /// A scene feature id (a pipe, a water node, a line, a bus), as the viewer shows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature: Option<u64>,
    /// An EPANET link id (pipe, pump or valve).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// An EPANET node id (a junction, for bursts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// A pandapower line index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<i64>,
    /// A pandapower transformer index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trafo: Option<i64>,
    /// A pandapower switch index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub switch: Option<i64>,
    /// Burst: outflow at `pressure_m`, litres per second (the burst is an emitter: flow ∝ √pressure).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flow_lps: Option<f64>,
    /// Burst: the pressure at which it flows `flow_lps`, m (default 30).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pressure_m: Option<f64>,
    /// `setting`: a pump's speed, or a valve's setting in SI (PRV/PSV/PBV m of head, FCV m³/s, TCV a loss
    /// coefficient).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub setting: Option<f64>,
}

/// What an event does.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum EventAction {
    /// A pipe or junction bursts (water).
    Burst,
    /// A pipe, pump or valve closes (water).
    Close,
    /// A pipe, pump or valve opens (water).
    Open,
    /// A pump's speed or a valve's setting changes (water).
    Setting,
    /// A line or transformer goes out of service (power).
    Outage,
    /// A switch opens (power).
    SwitchOpen,
    /// A switch closes (power).
    SwitchClose,
}

impl EventAction {
    /// Whether it acts on water networks (else on power grids).
    pub fn is_water(self) -> bool {
        matches!(
            self,
            EventAction::Burst | EventAction::Close | EventAction::Open | EventAction::Setting
        )
    }

    /// The TOML name.
    pub fn as_str(self) -> &'static str {
        match self {
            EventAction::Burst => "burst",
            EventAction::Close => "close",
            EventAction::Open => "open",
            EventAction::Setting => "setting",
            EventAction::Outage => "outage",
            EventAction::SwitchOpen => "switch_open",
            EventAction::SwitchClose => "switch_close",
        }
    }
}

impl UtilitiesConfig {
    /// Checks values that need no scene: positive rates, 24-value profiles, thresholds in order, events that name
    /// one element fitting their action. Returns the failing key and message (the scenario adds the line).
    pub(crate) fn check(
        &self,
        start: SimTime,
        end: SimTime,
    ) -> Result<(), (Option<std::ops::Range<usize>>, String, String)> {
        let w = &self.water;
        let p = &self.power;
        let nonneg = |k: &str, v: f64| {
            if v.is_finite() && v >= 0.0 {
                Ok(())
            } else {
                Err((None, k.to_owned(), format!("must be zero or more, not {v}")))
            }
        };
        nonneg(
            "utilities.max_service_distance_m",
            self.max_service_distance_m,
        )?;
        nonneg("utilities.water.no_water_pressure_m", w.no_water_pressure_m)?;
        for (k, map) in [
            (
                "utilities.water.litres_per_person_day",
                &w.litres_per_person_day,
            ),
            ("utilities.water.litres_per_m2_day", &w.litres_per_m2_day),
            ("utilities.power.kw_per_person", &p.kw_per_person),
            ("utilities.power.w_per_m2", &p.w_per_m2),
        ] {
            for v in map.values() {
                nonneg(k, *v)?;
            }
        }
        if !(w.low_pressure_m.is_finite() && w.low_pressure_m >= w.no_water_pressure_m) {
            return Err((
                None,
                "utilities.water.low_pressure_m".into(),
                format!(
                    "must be at least no_water_pressure_m ({}), not {}",
                    w.no_water_pressure_m, w.low_pressure_m
                ),
            ));
        }
        for (k, prof) in [
            ("utilities.water.person_profile", &w.person_profile),
            ("utilities.water.area_profile", &w.area_profile),
            ("utilities.power.person_profile", &p.person_profile),
            ("utilities.power.area_profile", &p.area_profile),
        ] {
            let v = prof.get_ref();
            if !(v.len() == 24
                && v.iter().all(|x| x.is_finite() && *x >= 0.0)
                && v.iter().sum::<f64>() > 0.0)
            {
                return Err((
                    Some(prof.span()),
                    k.into(),
                    "needs 24 non-negative hourly weights, not all zero".into(),
                ));
            }
        }
        if !(p.power_factor > 0.0 && p.power_factor <= 1.0) {
            return Err((
                None,
                "utilities.power.power_factor".into(),
                format!("must be in (0, 1], not {}", p.power_factor),
            ));
        }
        if !(p.min_voltage_pu > 0.0 && p.min_voltage_pu < p.max_voltage_pu) {
            return Err((
                None,
                "utilities.power.min_voltage_pu".into(),
                "the voltage band needs 0 < min_voltage_pu < max_voltage_pu".into(),
            ));
        }
        nonneg("utilities.power.service_max_kv", p.service_max_kv)?;
        if !(p.max_loading_percent > 0.0 && p.max_loading_percent.is_finite()) {
            return Err((
                None,
                "utilities.power.max_loading_percent".into(),
                format!("must be positive, not {}", p.max_loading_percent),
            ));
        }
        for ev in &self.events {
            let e = ev.get_ref();
            let fail = |m: String| Err((Some(ev.span()), "utilities.events".to_owned(), m));
            if e.at < start || e.at > end {
                return fail(format!("at {} is outside the run ({start} to {end})", e.at));
            }
            if let Some(u) = e.until {
                if u <= e.at {
                    return fail(format!("until {u} must come after at {}", e.at));
                }
            }
            let named = [
                e.feature.is_some(),
                e.link.is_some(),
                e.node.is_some(),
                e.line.is_some(),
                e.trafo.is_some(),
                e.switch.is_some(),
            ]
            .iter()
            .filter(|b| **b)
            .count();
            if named != 1 {
                return fail(
                    "an event names exactly one of feature, link, node, line, trafo, switch".into(),
                );
            }
            let a = e.action;
            let fits = match a {
                EventAction::Burst => e.link.is_some() || e.node.is_some() || e.feature.is_some(),
                EventAction::Close | EventAction::Open | EventAction::Setting => {
                    e.link.is_some() || e.feature.is_some()
                }
                EventAction::Outage => e.line.is_some() || e.trafo.is_some() || e.feature.is_some(),
                EventAction::SwitchOpen | EventAction::SwitchClose => e.switch.is_some(),
            };
            if !fits {
                return fail(format!(
                    "`{}` does not apply to the element named (bursts: link or node; close, open, setting: link; \
                     outage: line or trafo; switch_open and switch_close: switch; or a feature)",
                    a.as_str()
                ));
            }
            match (a, e.flow_lps, e.setting) {
                (EventAction::Burst, None, _) => return fail("a burst needs flow_lps".into()),
                (EventAction::Burst, Some(f), _) if !(f.is_finite() && f > 0.0) => {
                    return fail(format!("flow_lps must be positive, not {f}"))
                }
                (EventAction::Setting, _, None) => return fail("`setting` needs a setting".into()),
                (EventAction::Setting, _, Some(s)) if !(s.is_finite() && s >= 0.0) => {
                    return fail(format!("setting must be zero or more, not {s}"))
                }
                _ => {}
            }
            if let Some(pm) = e.pressure_m {
                if !(pm.is_finite() && pm > 0.0) {
                    return fail(format!("pressure_m must be positive, not {pm}"));
                }
            }
        }
        Ok(())
    }
}

/// Scales 24 hourly weights to a mean of 1.
pub(crate) fn normalised(profile: &[f64]) -> [f64; 24] {
    let mean = profile.iter().sum::<f64>() / 24.0;
    let mut out = [1.0; 24];
    for (o, v) in out.iter_mut().zip(profile) {
        *o = v / mean;
    }
    out
}

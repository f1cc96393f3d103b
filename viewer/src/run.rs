//! A simulation run on the scene: its time series mapped once to colour-table slots, so that moving the time
//! slider only looks values up, with a colour domain fixed over the whole run.
//!
//! Buildings take their `occupancy`; a road feature shows both of its directed links: volumes and flows add up,
//! speed shows the slower direction, density and volume/capacity the fuller one. The run must belong to the
//! scene (the same fingerprint), or it is refused.

use crate::mesh::SceneMesh;
use citytwin_engine::sim::output::{RunDir, RunDirError, RunMeta};
use citytwin_engine::time::SimTime;
use citytwin_engine::timeseries::{parquet as pq, robust_domain, SeriesTable};
use citytwin_engine::{FeatureId, LinkId, Scene};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A simulated quantity the scene can be coloured by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Quantity {
    /// Persons in each building.
    Occupancy,
    /// Vehicles entering each road per step.
    LinkVolume,
    /// Vehicles per hour on each road.
    LinkFlow,
    /// Mean speed on each road.
    LinkSpeed,
    /// Vehicles per km and lane.
    LinkDensity,
    /// Flow ÷ capacity.
    LinkVolumeCapacity,
    /// Water pressure at junctions and at the buildings they serve.
    WaterPressure,
    /// Water service of buildings: 1 fine, 0.5 low pressure, 0 none.
    WaterService,
    /// Flow in pipes, pumps and valves (either direction).
    PipeFlow,
    /// Velocity in pipes.
    PipeVelocity,
    /// Voltage at buses and at the buildings they serve.
    BusVoltage,
    /// Loading of lines and transformers.
    LineLoading,
    /// Power service of buildings: 1 fine, 0.5 voltage out of band, 0 none.
    PowerService,
}

impl Quantity {
    /// Every quantity, in menu order.
    pub const ALL: [Quantity; 13] = [
        Quantity::Occupancy,
        Quantity::LinkVolume,
        Quantity::LinkFlow,
        Quantity::LinkSpeed,
        Quantity::LinkDensity,
        Quantity::LinkVolumeCapacity,
        Quantity::WaterPressure,
        Quantity::WaterService,
        Quantity::PipeFlow,
        Quantity::PipeVelocity,
        Quantity::BusVoltage,
        Quantity::LineLoading,
        Quantity::PowerService,
    ];

    /// The name used on the command line (`--color-by link_volume`).
    pub fn name(self) -> &'static str {
        match self {
            Quantity::Occupancy => "occupancy",
            Quantity::LinkVolume => "link_volume",
            Quantity::LinkFlow => "link_flow",
            Quantity::LinkSpeed => "link_speed",
            Quantity::LinkDensity => "link_density",
            Quantity::LinkVolumeCapacity => "link_vc",
            Quantity::WaterPressure => "water_pressure",
            Quantity::WaterService => "water_service",
            Quantity::PipeFlow => "pipe_flow",
            Quantity::PipeVelocity => "pipe_velocity",
            Quantity::BusVoltage => "bus_voltage",
            Quantity::LineLoading => "line_loading",
            Quantity::PowerService => "power_service",
        }
    }

    /// A value of this quantity for people, with its unit.
    pub fn format(self, v: f32) -> String {
        match self {
            Quantity::BusVoltage => format!("{v:.3} pu"),
            Quantity::WaterService | Quantity::PowerService => match v {
                v if v >= 1.0 => "served".into(),
                v if v > 0.0 => "poor".into(),
                _ => "none".into(),
            },
            Quantity::WaterPressure => format!("{v:.1} m"),
            Quantity::PipeFlow => format!("{v:.2} L/s"),
            Quantity::PipeVelocity => format!("{v:.2} m/s"),
            Quantity::LineLoading => format!("{v:.0} %"),
            _ => format!("{v:.1}"),
        }
    }

    /// Parses [`Self::name`] (and a few spellings).
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "occupancy" | "building_occupancy" | "people" => Quantity::Occupancy,
            "link_volume" | "volume" => Quantity::LinkVolume,
            "link_flow" | "flow" => Quantity::LinkFlow,
            "link_speed" | "speed" => Quantity::LinkSpeed,
            "link_density" | "density" => Quantity::LinkDensity,
            "link_vc" | "volume_capacity" | "vc" => Quantity::LinkVolumeCapacity,
            "water_pressure" | "pressure" => Quantity::WaterPressure,
            "water_service" => Quantity::WaterService,
            "pipe_flow" => Quantity::PipeFlow,
            "pipe_velocity" | "velocity" => Quantity::PipeVelocity,
            "bus_voltage" | "voltage" | "vm_pu" => Quantity::BusVoltage,
            "line_loading" | "loading" => Quantity::LineLoading,
            "power_service" => Quantity::PowerService,
            _ => return None,
        })
    }

    fn source(self) -> (&'static str, &'static str) {
        match self {
            Quantity::Occupancy => ("buildings", "occupancy"),
            Quantity::LinkVolume => ("links", "volume"),
            Quantity::LinkFlow => ("links", "flow"),
            Quantity::LinkSpeed => ("links", "speed"),
            Quantity::LinkDensity => ("links", "density"),
            Quantity::LinkVolumeCapacity => ("links", "volume_capacity"),
            Quantity::WaterPressure => ("utilities", "pressure_m"),
            Quantity::WaterService => ("utilities", "water_service"),
            Quantity::PipeFlow => ("utilities", "flow_m3s"),
            Quantity::PipeVelocity => ("utilities", "velocity_ms"),
            Quantity::BusVoltage => ("utilities", "vm_pu"),
            Quantity::LineLoading => ("utilities", "loading_percent"),
            Quantity::PowerService => ("utilities", "power_service"),
        }
    }

    /// The utility columns shown together with this one (buildings beside the network's own elements), the
    /// transform applied to values, and the legend title.
    fn utility(self) -> Option<UtilitySource> {
        Some(match self {
            Quantity::WaterPressure => (
                &["pressure_m", "water_pressure_m"],
                |v| v,
                "water pressure (m)",
            ),
            Quantity::WaterService => (
                &["water_service"],
                |v| v,
                "water service (1 served, 0 none)",
            ),
            Quantity::PipeFlow => (&["flow_m3s"], |v| v.abs() * 1000.0, "flow (L/s)"),
            Quantity::PipeVelocity => (&["velocity_ms"], |v| v, "velocity (m/s)"),
            Quantity::BusVoltage => (&["vm_pu", "power_voltage_pu"], |v| v, "voltage (pu)"),
            Quantity::LineLoading => (&["loading_percent"], |v| v, "loading (%)"),
            Quantity::PowerService => (
                &["power_service"],
                |v| v,
                "power service (1 served, 0 none)",
            ),
            _ => return None,
        })
    }
}

/// Where a utility quantity's values come from: its columns, a transform, the legend title.
type UtilitySource = (&'static [&'static str], fn(f32) -> f32, &'static str);

/// Why a run cannot be shown.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The run directory is unreadable.
    #[error(transparent)]
    Dir(#[from] RunDirError),
    /// The run belongs to another scene.
    #[error("{path}: this run was simulated on another scene (fingerprint {run}, this scene {scene}); simulate it again on this scene")]
    WrongScene {
        /// The run directory.
        path: PathBuf,
        /// The run's fingerprint.
        run: String,
        /// The scene's.
        scene: String,
    },
    /// A quantity the run does not have.
    #[error("the run has no `{0}` (it has: {1})")]
    NoQuantity(String, String),
}

/// One quantity per slot over the run's steps.
#[derive(Clone, Debug)]
pub struct SlotSeries {
    /// Step times.
    pub times: Vec<SimTime>,
    /// Slots with values, ascending.
    pub slots: Vec<u32>,
    /// Values, step-major (`values[step × slots + i]`), `NaN` for none.
    pub values: Vec<f32>,
    /// Colour domain over the whole run.
    pub domain: (f32, f32),
    /// Legend title, with the unit.
    pub title: String,
}

impl SlotSeries {
    /// The step in effect at `t`.
    pub fn step_at(&self, t: SimTime) -> usize {
        self.times.partition_point(|s| *s <= t).saturating_sub(1)
    }

    /// Values of step `step`, one per entry of `slots`.
    pub fn values_at(&self, step: usize) -> &[f32] {
        let n = self.slots.len();
        let s = step.min(self.times.len().saturating_sub(1));
        &self.values[s * n..(s + 1) * n]
    }

    /// The value of `slot` at `t`.
    pub fn value(&self, slot: u32, t: SimTime) -> Option<f32> {
        let i = self.slots.binary_search(&slot).ok()?;
        let v = self.values_at(self.step_at(t))[i];
        v.is_finite().then_some(v)
    }
}

/// Step totals of the run, for the KPI charts.
#[derive(Clone, Debug, Default)]
pub struct RunTotals {
    /// Step instants, hours since midnight.
    pub hours: Vec<f64>,
    /// Persons travelling.
    pub on_move: Vec<f64>,
    /// Vehicles on the network.
    pub vehicles: Vec<f64>,
    /// Mean network speed in the interval starting there, km/h (NaN: no traffic).
    pub speed_kmh: Vec<f64>,
}

/// A run prepared for one scene mesh.
#[derive(Clone, Debug)]
pub struct RunView {
    /// The run directory.
    pub path: PathBuf,
    /// Its `run.json`.
    pub meta: RunMeta,
    /// First and last moment.
    pub start: SimTime,
    /// See `start`.
    pub end: SimTime,
    /// The quantities the run has.
    pub series: BTreeMap<Quantity, SlotSeries>,
    /// Step totals.
    pub totals: RunTotals,
    /// KPIs in file order.
    pub kpis: Vec<(String, f64)>,
    /// Utility alerts, by start time.
    pub alerts: Vec<citytwin_engine::sim::utilities::run::Alert>,
}

fn combine(q: Quantity, acc: f32, v: f32) -> f32 {
    match (acc.is_finite(), v.is_finite()) {
        (false, _) => v,
        (_, false) => acc,
        _ => match q {
            Quantity::LinkVolume | Quantity::LinkFlow | Quantity::Occupancy => acc + v,
            Quantity::LinkSpeed
            | Quantity::WaterPressure
            | Quantity::WaterService
            | Quantity::BusVoltage
            | Quantity::PowerService => acc.min(v),
            Quantity::LinkDensity
            | Quantity::LinkVolumeCapacity
            | Quantity::PipeFlow
            | Quantity::PipeVelocity
            | Quantity::LineLoading => acc.max(v),
        },
    }
}

/// Maps each entity of `table` to a slot and folds the values of entities that share one.
fn to_slots(
    q: Quantity,
    table: &SeriesTable,
    column: &str,
    slot_of: impl Fn(u64) -> Option<u32>,
    title: String,
) -> Option<SlotSeries> {
    to_slots_of(q, table, &[column], |v| v, slot_of, title)
}

/// [`to_slots`] over several columns (their entities do not overlap), each value passed through `f`.
fn to_slots_of(
    q: Quantity,
    table: &SeriesTable,
    columns: &[&str],
    f: fn(f32) -> f32,
    slot_of: impl Fn(u64) -> Option<u32>,
    title: String,
) -> Option<SlotSeries> {
    let cols: Vec<_> = columns.iter().filter_map(|c| table.column(c)).collect();
    if cols.is_empty() {
        return None;
    }
    let entity_slot: Vec<Option<u32>> = table.ids.iter().map(|&id| slot_of(id)).collect();
    let mut slots: Vec<u32> = entity_slot.iter().flatten().copied().collect();
    slots.sort_unstable();
    slots.dedup();
    let n = slots.len();
    let index: Vec<Option<usize>> = entity_slot
        .iter()
        .map(|s| s.and_then(|s| slots.binary_search(&s).ok()))
        .collect();
    let mut values = vec![f32::NAN; table.times.len() * n];
    for step in 0..table.times.len() {
        let out = &mut values[step * n..(step + 1) * n];
        for col in &cols {
            let row = table.step_values(col, step);
            for (e, v) in row.iter().enumerate() {
                if let Some(i) = index[e] {
                    out[i] = combine(q, out[i], f(*v));
                }
            }
        }
    }
    let domain = match q {
        Quantity::WaterService | Quantity::PowerService => (0.0, 1.0),
        _ => robust_domain(&values).unwrap_or((0.0, 1.0)),
    };
    Some(SlotSeries {
        times: table.times.clone(),
        slots,
        values,
        domain,
        title,
    })
}

fn read_totals(path: &Path) -> RunTotals {
    let Ok((b, _)) = pq::read_table(&path.join("totals.parquet")) else {
        return RunTotals::default();
    };
    let col = |name: &str| -> Vec<f64> {
        let Some(c) = b.column_by_name(name) else {
            return Vec::new();
        };
        let c = arrow_cast(c);
        c.unwrap_or_default()
    };
    RunTotals {
        hours: col("time_s").iter().map(|s| s / 3600.0).collect(),
        on_move: col("persons_on_move"),
        vehicles: col("vehicles_on_network"),
        speed_kmh: col("mean_speed_kmh"),
    }
}

/// A numeric Arrow column as f64 (nulls as NaN).
fn arrow_cast(c: &arrow_array::ArrayRef) -> Option<Vec<f64>> {
    use arrow_array::{Array, Float64Array, UInt32Array, UInt64Array};
    let a = c.as_any();
    if let Some(x) = a.downcast_ref::<Float64Array>() {
        return Some(
            (0..x.len())
                .map(|i| if x.is_null(i) { f64::NAN } else { x.value(i) })
                .collect(),
        );
    }
    if let Some(x) = a.downcast_ref::<UInt64Array>() {
        return Some(x.values().iter().map(|v| *v as f64).collect());
    }
    if let Some(x) = a.downcast_ref::<UInt32Array>() {
        return Some(x.values().iter().map(|v| f64::from(*v)).collect());
    }
    None
}

impl RunView {
    /// Opens the run at `path` for `scene` as meshed in `mesh`.
    ///
    /// # Errors
    /// [`RunError`]: not a run, unreadable tables, or a run of another scene.
    pub fn load(path: &Path, scene: &Scene, mesh: &SceneMesh) -> Result<Self, RunError> {
        let dir = RunDir::open(path)?;
        let fp = citytwin_engine::store::fingerprint(scene);
        if dir.meta.scene_fingerprint != fp {
            return Err(RunError::WrongScene {
                path: path.to_owned(),
                run: dir.meta.scene_fingerprint.clone(),
                scene: fp,
            });
        }
        let parse = |s: &str| s.parse::<SimTime>().unwrap_or_default();
        let (start, end) = (parse(&dir.meta.start), parse(&dir.meta.end));
        let mut series = BTreeMap::new();
        let feature_slot = |id: u64| mesh.slot_of_feature(scene, FeatureId(id));
        if let Some(b) = dir.series("buildings", Some(&fp))? {
            if let Some(s) = to_slots(
                Quantity::Occupancy,
                &b,
                "occupancy",
                feature_slot,
                "people in the building".into(),
            ) {
                series.insert(Quantity::Occupancy, s);
            }
        }
        if let Some(l) = dir.series("links", Some(&fp))? {
            let roads = scene.layer(&dir.meta.road_layer).ok();
            let link_slot = |id: u64| {
                let net = roads?.network.as_ref()?;
                let e = net.edges.get(LinkId(id as u32).edge().0 as usize)?;
                feature_slot(e.feature.0)
            };
            let step = l
                .times
                .get(1)
                .map(|t| citytwin_engine::time::Seconds(t.0 - l.times[0].0).to_string())
                .unwrap_or_else(|| dir.meta.step.clone());
            for (q, title) in [
                (Quantity::LinkVolume, format!("vehicles per {step}")),
                (Quantity::LinkFlow, "flow (veh/h)".to_owned()),
                (Quantity::LinkSpeed, "speed (km/h)".to_owned()),
                (Quantity::LinkDensity, "density (veh/km/lane)".to_owned()),
                (Quantity::LinkVolumeCapacity, "volume / capacity".to_owned()),
            ] {
                if let Some(s) = to_slots(q, &l, q.source().1, link_slot, title) {
                    series.insert(q, s);
                }
            }
        }
        if let Some(u) = dir.series("utilities", Some(&fp))? {
            for q in Quantity::ALL {
                if let Some((cols, f, title)) = q.utility() {
                    if let Some(s) = to_slots_of(q, &u, cols, f, feature_slot, title.into()) {
                        series.insert(q, s);
                    }
                }
            }
        }
        let kpis = dir.kpis().unwrap_or_default();
        let alerts = dir.alerts()?;
        Ok(RunView {
            alerts,
            totals: read_totals(path),
            path: path.to_owned(),
            meta: dir.meta,
            start,
            end,
            series,
            kpis,
        })
    }

    /// The series of `q`.
    ///
    /// # Errors
    /// [`RunError::NoQuantity`] listing what the run has.
    pub fn quantity(&self, q: Quantity) -> Result<&SlotSeries, RunError> {
        self.series.get(&q).ok_or_else(|| {
            RunError::NoQuantity(
                q.name().into(),
                self.series
                    .keys()
                    .map(|k| k.name())
                    .collect::<Vec<_>>()
                    .join(", "),
            )
        })
    }

    /// The run's name for captions: the scenario's, else the directory's.
    pub fn label(&self) -> String {
        self.meta.scenario.clone().unwrap_or_else(|| {
            self.path
                .file_name()
                .map_or_else(|| "run".into(), |f| f.to_string_lossy().into_owned())
        })
    }
}

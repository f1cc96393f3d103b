//! The run directory: what a run writes, and reading it back.
//!
//! ```text
//! scenario.toml        the scenario with every default resolved
//! run.json             seed, scene fingerprint, demand, road layer, times, and what each file holds
//! kpi.json             the KPIs
//! links.parquet        per directed link and interval: volume, flow, speed, density, volume/capacity
//! link_info.parquet    per link: feature, length, lanes, speed limit, capacity, closed, SUMO id
//! buildings.parquet    per building and step: occupancy (population runs)
//! building_info.parquet per building: use category, floor area, residents, jobs, added by a what-if
//! cells.parquet        per grid cell and step: persons (cells under k persons left out)
//! totals.parquet       per step: persons in buildings and on the move, vehicles on the network, vehicle-km,
//!                      mean speed, car arrivals
//! trips.parquet        per trip: mode, depart, arrive, duration, length, free-flow time, route
//! persons.parquet      per person (only when output.persons = true)
//! utilities.parquet    per feature and step: water pressure and service of buildings, pressures of water nodes,
//!                      flows and velocities of pipes, bus voltages, line and transformer loading, voltage and
//!                      service of buildings (scenes with utility layers)
//! alerts.csv           thresholds crossed (when, where, how bad, who) and utility events
//! run-info.json        wall-clock times, threads, host: the only file that differs between identical runs
//! ```
//! Every file but `run-info.json` is byte-identical for the same scene, scenario and seed, whatever the number of
//! threads.

use super::population::Mode;
use super::scenario::category_name;
use super::{RunOutput, TripRecords};
use crate::timeseries::parquet::{self as pq, TableError};
use crate::timeseries::SeriesTable;
use arrow_array::builder::{ListBuilder, UInt32Builder};
use arrow_array::{
    ArrayRef, BooleanArray, Float32Array, Float64Array, StringArray, UInt32Array, UInt64Array,
    UInt8Array,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The file with the run's metadata.
pub const RUN_JSON: &str = "run.json";
/// The only file whose content depends on the machine and the moment.
pub const RUN_INFO_JSON: &str = "run-info.json";

/// What `run.json` holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunMeta {
    /// The citytwin version that wrote it.
    pub citytwin: String,
    /// The scenario's name.
    pub scenario: Option<String>,
    /// The seed.
    pub seed: u64,
    /// The scene file's name.
    pub scene: String,
    /// The scene's fingerprint.
    pub scene_fingerprint: String,
    /// `population` or `trips: <file>`.
    pub demand: String,
    /// The road layer.
    pub road_layer: String,
    /// First simulated moment.
    pub start: String,
    /// Last simulated moment.
    pub end: String,
    /// Output step.
    pub step: String,
    /// The files and what they hold.
    pub files: BTreeMap<String, String>,
}

/// Errors writing or reading a run directory.
#[derive(Debug, thiserror::Error)]
pub enum RunDirError {
    /// A file could not be written or read.
    #[error("{path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A table could not be written or read.
    #[error(transparent)]
    Table(#[from] TableError),
    /// Not a run directory, or a broken one.
    #[error("{path}: {detail}")]
    Invalid {
        /// The directory or file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
}

fn write_text(path: &Path, text: &str) -> Result<(), RunDirError> {
    std::fs::write(path, text).map_err(|source| RunDirError::Io {
        path: path.to_owned(),
        source,
    })
}

fn json<T: Serialize>(v: &T) -> String {
    let mut s =
        serde_json::to_string_pretty(v).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}

fn meta(fingerprint: &str, what: &str) -> BTreeMap<String, String> {
    [
        (pq::META_FINGERPRINT.to_owned(), fingerprint.to_owned()),
        ("citytwin.table".to_owned(), what.to_owned()),
    ]
    .into()
}

fn secs(ms: u64) -> Option<f64> {
    (ms != super::traffic::queue::NEVER).then(|| ms as f64 / 1000.0)
}

fn trips_table(t: &TripRecords, routes: bool, persons: bool) -> Vec<(&'static str, ArrayRef)> {
    let n = t.mode.len();
    let mode = |m: Mode| m.as_str();
    let mut cols: Vec<(&'static str, ArrayRef)> = vec![
        (
            "trip_id",
            Arc::new(UInt32Array::from_iter_values(0..n as u32)),
        ),
        (
            "mode",
            Arc::new(StringArray::from_iter_values(
                t.mode.iter().map(|m| mode(*m)),
            )),
        ),
        (
            "unroutable",
            Arc::new(BooleanArray::from(t.unroutable.clone())),
        ),
        (
            "depart_s",
            Arc::new(Float64Array::from_iter(
                t.depart_ms.iter().map(|&v| secs(v)),
            )),
        ),
        (
            "arrive_s",
            Arc::new(Float64Array::from_iter(
                t.arrive_ms.iter().map(|&v| secs(v)),
            )),
        ),
        (
            "duration_s",
            Arc::new(Float64Array::from_iter((0..n).map(|i| {
                secs(t.arrive_ms[i])
                    .zip(secs(t.depart_ms[i]))
                    .map(|(a, d)| a - d)
            }))),
        ),
        (
            "depart_delay_s",
            Arc::new(Float64Array::from_iter((0..n).map(|i| {
                secs(t.depart_ms[i])
                    .zip(secs(t.request_ms[i]))
                    .map(|(d, r)| d - r)
            }))),
        ),
        ("length_m", Arc::new(Float64Array::from(t.length_m.clone()))),
        (
            "free_flow_s",
            Arc::new(Float64Array::from_iter_values(
                t.free_flow_ms.iter().map(|&v| v as f64 / 1000.0),
            )),
        ),
        (
            "moved_on",
            Arc::new(UInt32Array::from_iter_values(
                t.moved_on.iter().map(|&v| u32::from(v)),
            )),
        ),
    ];
    if t.external_id.iter().any(|s| !s.is_empty()) {
        cols.push((
            "external_id",
            Arc::new(StringArray::from_iter_values(t.external_id.iter())),
        ));
    }
    if routes {
        let mut b = ListBuilder::new(UInt32Builder::with_capacity(t.route.len()));
        for i in 0..n {
            let r = &t.route[t.route_off[i] as usize..t.route_off[i + 1] as usize];
            b.values().append_slice(r);
            b.append(true);
        }
        cols.push(("route", Arc::new(b.finish())));
    }
    if persons {
        cols.push(("person", Arc::new(UInt32Array::from(t.traveller.clone()))));
        cols.push((
            "leave_s",
            Arc::new(Float64Array::from_iter(
                t.request_ms.iter().map(|&v| secs(v)),
            )),
        ));
        cols.push((
            "origin_feature",
            Arc::new(UInt64Array::from_iter(
                t.origin.iter().map(|f| f.map(|x| x.0)),
            )),
        ));
        cols.push((
            "destination_feature",
            Arc::new(UInt64Array::from_iter(
                t.destination.iter().map(|f| f.map(|x| x.0)),
            )),
        ));
    }
    cols
}

/// Writes `out` into the directory `dir` (which must exist and be empty). `scene_name` is the scene file's name
/// as recorded in `run.json`.
///
/// # Errors
/// [`RunDirError`] when a file cannot be written.
pub fn write(dir: &Path, out: &RunOutput, scene_name: &str) -> Result<(), RunDirError> {
    let fp = &out.fingerprint;
    let origin = [0.0, 0.0];
    let sc = &out.scenario;
    let mut files: BTreeMap<String, String> = BTreeMap::new();
    let mut file = |name: &str, what: &str| {
        files.insert(name.to_owned(), what.to_owned());
        dir.join(name)
    };
    write_text(
        &file("scenario.toml", "the scenario, every default resolved"),
        &sc.to_toml(),
    )?;
    write_text(
        &file("kpi.json", "key performance indicators"),
        &json(&out.kpis),
    )?;
    pq::write_series(
        &file(
            "links.parquet",
            "per directed link and interval (time_s = interval start): volume (veh entering), flow (veh/h), speed (km/h, free-flow when empty), density (veh/km/lane), volume_capacity",
        ),
        &out.links,
        fp,
        origin,
    )?;
    let li = &out.link_info;
    pq::write_table(
        &file(
            "link_info.parquet",
            "per directed link: feature, length, lanes, speed limit, capacity, closed, SUMO id",
        ),
        vec![
            ("link_id", Arc::new(UInt32Array::from(li.link.clone()))),
            (
                "feature_id",
                Arc::new(UInt64Array::from_iter_values(
                    li.feature.iter().map(|f| f.0),
                )),
            ),
            (
                "length_m",
                Arc::new(Float64Array::from(li.length_m.clone())),
            ),
            ("lanes", Arc::new(UInt8Array::from(li.lanes.clone()))),
            (
                "speed_limit_kmh",
                Arc::new(Float32Array::from(li.speed_kmh.clone())),
            ),
            (
                "capacity_veh_h",
                Arc::new(Float32Array::from(li.capacity_veh_h.clone())),
            ),
            ("closed", Arc::new(BooleanArray::from(li.closed.clone()))),
            ("sumo_id", Arc::new(StringArray::from(li.sumo_id.clone()))),
        ],
        &meta(fp, "link_info"),
    )?;
    if let Some(b) = &out.buildings {
        pq::write_series(
            &file(
                "buildings.parquet",
                "per building and step: occupancy (persons present at the step's instant)",
            ),
            b,
            fp,
            origin,
        )?;
    }
    if let Some(p) = &out.places {
        pq::write_table(
            &file(
                "building_info.parquet",
                "per building: use category, floor area, residents, jobs, added by a what-if",
            ),
            vec![
                (
                    "feature_id",
                    Arc::new(UInt64Array::from_iter_values(p.feature.iter().map(|f| f.0))),
                ),
                (
                    "category",
                    Arc::new(StringArray::from_iter_values(
                        p.category.iter().map(|c| category_name(*c)),
                    )),
                ),
                ("floor_m2", Arc::new(Float64Array::from(p.floor_m2.clone()))),
                (
                    "residents",
                    Arc::new(UInt32Array::from(p.residents.clone())),
                ),
                ("jobs", Arc::new(Float64Array::from(p.jobs.clone()))),
                ("added", Arc::new(BooleanArray::from(p.added.clone()))),
            ],
            &meta(fp, "building_info"),
        )?;
    }
    if let Some(c) = &out.cells {
        pq::write_series(
            &file(
                "cells.parquet",
                "per grid cell and step: persons present; cell_x, cell_y: the cell's lower-left corner in the scene CRS; cells under output.k_anonymity persons left out (null)",
            ),
            c,
            fp,
            out.scene_origin,
        )?;
    }
    let t = &out.totals;
    pq::write_table(
        &file("totals.parquet", "per step: persons in buildings and on the move, vehicles on the network at the instant; vehicle-km, mean speed and car arrivals in the interval that starts there"),
        vec![
            ("time_s", Arc::new(UInt32Array::from(t.time_s.clone()))),
            ("persons_in_buildings", Arc::new(UInt64Array::from(t.in_buildings.clone()))),
            ("persons_on_move", Arc::new(UInt64Array::from(t.on_move.clone()))),
            ("vehicles_on_network", Arc::new(UInt32Array::from(t.vehicles_on_network.clone()))),
            ("vehicle_km", Arc::new(Float64Array::from(t.vehicle_km.clone()))),
            (
                "mean_speed_kmh",
                Arc::new(Float64Array::from_iter(
                    t.mean_speed_kmh.iter().map(|v| v.is_finite().then_some(*v)),
                )),
            ),
            ("car_arrivals", Arc::new(UInt32Array::from(t.car_arrivals.clone()))),
        ],
        &meta(fp, "totals"),
    )?;
    pq::write_table(
        &file("trips.parquet", "per trip: mode, depart and arrive (s), duration (depart to arrive), wait to enter the network, length, free-flow time, moved-on count, route (link ids)"),
        trips_table(&out.trips, sc.output.routes, sc.output.persons),
        &meta(fp, "trips"),
    )?;
    if let Some(plans) = &out.persons {
        let places = out.places.as_ref();
        let patterns: Vec<String> = (0..plans.persons())
            .map(|p| {
                plans
                    .of(p)
                    .iter()
                    .map(|a| a.kind.as_str())
                    .collect::<Vec<_>>()
                    .join("-")
            })
            .collect();
        pq::write_table(
            &file(
                "persons.parquet",
                "per person: type, home building, activity chain",
            ),
            vec![
                (
                    "person",
                    Arc::new(UInt32Array::from_iter_values(0..plans.persons() as u32)),
                ),
                (
                    "type",
                    Arc::new(StringArray::from_iter_values(
                        plans
                            .person_type
                            .iter()
                            .map(|t| super::scenario::person_type_name(*t)),
                    )),
                ),
                (
                    "home_feature",
                    Arc::new(UInt64Array::from_iter_values(plans.home.iter().map(|&h| {
                        places.map_or(u64::from(h), |p| p.feature[h as usize].0)
                    }))),
                ),
                ("chain", Arc::new(StringArray::from(patterns))),
            ],
            &meta(fp, "persons"),
        )?;
    }
    if let Some(u) = &out.utilities {
        pq::write_series(
            &file(
                "utilities.parquet",
                "per feature and step: water_pressure_m and water_service (buildings; service 1 fine, 0.5 low pressure, 0 no water), pressure_m (water nodes), flow_m3s and velocity_ms (pipes, pumps, valves), vm_pu (buses), loading_percent (lines, transformers), power_voltage_pu and power_service (buildings; 1 fine, 0.5 voltage out of band, 0 no power)",
            ),
            &u.table,
            fp,
            origin,
        )?;
        write_alerts(
            &file(
                "alerts.csv",
                "thresholds crossed and utility events: start_s, end_s (empty: to the end), layer, kind, element, feature_id, worst value, threshold, buildings and persons affected, message",
            ),
            &u.alerts,
        )?;
    }
    files.insert(
        RUN_INFO_JSON.to_owned(),
        "wall-clock times, threads and host (differs between otherwise identical runs)".to_owned(),
    );
    let run = RunMeta {
        citytwin: env!("CARGO_PKG_VERSION").to_owned(),
        scenario: sc.name.clone(),
        seed: out.seed,
        scene: scene_name.to_owned(),
        scene_fingerprint: fp.clone(),
        demand: out.demand.clone(),
        road_layer: out.road_layer.clone(),
        start: sc.start.get_ref().to_string(),
        end: sc.end.get_ref().to_string(),
        step: sc.step.get_ref().to_string(),
        files,
    };
    write_text(&dir.join(RUN_JSON), &json(&run))?;
    #[derive(Serialize)]
    struct Info<'a> {
        stats: &'a super::RunStats,
        host: String,
        cpus: usize,
    }
    let info = Info {
        stats: &out.stats,
        host: std::fs::read_to_string("/etc/hostname")
            .map(|h| h.trim().to_owned())
            .unwrap_or_default(),
        cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    write_text(&dir.join(RUN_INFO_JSON), &json(&info))?;
    Ok(())
}

/// One row of `alerts.csv`.
#[derive(Serialize, Deserialize)]
struct AlertRow {
    start_s: u32,
    end_s: Option<u32>,
    layer: String,
    kind: String,
    element: String,
    feature_id: Option<u64>,
    value: f64,
    threshold: f64,
    buildings: u32,
    persons: u32,
    message: String,
}

fn write_alerts(path: &Path, alerts: &[super::utilities::run::Alert]) -> Result<(), RunDirError> {
    let io = |e: csv::Error| RunDirError::Invalid {
        path: path.to_owned(),
        detail: e.to_string(),
    };
    let mut w = csv::Writer::from_path(path).map_err(io)?;
    for a in alerts {
        w.serialize(AlertRow {
            start_s: a.start.0,
            end_s: a.end.map(|t| t.0),
            layer: a.layer.clone(),
            kind: a.kind.clone(),
            element: a.element.clone(),
            feature_id: a.feature,
            value: a.value,
            threshold: a.threshold,
            buildings: a.buildings,
            persons: a.persons,
            message: a.message.clone(),
        })
        .map_err(io)?;
    }
    w.flush().map_err(|source| RunDirError::Io {
        path: path.to_owned(),
        source,
    })
}

/// A run directory opened for reading.
#[derive(Clone, Debug)]
pub struct RunDir {
    /// The directory.
    pub path: PathBuf,
    /// Its `run.json`.
    pub meta: RunMeta,
}

impl RunDir {
    /// Opens a run directory (reads `run.json`).
    ///
    /// # Errors
    /// [`RunDirError`] when it is not a run directory.
    pub fn open(path: &Path) -> Result<Self, RunDirError> {
        let p = path.join(RUN_JSON);
        let text = std::fs::read_to_string(&p).map_err(|e| RunDirError::Invalid {
            path: path.to_owned(),
            detail: format!("not a citytwin run directory (cannot read {RUN_JSON}: {e})"),
        })?;
        let meta: RunMeta = serde_json::from_str(&text).map_err(|e| RunDirError::Invalid {
            path: p.clone(),
            detail: format!("not a citytwin run description ({e})"),
        })?;
        Ok(RunDir {
            path: path.to_owned(),
            meta,
        })
    }

    /// The KPIs.
    ///
    /// # Errors
    /// [`RunDirError`] when `kpi.json` is missing or malformed.
    pub fn kpis(&self) -> Result<Vec<(String, f64)>, RunDirError> {
        let p = self.path.join("kpi.json");
        let text = std::fs::read_to_string(&p).map_err(|source| RunDirError::Io {
            path: p.clone(),
            source,
        })?;
        super::kpi::ordered_numbers(&text).map_err(|e| RunDirError::Invalid {
            path: p.clone(),
            detail: e.to_string(),
        })
    }

    /// The alerts (`alerts.csv`), empty when the run has none.
    ///
    /// # Errors
    /// [`RunDirError`] when the file is malformed.
    pub fn alerts(&self) -> Result<Vec<super::utilities::run::Alert>, RunDirError> {
        let p = self.path.join("alerts.csv");
        if !p.exists() {
            return Ok(Vec::new());
        }
        let bad = |e: csv::Error| RunDirError::Invalid {
            path: p.clone(),
            detail: e.to_string(),
        };
        let mut r = csv::Reader::from_path(&p).map_err(bad)?;
        r.deserialize::<AlertRow>()
            .map(|row| {
                let a = row.map_err(bad)?;
                Ok(super::utilities::run::Alert {
                    start: crate::time::SimTime(a.start_s),
                    end: a.end_s.map(crate::time::SimTime),
                    layer: a.layer,
                    kind: a.kind,
                    element: a.element,
                    feature: a.feature_id,
                    value: a.value,
                    threshold: a.threshold,
                    buildings: a.buildings,
                    persons: a.persons,
                    message: a.message,
                })
            })
            .collect()
    }

    /// A series table of the run (`links`, `buildings`, `cells`), `None` when the run has none; refused when it
    /// belongs to another scene than `expected_fingerprint`.
    ///
    /// # Errors
    /// [`RunDirError`] for an unreadable file or a fingerprint mismatch.
    pub fn series(
        &self,
        name: &str,
        expected_fingerprint: Option<&str>,
    ) -> Result<Option<SeriesTable>, RunDirError> {
        let p = self.path.join(format!("{name}.parquet"));
        if !p.exists() {
            return Ok(None);
        }
        let (t, fp) = pq::read_series(&p)?;
        if let Some(want) = expected_fingerprint {
            if fp != want {
                return Err(RunDirError::Invalid {
                    path: p,
                    detail: format!(
                        "this run belongs to another scene (fingerprint {fp}, the scene has {want})"
                    ),
                });
            }
        }
        Ok(Some(t))
    }
}

//! `citytwin simulate`: one run of a scenario (or of SUMO/CSV trips) into a run directory, written whole or
//! not at all.

use super::load;
use crate::cli::SimulateArgs;
use anyhow::{bail, Context, Result};
use citytwin_engine::sim::scenario::{Scenario, ScenarioSource};
use citytwin_engine::sim::{self, Demand, Progress, RunRequest};
use citytwin_engine::time::{Seconds, SimTime};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The progress bar and Ctrl-C flag, as the simulation sees them.
struct CliProgress {
    pb: ProgressBar,
    cancel: Arc<AtomicBool>,
    start: u32,
}

impl Progress for CliProgress {
    fn stage(&self, name: &str, total: u64) {
        self.pb.set_message(name.to_owned());
        self.pb.set_length(total);
        self.pb.set_position(0);
    }
    fn set(&self, done: u64) {
        self.pb.set_position(done);
        let clock = SimTime(self.start + done as u32);
        self.pb.set_message(format!("traffic {clock}"));
    }
    fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
}

fn parse_end(s: &str, start: SimTime) -> Result<SimTime> {
    if s.contains(':') {
        return Ok(s.parse::<SimTime>()?);
    }
    let span: Seconds = s.parse()?;
    Ok(start + span)
}

/// Refuses to replace anything but an earlier run directory.
fn check_out(out: &Path, force: bool) -> Result<()> {
    if !out.exists() {
        return Ok(());
    }
    if !force {
        bail!(
            "{}: exists already; use --force to replace that run",
            out.display()
        );
    }
    if !out.join(sim::output::RUN_JSON).is_file() {
        bail!(
            "{}: exists and is not a citytwin run directory; not replacing it",
            out.display()
        );
    }
    Ok(())
}

pub fn run(a: SimulateArgs) -> Result<()> {
    let scene = load(&a.scene)?;
    let (mut scenario, source) = match &a.scenario {
        Some(p) => Scenario::from_file(p)?,
        None => (
            Scenario::default_day(),
            ScenarioSource {
                path: "(default scenario)".into(),
                text: String::new(),
            },
        ),
    };
    if let Some(e) = &a.end {
        let start = *scenario.start.get_ref();
        let end = parse_end(e, start).with_context(|| format!("--end {e}"))?;
        if end <= start {
            bail!("--end {e}: the end ({end}) must come after the start ({start})");
        }
        scenario.set_end(end);
    }
    let seed = a.seed.or(scenario.seed).unwrap_or(42);
    scenario.seed = Some(seed);
    check_out(&a.out, a.force)?;
    let demand = match &a.trips {
        Some(t) => {
            let layer = sim::traffic::road_layer(
                &scene,
                scenario
                    .traffic
                    .layer
                    .as_ref()
                    .map(|l| l.get_ref().as_str()),
            )
            .with_context(|| a.scene.display().to_string())?;
            let trips = citytwin_importers::sumo::read_trips(t, layer)?;
            if trips.is_empty() {
                bail!("{}: no trips", t.display());
            }
            Demand::Trips {
                source: t.file_name().map_or_else(
                    || t.display().to_string(),
                    |f| f.to_string_lossy().into_owned(),
                ),
                layer: layer.name.clone(),
                trips,
            }
        }
        None => Demand::Population,
    };
    let req = RunRequest {
        scene: &scene,
        scenario,
        source,
        seed,
        demand,
    };
    let cancel = Arc::new(AtomicBool::new(false));
    {
        let c = cancel.clone();
        // A second Ctrl-C while stopping is left to the default handler's successor: the process ends.
        let _ = ctrlc::set_handler(move || {
            if c.swap(true, Ordering::Relaxed) {
                std::process::exit(130);
            }
        });
    }
    let pb = ProgressBar::new(0);
    pb.set_style(
        ProgressStyle::with_template("{prefix:.bold} {msg} [{bar:30}] {percent}% {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    pb.set_prefix("simulate");
    let progress = CliProgress {
        pb,
        cancel: cancel.clone(),
        start: req.scenario.start.get_ref().0,
    };
    let pool = {
        let mut b = rayon::ThreadPoolBuilder::new();
        if let Some(n) = a.threads {
            b = b.num_threads(usize::from(n));
        }
        b.build().context("starting the worker threads")?
    };
    let result = pool.install(|| sim::run(&req, &progress));
    progress.pb.finish_and_clear();
    let out = match result {
        Err(sim::SimError::Cancelled) => {
            eprintln!("simulation stopped; {} was not written", a.out.display());
            std::process::exit(130);
        }
        r => r.with_context(|| a.scene.display().to_string())?,
    };
    let scene_name = a
        .scene
        .file_name()
        .map_or_else(String::new, |f| f.to_string_lossy().into_owned());
    super::results_dir::write(
        &a.out,
        a.force,
        "simulation results (a run directory)",
        |n| {
            [".parquet", ".json", ".csv", ".toml"]
                .iter()
                .any(|x| n.ends_with(x))
        },
        |dir| Ok(sim::output::write(dir, &out, &scene_name)?),
    )?;
    let k = &out.kpis;
    println!(
        "wrote {} ({}, seed {seed}, {} threads, {:.1} s)",
        a.out.display(),
        out.demand,
        out.stats.threads,
        out.stats.total_s
    );
    if k.persons > 0 {
        println!(
            "  persons {}  trips {} (car {}, walk {}, other {})",
            k.persons, k.trips, k.trips_car, k.trips_walk, k.trips_other
        );
    }
    println!(
        "  car trips: {} departed, {} arrived, {} still driving at the end, {} without a route",
        k.car_trips_departed, k.car_trips_arrived, k.car_trips_unfinished, k.trips_unroutable
    );
    println!(
        "  mean car trip {:.1} s over {:.0} m (free flow {:.1} s); {:.0} vehicle-km, {:.1} vehicle-hours, {:.2} h delay; {} vehicles moved on out of gridlock",
        k.mean_car_trip_s,
        k.mean_car_trip_m,
        k.mean_car_free_flow_s,
        k.vehicle_km,
        k.vehicle_hours,
        k.delay_hours,
        k.moved_on_vehicles
    );
    if let Some(u) = &out.utilities {
        let w = &u.kpis;
        if w.water_buildings > 0 {
            println!(
                "  water: {} buildings served; {} without water and {} with low pressure at some time (peak {} persons, {:.0} person-hours without); lowest pressure {:.1} m; {:.0} m³ lost through bursts",
                w.water_buildings,
                w.water_buildings_without,
                w.water_buildings_low_pressure,
                w.water_persons_without_peak,
                w.water_person_hours_without,
                w.water_min_building_pressure_m,
                w.water_burst_loss_m3
            );
        }
        if w.power_buildings > 0 {
            println!(
                "  power: {} buildings served; {} without power at some time (peak {} persons, {:.0} person-hours without), {} with voltage out of band; lowest voltage {:.3} pu; highest loading {:.0} %, {} overloaded lines or transformers",
                w.power_buildings,
                w.power_buildings_without,
                w.power_persons_without_peak,
                w.power_person_hours_without,
                w.power_buildings_voltage_band,
                w.power_min_voltage_pu,
                w.power_max_loading_percent,
                w.power_overloaded_elements
            );
        }
        println!(
            "  utilities: {} solved ({} solutions); {} alerts in alerts.csv",
            u.layers.join(", "),
            u.solutions,
            u.alerts.len()
        );
    }
    Ok(())
}

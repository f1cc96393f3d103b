//! The simulation core: a synthetic population's day and its car traffic on the scene's road graph.
//!
//! Entry point: [`run`], which takes a scene and a [`scenario::Scenario`] (or a list of external trips, e.g. from
//! SUMO) and returns a [`RunOutput`]: time series per building, per directed link and per grid cell (the
//! engine's [`crate::timeseries`] tables), per-trip records, step totals and KPIs. [`output`] writes a run
//! directory; [`compare`] sets two runs side by side.
//!
//! The pipeline: [`edits`] (what-ifs) → [`population`] (places, residents, plans) → [`traffic`] (routes by
//! contraction hierarchies; the queue model moves cars and executes everyone's plans) → [`occupancy`] (people per
//! building and cell at every step) → [`kpi`].
//!
//! # Determinism
//! One explicit seed; every random draw comes from a stream derived from (seed, entity) ([`rng`]); parallel work
//! is split by entity and merged in a fixed order; no wall clock, `thread_rng` or hash-map order reaches the
//! state. The same seed gives the same bytes with any `--threads` (tested).
//!
//! # Glossary
//! - **run**: one simulation of one scenario on one scene; **step**: the output interval (`scenario.step`).
//! - **traveller**: a person of the population, or one external trip (SUMO), executing trips in order.
//! - **trip**: one leg between two activities; car trips move on the network, walk and other trips off it.
//! - **KPI**: a key performance indicator of the whole run (mean trip time, vehicle-km, delay...).

pub mod compare;
pub mod edits;
pub mod kpi;
pub mod occupancy;
pub mod output;
pub mod population;
mod rng;
pub mod scenario;
pub mod traffic;
pub mod utilities;

use crate::ids::{FeatureId, LinkId};
use crate::timeseries::SeriesTable;
use crate::Scene;
use population::{EndRule, Mode, Population};
use rand::SeedableRng;
use rand_distr::{Distribution, Normal};
use rayon::prelude::*;
use scenario::{Scenario, ScenarioError, ScenarioSource};
use std::time::Instant;
use traffic::queue::{self, Agenda, QueueParams, TrafficResult, NEVER};
use traffic::routing::Router;
use traffic::{RoadNet, NO_LINK};

/// An external trip (a SUMO `<trip>` or `<vehicle>`, a CSV row): from one link to another, optionally along a
/// given route.
#[derive(Clone, Debug, PartialEq)]
pub struct TripSpec {
    /// The source's id.
    pub id: String,
    /// Departure, s since midnight of day 0.
    pub depart_s: f64,
    /// First link (traversed whole).
    pub from: LinkId,
    /// Last link (traversed whole).
    pub to: LinkId,
    /// The links in order, when the source routed the trip.
    pub route: Option<Vec<LinkId>>,
}

/// Where the demand comes from.
#[derive(Clone, Debug)]
pub enum Demand {
    /// The synthetic population of the scenario.
    Population,
    /// External trips from a file (`source` names it for the run metadata).
    Trips {
        /// The file, as given.
        source: String,
        /// The road layer the trips' links belong to.
        layer: String,
        /// The trips.
        trips: Vec<TripSpec>,
    },
}

/// Everything a run needs.
#[derive(Clone, Debug)]
pub struct RunRequest<'a> {
    /// The scene.
    pub scene: &'a Scene,
    /// The scenario, defaults resolved.
    pub scenario: Scenario,
    /// Its text, for error lines.
    pub source: ScenarioSource,
    /// The seed.
    pub seed: u64,
    /// The demand.
    pub demand: Demand,
}

/// Progress reporting and cancellation (the CLI's progress bar and Ctrl-C).
pub trait Progress {
    /// A new stage of `total` units begins.
    fn stage(&self, _name: &str, _total: u64) {}
    /// `done` units of the current stage are done.
    fn set(&self, _done: u64) {}
    /// Whether the user asked to stop.
    fn cancelled(&self) -> bool {
        false
    }
}

/// No progress reporting.
#[derive(Debug, Default)]
pub struct Quiet;
impl Progress for Quiet {}

/// Why a run failed.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The scenario does not fit the scene (unknown layer, road, building).
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// No usable road network.
    #[error(transparent)]
    Roads(#[from] traffic::RoadNetError),
    /// The population cannot be built.
    #[error(transparent)]
    Population(#[from] population::PopulationError),
    /// An external trip is unusable.
    #[error("trip `{id}`: {message}")]
    Trip {
        /// The trip's id.
        id: String,
        /// What is wrong.
        message: String,
    },
    /// A utility network could not be solved.
    #[error("utility layer `{layer}`: {message}")]
    Utility {
        /// The layer.
        layer: String,
        /// What failed, with the time.
        message: String,
    },
    /// The user stopped the run.
    #[error("stopped by the user; nothing was written")]
    Cancelled,
}

/// Per-trip results, in trip order.
#[derive(Clone, Debug, Default)]
pub struct TripRecords {
    /// External id (SUMO, CSV), when the demand had one.
    pub external_id: Vec<String>,
    /// Traveller (person index for the population, trip index for external trips).
    pub traveller: Vec<u32>,
    /// Mode.
    pub mode: Vec<Mode>,
    /// Whether no car route existed (the trip was then travelled off the network).
    pub unroutable: Vec<bool>,
    /// Origin and destination buildings (population trips).
    pub origin: Vec<Option<FeatureId>>,
    /// See `origin`.
    pub destination: Vec<Option<FeatureId>>,
    /// Left the activity, ms ([`NEVER`]: not during the run).
    pub request_ms: Vec<u64>,
    /// Started moving (entered the network), ms.
    pub depart_ms: Vec<u64>,
    /// Arrived, ms ([`NEVER`]: not by the end).
    pub arrive_ms: Vec<u64>,
    /// Route length (car) or distance travelled off the network, m.
    pub length_m: Vec<f64>,
    /// Free-flow duration of the route, ms (off-network trips: their duration).
    pub free_flow_ms: Vec<u64>,
    /// Times moved on out of gridlock.
    pub moved_on: Vec<u16>,
    /// Route as network link ids (car trips).
    pub route_off: Vec<u32>,
    /// See `route_off`.
    pub route: Vec<u32>,
}

/// Static facts of each link of the link table.
#[derive(Clone, Debug, Default)]
pub struct LinkInfo {
    /// Link ids ([`LinkId`]), ascending; the ids of the link series.
    pub link: Vec<u32>,
    /// Feature of the edge.
    pub feature: Vec<FeatureId>,
    /// Length, m.
    pub length_m: Vec<f64>,
    /// Lanes.
    pub lanes: Vec<u8>,
    /// Speed limit, km/h.
    pub speed_kmh: Vec<f32>,
    /// Flow capacity, veh/h.
    pub capacity_veh_h: Vec<f32>,
    /// Closed by the scenario.
    pub closed: Vec<bool>,
    /// SUMO edge id, when the road came from SUMO.
    pub sumo_id: Vec<Option<String>>,
}

/// Totals at each step instant, and per interval.
#[derive(Clone, Debug, Default)]
pub struct Totals {
    /// Step instants, s.
    pub time_s: Vec<u32>,
    /// Persons in buildings.
    pub in_buildings: Vec<u64>,
    /// Persons travelling.
    pub on_move: Vec<u64>,
    /// Vehicles on the network (driving or waiting to enter).
    pub vehicles_on_network: Vec<u32>,
    /// Vehicle-km driven in the interval from this instant to the next (last: 0).
    pub vehicle_km: Vec<f64>,
    /// Mean speed of the vehicles on the network in that interval, km/h (NaN without traffic).
    pub mean_speed_kmh: Vec<f64>,
    /// Car trips that arrived in that interval.
    pub car_arrivals: Vec<u32>,
}

/// Wall-clock facts of a run (written only to `run-info.json`).
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct RunStats {
    /// Threads used.
    pub threads: usize,
    /// Seconds per stage.
    pub stage_s: Vec<(String, f64)>,
    /// Seconds in all.
    pub total_s: f64,
    /// Ticks simulated.
    pub ticks: u64,
    /// Vehicle-seconds simulated on the network (one vehicle for one tick is one agent-step).
    pub vehicle_steps: u64,
    /// Vehicle-link moves.
    pub link_moves: u64,
    /// Most links holding vehicles in one tick (the link phase runs in parallel from
    /// [`queue::PARALLEL_LINKS`]).
    pub peak_active_links: u32,
    /// Agent-steps per second of the traffic stage.
    pub agent_steps_per_s: f64,
    /// Persons simulated.
    pub persons: u64,
}

/// Everything a run produced.
#[derive(Clone, Debug)]
pub struct RunOutput {
    /// The scene's fingerprint.
    pub fingerprint: String,
    /// The scene's origin (cell coordinates are written in the scene CRS).
    pub scene_origin: [f64; 2],
    /// The seed.
    pub seed: u64,
    /// The resolved scenario.
    pub scenario: Scenario,
    /// `population` or `trips: <file>`.
    pub demand: String,
    /// The road layer.
    pub road_layer: String,
    /// KPIs.
    pub kpis: kpi::Kpis,
    /// Link series: volume, flow, speed, density, volume/capacity per interval.
    pub links: SeriesTable,
    /// Link facts.
    pub link_info: LinkInfo,
    /// Building occupancy at each step (population runs).
    pub buildings: Option<SeriesTable>,
    /// The population's places (population runs).
    pub places: Option<population::Places>,
    /// Persons per grid cell, cells under k suppressed (population runs).
    pub cells: Option<SeriesTable>,
    /// Step totals.
    pub totals: Totals,
    /// Trips.
    pub trips: TripRecords,
    /// Persons and their homes and types, when the scenario asks for per-person records.
    pub persons: Option<population::Plans>,
    /// Water and power networks: per-feature series, alerts (when the scene has utility layers).
    pub utilities: Option<utilities::run::UtilityOutput>,
    /// Timing.
    pub stats: RunStats,
}

/// The car links nearest to each place: up to two (both directions of the nearest car road of the network's
/// main strongly connected part), [`NO_LINK`] where none.
fn place_links(scene_roads: &crate::Layer, net: &RoadNet, centroids: &[[f64; 2]]) -> Vec<[u32; 2]> {
    let Some(network) = &scene_roads.network else {
        return vec![[NO_LINK; 2]; centroids.len()];
    };
    let edge_of: std::collections::HashMap<FeatureId, crate::EdgeId> =
        network.edges.iter().map(|e| (e.feature, e.id)).collect();
    centroids
        .par_iter()
        .map(|c| {
            for k in [8usize, 64, 512] {
                let hits = crate::spatial::nearest(scene_roads, *c, k);
                for h in &hits {
                    let Some(&e) = edge_of.get(&h.feature.id) else {
                        continue;
                    };
                    let main = |l: LinkId| {
                        net.sim_link(l)
                            .filter(|&i| net.in_main_part[i as usize])
                            .unwrap_or(NO_LINK)
                    };
                    let (f, b) = (main(LinkId::new(e, false)), main(LinkId::new(e, true)));
                    if f != NO_LINK || b != NO_LINK {
                        return [f, b];
                    }
                }
                if hits.len() < k {
                    break;
                }
            }
            [NO_LINK; 2]
        })
        .collect()
}

/// Average door-to-door speed of car trips that found no route (driven off the modelled network), m/s.
const OFFNET_CAR_SPEED: f64 = 30.0 / 3.6;

fn speed_factors(seed: u64, n: usize, sd: f64) -> Vec<f32> {
    if sd <= 0.0 {
        return vec![1.0; n];
    }
    (0..n)
        .into_par_iter()
        .map(|k| {
            let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(rng::derive(
                seed,
                rng::Stream::Vehicle,
                k as u64,
            ));
            Normal::new(1.0, sd)
                .map(|d| d.sample(&mut r))
                .unwrap_or(1.0)
                .clamp(0.2, 2.0) as f32
        })
        .collect()
}

/// Builds the agenda of the population: one trip per leg, car legs routed.
fn population_agenda(
    pop: &Population,
    scenario: &Scenario,
    roads: &crate::Layer,
    net: &RoadNet,
    router: &Router,
    seed: u64,
) -> (Agenda, TripRecords) {
    let plans = &pop.plans;
    let places = &pop.places;
    let plinks = place_links(roads, net, &places.centroid);
    let modes = &scenario.modes;
    // Legs in order.
    let mut legs: Vec<(u32, u32, u32, Mode, EndRule)> = Vec::new(); // person, from place, to place, mode, rule
    let mut trip_off = vec![0u32];
    let mut first_depart = Vec::with_capacity(plans.persons());
    for p in 0..plans.persons() {
        let acts = plans.of(p);
        for w in acts.windows(2) {
            legs.push((p as u32, w[0].place, w[1].place, w[0].mode, w[1].end));
        }
        trip_off.push(legs.len() as u32);
        first_depart.push(match acts.first().map(|a| a.end) {
            Some(EndRule::At(t)) => u64::from(t) * 1000,
            Some(EndRule::After(d)) => u64::from(scenario.start.get_ref().0 + d) * 1000,
            _ => NEVER,
        });
    }
    // Unique car origin-destination link pairs, routed in parallel.
    let key = |from: u32, to: u32| (plinks[from as usize], plinks[to as usize]);
    let mut pairs: Vec<([u32; 2], [u32; 2])> = legs
        .iter()
        .filter(|l| l.3 == Mode::Car)
        .map(|l| key(l.1, l.2))
        .collect();
    pairs.par_sort_unstable();
    pairs.dedup();
    let routes: Vec<Option<traffic::routing::Route>> = pairs
        .par_iter()
        .map_init(
            || router.calculator(),
            |calc, (a, b)| {
                let from: Vec<(u32, u64)> = a
                    .iter()
                    .filter(|&&l| l != NO_LINK)
                    .map(|&l| (l, net.free_flow_ms[l as usize]))
                    .collect();
                let to: Vec<u32> = b.iter().copied().filter(|&l| l != NO_LINK).collect();
                router.route(calc, net, &from, &to)
            },
        )
        .collect();
    let speed = |m: Mode| match m {
        Mode::Walk => modes.walk_kmh / 3.6,
        Mode::Other => modes.other_kmh / 3.6,
        Mode::Car => OFFNET_CAR_SPEED,
    };
    let n = legs.len();
    let mut a = Agenda {
        trip_off,
        first_depart_ms: first_depart,
        mode: Vec::with_capacity(n),
        route_off: Vec::with_capacity(n + 1),
        routes: Vec::new(),
        offnet_ms: Vec::with_capacity(n),
        after_arrival: Vec::with_capacity(n),
        speed_factor: speed_factors(seed, n, scenario.traffic.speed_factor_sd),
    };
    let mut t = TripRecords::default();
    a.route_off.push(0);
    t.route_off.push(0);
    for &(person, from, to, mode, rule) in &legs {
        let route = (mode == Mode::Car)
            .then(|| {
                let k = key(from, to);
                pairs
                    .binary_search(&k)
                    .ok()
                    .and_then(|i| routes[i].as_ref())
            })
            .flatten();
        let beeline = places.distance(from, to) * modes.detour_factor;
        match route {
            Some(r) => {
                let (len, ff) = net.route_stats(&r.links).unwrap_or((0.0, r.cost_ms));
                a.routes.extend(&r.links);
                t.route
                    .extend(r.links.iter().map(|&l| net.link[l as usize].0));
                t.length_m.push(len);
                t.free_flow_ms.push(ff);
                a.offnet_ms.push(0);
            }
            None => {
                let ms = (beeline / speed(mode) * 1000.0).round() as u64;
                a.offnet_ms.push(ms.max(1000));
                t.length_m.push(beeline);
                t.free_flow_ms.push(ms.max(1000));
            }
        }
        a.route_off.push(a.routes.len() as u32);
        t.route_off.push(t.route.len() as u32);
        a.mode.push(mode);
        a.after_arrival.push(rule);
        t.external_id.push(String::new());
        t.traveller.push(person);
        t.mode.push(mode);
        t.unroutable.push(mode == Mode::Car && route.is_none());
        t.origin.push(Some(places.feature[from as usize]));
        t.destination.push(Some(places.feature[to as usize]));
    }
    (a, t)
}

/// Builds the agenda of external trips: each its own traveller, routed unless it brings a route.
fn external_agenda(
    trips: &[TripSpec],
    scenario: &Scenario,
    net: &RoadNet,
    router: &Router,
    seed: u64,
) -> Result<(Agenda, TripRecords), SimError> {
    let routes: Vec<Option<Vec<u32>>> = trips
        .par_iter()
        .map_init(
            || router.calculator(),
            |calc, tr| -> Result<Option<Vec<u32>>, SimError> {
                let sim = |l: LinkId| net.sim_link(l);
                if let Some(given) = &tr.route {
                    let links: Option<Vec<u32>> = given.iter().map(|&l| sim(l)).collect();
                    // A given route that uses a closed link is routed again between its ends.
                    if let Some(links) = links {
                        for w in links.windows(2) {
                            if net.turn(w[0], w[1]).is_none() {
                                return Err(SimError::Trip {
                                    id: tr.id.clone(),
                                    message: format!(
                                        "its route turns from {} to {}, which the network does not allow",
                                        net.link[w[0] as usize], net.link[w[1] as usize]
                                    ),
                                });
                            }
                        }
                        if !links.is_empty() {
                            return Ok(Some(links));
                        }
                    }
                }
                let (Some(a), Some(b)) = (sim(tr.from), sim(tr.to)) else {
                    return Ok(None);
                };
                Ok(router
                    .route(calc, net, &[(a, net.free_flow_ms[a as usize])], &[b])
                    .map(|r| r.links))
            },
        )
        .collect::<Result<_, _>>()?;
    let n = trips.len();
    let mut a = Agenda {
        trip_off: (0..=n as u32).collect(),
        first_depart_ms: Vec::with_capacity(n),
        mode: vec![Mode::Car; n],
        route_off: vec![0],
        routes: Vec::new(),
        offnet_ms: vec![0; n],
        after_arrival: vec![EndRule::Never; n],
        speed_factor: speed_factors(seed, n, scenario.traffic.speed_factor_sd),
    };
    let mut t = TripRecords {
        route_off: vec![0],
        ..TripRecords::default()
    };
    for (k, (tr, r)) in trips.iter().zip(&routes).enumerate() {
        match r {
            Some(links) => {
                let (len, ff) = net.route_stats(links).unwrap_or_default();
                a.first_depart_ms
                    .push((tr.depart_s * 1000.0).round() as u64);
                a.routes.extend(links);
                t.route
                    .extend(links.iter().map(|&l| net.link[l as usize].0));
                t.length_m.push(len);
                t.free_flow_ms.push(ff);
            }
            None => {
                // No route (closed or unknown links): the trip is not made.
                a.first_depart_ms.push(NEVER);
                t.length_m.push(0.0);
                t.free_flow_ms.push(0);
            }
        }
        a.route_off.push(a.routes.len() as u32);
        t.route_off.push(t.route.len() as u32);
        t.external_id.push(tr.id.clone());
        t.traveller.push(k as u32);
        t.mode.push(Mode::Car);
        t.unroutable.push(r.is_none());
        t.origin.push(None);
        t.destination.push(None);
    }
    Ok((a, t))
}

/// Runs a simulation.
///
/// # Errors
/// [`SimError`]: a scenario that does not fit the scene (with its line), no road network, no buildings for a
/// population, an unusable external trip, or cancellation.
pub fn run(req: &RunRequest<'_>, progress: &dyn Progress) -> Result<RunOutput, SimError> {
    let t0 = Instant::now();
    let mut stages: Vec<(String, f64)> = Vec::new();
    let mut lap = {
        let mut last = Instant::now();
        move |name: &str, stages: &mut Vec<(String, f64)>| {
            stages.push((name.to_owned(), last.elapsed().as_secs_f64()));
            last = Instant::now();
        }
    };
    let sc = &req.scenario;
    let scene = req.scene;
    let layer_name = match &req.demand {
        Demand::Trips { layer, .. } => Some(layer.as_str()),
        Demand::Population => sc.traffic.layer.as_ref().map(|l| l.get_ref().as_str()),
    };
    let roads = traffic::road_layer(scene, layer_name).map_err(|e| match &sc.traffic.layer {
        Some(l) => SimError::Scenario(req.source.error(l.span(), "traffic.layer", e.to_string())),
        None => SimError::Roads(e),
    })?;
    let edits = edits::resolve(scene, sc, &req.source, Some(roads))?;
    progress.stage("preparing", 0);
    let fingerprint = crate::store::fingerprint(scene);
    let net = RoadNet::build(roads, &sc.traffic, &edits.closed_edges);
    let router = Router::new(&net);
    lap("network and router", &mut stages);

    let (pop, agenda, trips) = match &req.demand {
        Demand::Population => {
            progress.stage("population", 0);
            let pop = population::synthesize(
                scene,
                sc,
                req.seed,
                &edits.removed_buildings,
                &edits.added,
            )?;
            lap("population", &mut stages);
            progress.stage("routing", 0);
            let (a, t) = population_agenda(&pop, sc, roads, &net, &router, req.seed);
            lap("routing", &mut stages);
            (Some(pop), a, t)
        }
        Demand::Trips { trips, .. } => {
            progress.stage("routing", 0);
            let (a, t) = external_agenda(trips, sc, &net, &router, req.seed)?;
            lap("routing", &mut stages);
            (None, a, t)
        }
    };

    let (start, end) = (sc.start.get_ref().0, sc.end.get_ref().0);
    progress.stage("traffic", u64::from(end - start));
    let params = QueueParams {
        start_s: start,
        end_s: end,
        step_s: sc.step.get_ref().0,
        stuck_ms: u64::from(sc.traffic.stuck_time.0) * 1000,
        seed: req.seed,
        parallel_links: queue::PARALLEL_LINKS,
        parallel_nodes: queue::PARALLEL_NODES,
    };
    let mut cancelled = false;
    let traffic_t = Instant::now();
    let result: TrafficResult = queue::simulate(&net, &agenda, &params, |tick| {
        if tick % 60 == 0 {
            progress.set(u64::from(tick - start));
            if progress.cancelled() {
                cancelled = true;
                return false;
            }
        }
        true
    });
    if cancelled || progress.cancelled() {
        return Err(SimError::Cancelled);
    }
    let traffic_s = traffic_t.elapsed().as_secs_f64();
    lap("traffic", &mut stages);

    progress.stage("results", 0);
    let mut trips = trips;
    trips.request_ms = result.request_ms.clone();
    trips.depart_ms = result.depart_ms.clone();
    trips.arrive_ms = result.arrive_ms.clone();
    trips.moved_on = result.moved_on.clone();
    let (links, link_info) =
        occupancy::link_series(roads, &net, &edits.closed_edges, &result, &sc.traffic, end);
    let step_times = sc.step_times();
    let (buildings, cells, totals) = match &pop {
        Some(p) => {
            let occ = occupancy::occupancy(p, &agenda, &result, &step_times, end);
            let cells = occupancy::cells(
                &p.places,
                &occ.table,
                sc.output.cell_size_m,
                sc.output.k_anonymity,
            );
            let totals = occupancy::totals(&step_times, Some(&occ), &result, &net, &trips);
            (Some(occ.table), Some(cells), totals)
        }
        None => (
            None,
            None,
            occupancy::totals(&step_times, None, &result, &net, &trips),
        ),
    };
    let mut kpis = kpi::compute(pop.as_ref(), &trips, &totals, &result, &net);
    lap("results", &mut stages);
    progress.stage("utilities", 0);
    let utility = utilities::run::simulate(&utilities::run::Input {
        scene,
        cfg: &sc.utilities,
        source: &req.source,
        steps: &step_times,
        population: pop
            .as_ref()
            .zip(buildings.as_ref())
            .map(|(p, b)| (&p.places, b)),
    })?;
    if let Some(u) = &utility {
        kpis.utilities = u.kpis.clone();
        lap("utilities", &mut stages);
    }
    let vehicle_steps: u64 = result.veh_s.iter().sum();
    let stats = RunStats {
        threads: rayon::current_num_threads(),
        stage_s: stages,
        total_s: t0.elapsed().as_secs_f64(),
        ticks: result.ticks,
        vehicle_steps,
        link_moves: result.link_moves,
        peak_active_links: result.peak_active_links,
        agent_steps_per_s: vehicle_steps as f64 / traffic_s.max(1e-9),
        persons: pop.as_ref().map_or(0, |p| p.plans.persons() as u64),
    };
    let (places, persons) = match pop {
        Some(p) => (Some(p.places), sc.output.persons.then_some(p.plans)),
        None => (None, None),
    };
    Ok(RunOutput {
        fingerprint,
        scene_origin: scene.frame.origin,
        seed: req.seed,
        scenario: sc.clone(),
        demand: match &req.demand {
            Demand::Population => "population".into(),
            Demand::Trips { source, .. } => format!("trips: {source}"),
        },
        road_layer: roads.name.clone(),
        kpis,
        links,
        link_info,
        buildings,
        places,
        cells,
        totals,
        trips,
        persons,
        utilities: utility,
        stats,
    })
}

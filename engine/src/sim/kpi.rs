//! Key performance indicators of a run: one number each, the same set for every run so runs compare.

use super::population::{Mode, Population};
use super::traffic::queue::{TrafficResult, NEVER};
use super::traffic::RoadNet;
use super::{Totals, TripRecords};
use serde::{Deserialize, Serialize};

/// The KPIs of a run. Durations in seconds, lengths in metres unless the name says otherwise.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Kpis {
    /// Persons simulated (0 for external trips).
    pub persons: u64,
    /// Persons who made at least one trip.
    pub persons_travelling: u64,
    /// Trips planned.
    pub trips: u64,
    /// Trips by car.
    pub trips_car: u64,
    /// Trips on foot.
    pub trips_walk: u64,
    /// Trips by bicycle or transit.
    pub trips_other: u64,
    /// Car trips without a route on the network (closed or disconnected roads).
    pub trips_unroutable: u64,
    /// Car trips that entered the network.
    pub car_trips_departed: u64,
    /// Car trips that arrived.
    pub car_trips_arrived: u64,
    /// Car trips still on the network at the end.
    pub car_trips_unfinished: u64,
    /// Mean duration of arrived car trips, from entering the network to arrival.
    pub mean_car_trip_s: f64,
    /// Mean route length of arrived car trips.
    pub mean_car_trip_m: f64,
    /// Mean free-flow duration of the same trips.
    pub mean_car_free_flow_s: f64,
    /// Mean wait to enter the network.
    pub mean_depart_delay_s: f64,
    /// Vehicle-kilometres driven.
    pub vehicle_km: f64,
    /// Vehicle-hours on the network.
    pub vehicle_hours: f64,
    /// Hours arrived car trips took beyond free flow.
    pub delay_hours: f64,
    /// Mean speed on the network, km/h (vehicle-km ÷ vehicle-hours).
    pub mean_speed_kmh: f64,
    /// Vehicles moved on out of gridlock (at least once).
    pub moved_on_vehicles: u64,
    /// Times vehicles were moved on.
    pub moved_on_events: u64,
    /// Most vehicles on the network at a step.
    pub peak_vehicles_on_network: u64,
    /// When, s since midnight.
    pub peak_vehicles_time_s: u64,
    /// Most persons travelling at a step.
    pub peak_persons_on_move: u64,
    /// Person-hours spent travelling (all modes, trips that arrived).
    pub person_hours_travelling: f64,
    /// Residents of districts with no home to place them in.
    pub unplaced_residents: u64,
    /// Activities dropped for want of a building offering them.
    pub dropped_activities: u64,
    /// Water and power networks.
    #[serde(flatten)]
    pub utilities: super::utilities::run::UtilityKpis,
}

impl Kpis {
    /// The KPIs as `(name, value)` pairs, in declaration order.
    pub fn pairs(&self) -> Vec<(String, f64)> {
        serde_json::to_string(self)
            .ok()
            .and_then(|s| ordered_numbers(&s).ok())
            .unwrap_or_default()
    }
}

/// The numeric members of a JSON object, in the order they appear.
///
/// # Errors
/// The JSON error when `text` is not an object.
pub fn ordered_numbers(text: &str) -> Result<Vec<(String, f64)>, serde_json::Error> {
    struct Pairs(Vec<(String, f64)>);
    impl<'de> Deserialize<'de> for Pairs {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> serde::de::Visitor<'de> for V {
                type Value = Pairs;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("an object of KPIs")
                }
                fn visit_map<A: serde::de::MapAccess<'de>>(
                    self,
                    mut m: A,
                ) -> Result<Pairs, A::Error> {
                    let mut v = Vec::new();
                    while let Some((k, x)) = m.next_entry::<String, serde_json::Value>()? {
                        if let Some(f) = x.as_f64() {
                            v.push((k, f));
                        }
                    }
                    Ok(Pairs(v))
                }
            }
            d.deserialize_map(V)
        }
    }
    serde_json::from_str::<Pairs>(text).map(|p| p.0)
}

fn mean(sum: f64, n: u64) -> f64 {
    if n == 0 {
        0.0
    } else {
        sum / n as f64
    }
}

/// Computes the KPIs.
pub fn compute(
    pop: Option<&Population>,
    trips: &TripRecords,
    totals: &Totals,
    r: &TrafficResult,
    net: &RoadNet,
) -> Kpis {
    let mut k = Kpis {
        persons: pop.map_or(0, |p| p.plans.persons() as u64),
        trips: trips.mode.len() as u64,
        unplaced_residents: pop.map_or(0, |p| p.unplaced_residents),
        dropped_activities: pop.map_or(0, |p| p.dropped_activities),
        ..Kpis::default()
    };
    let mut travelled = vec![false; k.persons as usize];
    let (mut dur, mut len, mut ff, mut delay_sum, mut person_s) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let mut delay_n = 0u64;
    for i in 0..trips.mode.len() {
        match trips.mode[i] {
            Mode::Car => k.trips_car += 1,
            Mode::Walk => k.trips_walk += 1,
            Mode::Other => k.trips_other += 1,
        }
        let (req, dep, arr) = (trips.request_ms[i], trips.depart_ms[i], trips.arrive_ms[i]);
        if req != NEVER && pop.is_some() {
            if let Some(t) = travelled.get_mut(trips.traveller[i] as usize) {
                *t = true;
            }
        }
        if arr != NEVER && req != NEVER {
            person_s += (arr - req) as f64 / 1000.0;
        }
        if trips.mode[i] != Mode::Car {
            continue;
        }
        if trips.unroutable[i] {
            k.trips_unroutable += 1;
            continue;
        }
        if dep == NEVER {
            continue;
        }
        k.car_trips_departed += 1;
        delay_sum += dep.saturating_sub(req) as f64 / 1000.0;
        delay_n += 1;
        if trips.moved_on[i] > 0 {
            k.moved_on_vehicles += 1;
            k.moved_on_events += u64::from(trips.moved_on[i]);
        }
        if arr == NEVER {
            k.car_trips_unfinished += 1;
            continue;
        }
        k.car_trips_arrived += 1;
        dur += (arr - dep) as f64 / 1000.0;
        len += trips.length_m[i];
        ff += trips.free_flow_ms[i] as f64 / 1000.0;
    }
    k.persons_travelling = travelled.iter().filter(|t| **t).count() as u64;
    k.mean_car_trip_s = mean(dur, k.car_trips_arrived);
    k.mean_car_trip_m = mean(len, k.car_trips_arrived);
    k.mean_car_free_flow_s = mean(ff, k.car_trips_arrived);
    k.mean_depart_delay_s = mean(delay_sum, delay_n);
    k.delay_hours = (dur - ff).max(0.0) / 3600.0;
    k.person_hours_travelling = person_s / 3600.0;
    let nl = net.len();
    let mut metres = 0.0;
    for (i, e) in r.exited.iter().enumerate() {
        metres += f64::from(*e) * net.length_m[i % nl.max(1)];
    }
    k.vehicle_km = metres / 1000.0;
    k.vehicle_hours = r.veh_s.iter().sum::<u64>() as f64 / 3600.0;
    k.mean_speed_kmh = if k.vehicle_hours > 0.0 {
        k.vehicle_km / k.vehicle_hours
    } else {
        0.0
    };
    if let Some((j, v)) = totals
        .vehicles_on_network
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(&a.0)))
    {
        k.peak_vehicles_on_network = u64::from(*v);
        k.peak_vehicles_time_s = u64::from(totals.time_s[j]);
    }
    k.peak_persons_on_move = totals.on_move.iter().copied().max().unwrap_or(0);
    k
}

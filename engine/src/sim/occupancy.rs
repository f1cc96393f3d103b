//! From trip times to time series: people in each building and on the move at every step, persons per grid cell
//! (cells under k persons left out), link statistics per interval, and step totals.
//!
//! A person is at exactly one place or on exactly one trip at every moment: activity and trip intervals are
//! half-open (`[arrival, departure)`) and chain without gaps, so at every step
//! `Σ buildings + on the move = persons` (conservation, checked by the tests).

use super::population::{Mode, Places, Population};
use super::traffic::queue::{Agenda, TrafficResult, NEVER};
use super::traffic::RoadNet;
use super::{LinkInfo, Totals, TripRecords};
use crate::ids::EdgeId;
use crate::time::SimTime;
use crate::timeseries::{cell_id, EntityKind, SeriesTable};
use crate::{Layer, ValueRef};
use std::collections::BTreeSet;

/// Building occupancy and people on the move at each step instant.
#[derive(Clone, Debug)]
pub struct Occupancy {
    /// Buildings × instants, column `occupancy` (persons).
    pub table: SeriesTable,
    /// Persons travelling at each instant.
    pub on_move: Vec<u64>,
    /// Persons in buildings at each instant.
    pub in_buildings: Vec<u64>,
}

/// Occupancy at `steps` from the population's plans and the trips' actual times. `end_s` bounds open intervals.
pub fn occupancy(
    pop: &Population,
    agenda: &Agenda,
    r: &TrafficResult,
    steps: &[SimTime],
    end_s: u32,
) -> Occupancy {
    let b = pop.places.len();
    let s = steps.len();
    let t_ms: Vec<u64> = steps.iter().map(|t| t.millis()).collect();
    let first_at = |ms: u64| t_ms.partition_point(|&t| t < ms);
    let mut diff = vec![0i32; (s + 1) * b];
    let mut move_diff = vec![0i64; s + 1];
    let open = (u64::from(end_s) + 1) * 1000;
    let add = |place: u32, from: u64, to: u64, diff: &mut [i32]| {
        let (j0, j1) = (first_at(from), first_at(to));
        if j0 < j1 {
            diff[j0 * b + place as usize] += 1;
            diff[j1 * b + place as usize] -= 1;
        }
    };
    for p in 0..pop.plans.persons() {
        let acts = pop.plans.of(p);
        let k0 = agenda.trip_off[p] as usize;
        let mut since = 0u64; // when the person arrived at the current activity
        let mut i = 0usize;
        loop {
            let k = k0 + i;
            let leaves = if i + 1 < acts.len() {
                r.request_ms[k]
            } else {
                NEVER
            };
            if leaves == NEVER {
                add(acts[i].place, since, open, &mut diff);
                break;
            }
            add(acts[i].place, since, leaves, &mut diff);
            let arrives = r.arrive_ms[k];
            let (j0, j1) = (
                first_at(leaves),
                first_at(if arrives == NEVER { open } else { arrives }),
            );
            if j0 < j1 {
                move_diff[j0] += 1;
                move_diff[j1] -= 1;
            }
            if arrives == NEVER {
                break;
            }
            since = arrives;
            i += 1;
        }
    }
    let mut values = vec![0f32; s * b];
    let mut running = vec![0i32; b];
    let mut in_buildings = Vec::with_capacity(s);
    for j in 0..s {
        let mut sum = 0i64;
        for (k, run) in running.iter_mut().enumerate() {
            *run += diff[j * b + k];
            values[j * b + k] = *run as f32;
            sum += i64::from(*run);
        }
        in_buildings.push(sum as u64);
    }
    let mut on_move = Vec::with_capacity(s);
    let mut m = 0i64;
    for d in move_diff.iter().take(s) {
        m += d;
        on_move.push(m as u64);
    }
    let mut table = SeriesTable::new(
        EntityKind::Feature,
        steps.to_vec(),
        pop.places.feature.iter().map(|f| f.0).collect(),
    );
    table.push_column("occupancy", "persons", values);
    Occupancy {
        table,
        on_move,
        in_buildings,
    }
}

/// Persons per grid cell of `size_m` at each step; cells with fewer than `k` persons are `NaN` (not written).
pub fn cells(places: &Places, occupancy: &SeriesTable, size_m: f64, k: u32) -> SeriesTable {
    let cell_of: Vec<u64> = places
        .centroid
        .iter()
        .map(|c| {
            cell_id(
                (c[0] / size_m).floor() as i32,
                (c[1] / size_m).floor() as i32,
            )
        })
        .collect();
    let ids: Vec<u64> = cell_of
        .iter()
        .copied()
        .collect::<BTreeSet<u64>>()
        .into_iter()
        .collect();
    let index: Vec<usize> = cell_of
        .iter()
        .map(|c| ids.binary_search(c).unwrap_or(0))
        .collect();
    let (s, n) = (occupancy.times.len(), ids.len());
    let mut v = vec![0f32; s * n];
    if let Some(col) = occupancy.column("occupancy") {
        for j in 0..s {
            let row = occupancy.step_values(col, j);
            for (b, x) in row.iter().enumerate() {
                v[j * n + index[b]] += x;
            }
        }
    }
    for x in &mut v {
        if *x < k as f32 {
            *x = f32::NAN;
        }
    }
    let mut t = SeriesTable::new(EntityKind::Cell { size_m }, occupancy.times.clone(), ids);
    t.push_column("persons", "persons", v);
    t
}

/// Link series over every car link of the road layer (closed links included, with no traffic) and the links'
/// facts.
pub fn link_series(
    roads: &Layer,
    net: &RoadNet,
    closed: &BTreeSet<EdgeId>,
    r: &TrafficResult,
    cfg: &super::scenario::TrafficConfig,
    end_s: u32,
) -> (SeriesTable, LinkInfo) {
    let full = if closed.is_empty() {
        None
    } else {
        Some(RoadNet::build(roads, cfg, &BTreeSet::new()))
    };
    let all = full.as_ref().unwrap_or(net);
    let ids: Vec<u64> = all.link.iter().map(|l| u64::from(l.0)).collect();
    let n = ids.len();
    let iv = r.interval_start_s.len();
    let mut volume = vec![0f32; iv * n];
    let mut flow = vec![0f32; iv * n];
    let mut speed = vec![f32::NAN; iv * n];
    let mut density = vec![0f32; iv * n];
    let mut vc = vec![f32::NAN; iv * n];
    let nl = net.len();
    for i in 0..iv {
        let t0 = r.interval_start_s[i];
        let t1 = r.interval_start_s.get(i + 1).copied().unwrap_or(end_s);
        let dt = f64::from(t1.saturating_sub(t0).max(1));
        for (j, l) in all.link.iter().enumerate() {
            let Some(s) = net.sim_link(*l) else { continue };
            let s = s as usize;
            let at = i * nl + s;
            let out = i * n + j;
            let entered = f64::from(r.entered[at]);
            let exited = f64::from(r.exited[at]);
            let f = entered * 3600.0 / dt;
            volume[out] = entered as f32;
            flow[out] = f as f32;
            speed[out] = if exited > 0.0 && r.tt_sum_ms[at] > 0 {
                (net.length_m[s] / (r.tt_sum_ms[at] as f64 / 1000.0 / exited) * 3.6) as f32
            } else {
                (net.speed_ms[s] * 3.6) as f32
            };
            density[out] =
                (r.veh_s[at] as f64 / dt / (net.length_m[s] / 1000.0) / f64::from(net.lanes[s]))
                    as f32;
            vc[out] = (f / net.capacity_veh_h[s]) as f32;
        }
    }
    let times: Vec<SimTime> = r.interval_start_s.iter().map(|&t| SimTime(t)).collect();
    let mut t = SeriesTable::new(
        EntityKind::Link {
            layer: roads.name.clone(),
        },
        times,
        ids,
    );
    t.push_column("volume", "veh", volume);
    t.push_column("flow", "veh/h", flow);
    t.push_column("speed", "km/h", speed);
    t.push_column("density", "veh/km/lane", density);
    t.push_column("volume_capacity", "ratio", vc);
    let info = LinkInfo {
        link: all.link.iter().map(|l| l.0).collect(),
        feature: all.feature.clone(),
        length_m: all.length_m.clone(),
        lanes: all.lanes.clone(),
        speed_kmh: all.speed_ms.iter().map(|v| (v * 3.6) as f32).collect(),
        capacity_veh_h: all.capacity_veh_h.iter().map(|c| *c as f32).collect(),
        closed: all
            .link
            .iter()
            .map(|l| net.sim_link(*l).is_none())
            .collect(),
        sumo_id: all
            .feature
            .iter()
            .map(|f| {
                roads
                    .feature(*f)
                    .and_then(|x| roads.attribute(x, "sumo_id"))
                    .and_then(ValueRef::as_str)
                    .map(str::to_owned)
            })
            .collect(),
    };
    (t, info)
}

/// Totals at each step instant (and per interval for the traffic figures).
pub fn totals(
    steps: &[SimTime],
    occ: Option<&Occupancy>,
    r: &TrafficResult,
    net: &RoadNet,
    trips: &TripRecords,
) -> Totals {
    let s = steps.len();
    let nl = net.len();
    let iv = r.interval_start_s.len();
    let mut vkm = vec![0f64; s];
    let mut speed = vec![f64::NAN; s];
    for i in 0..iv.min(s) {
        let mut metres = 0.0;
        let mut secs = 0.0;
        for l in 0..nl {
            let at = i * nl + l;
            metres += f64::from(r.exited[at]) * net.length_m[l];
            secs += r.tt_sum_ms[at] as f64 / 1000.0;
        }
        vkm[i] = metres / 1000.0;
        if secs > 0.0 {
            speed[i] = metres / secs * 3.6;
        }
    }
    let mut arrivals = vec![0u32; s];
    let t_ms: Vec<u64> = steps.iter().map(|t| t.millis()).collect();
    for (k, &a) in trips.arrive_ms.iter().enumerate() {
        if a == NEVER || trips.mode[k] != Mode::Car || trips.unroutable[k] {
            continue;
        }
        let j = t_ms.partition_point(|&t| t <= a);
        if j > 0 && j < s {
            arrivals[j - 1] += 1;
        }
    }
    Totals {
        time_s: steps.iter().map(|t| t.0).collect(),
        in_buildings: occ.map_or_else(|| vec![0; s], |o| o.in_buildings.clone()),
        on_move: occ.map_or_else(|| vec![0; s], |o| o.on_move.clone()),
        vehicles_on_network: (0..s)
            .map(|j| r.on_network.get(j).copied().unwrap_or(0))
            .collect(),
        vehicle_km: vkm,
        mean_speed_kmh: speed,
        car_arrivals: arrivals,
    }
}

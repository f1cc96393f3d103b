//! The queue-based mobility simulation (see the [parent module](super) for the model and where it follows MATSim's
//! QSim and SUMO's meso).
//!
//! Entry point: [`simulate`]. It executes an [`Agenda`]: travellers who depart, travel (car trips through the
//! link model, other trips off the network for a fixed time), arrive and depart again by their activities' end
//! rules. One tick is one second:
//! 1. departures due by the tick join their first link's waiting line (cars) or are travelled at once (others);
//! 2. **link phase** (parallel over the links due this tick): the flow accumulator refills; queue heads whose exit
//!    time has come move into the buffer while flow capacity lasts (or arrive, on their last link); waiting
//!    departures enter while storage lasts;
//! 3. arrivals are applied (the traveller's next departure is scheduled);
//! 4. **node phase** (decisions in parallel over the nodes with a full buffer upstream, applied in node order):
//!    each node serves its incoming buffers in an order drawn per (node, tick) with weights ∝ capacity, moving head
//!    vehicles onto their next link while it has storage at the start of the phase (less what this node already
//!    put there); a head blocked longer than `stuck_time` is moved on regardless.
//!
//! Links are woken by events rather than visited every tick: when their head vehicle's exit time comes, when
//! their flow capacity has recovered, or when space frees up below or in them (a timing wheel of ticks). Each
//! link is written by exactly one node (its upstream one) and read for space only against start-of-phase counts,
//! so the result is the same for any number of threads.
//!
//! # Units
//! Times in milliseconds since midnight of day 0 inside, seconds in the scenario; lengths m; speeds m/s.

use super::super::population::{EndRule, Mode};
use super::super::rng::{self, Stream};
use super::RoadNet;
use rayon::prelude::*;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

/// "Never" / "not yet".
pub const NEVER: u64 = u64::MAX;
/// Due links from which the link phase runs in parallel (below it, thread hand-offs cost more than they save).
pub const PARALLEL_LINKS: usize = 256;
/// Busy nodes from which the node phase's decisions run in parallel.
pub const PARALLEL_NODES: usize = 128;

/// Trips to travel, grouped by traveller: traveller `t` makes trips `trip_off[t]..trip_off[t + 1]` in order.
#[derive(Clone, Debug, Default)]
pub struct Agenda {
    /// Offsets of each traveller's trips; travellers + 1 entries.
    pub trip_off: Vec<u32>,
    /// When each traveller leaves for its first trip, ms ([`NEVER`]: stays).
    pub first_depart_ms: Vec<u64>,
    /// Mode of each trip.
    pub mode: Vec<Mode>,
    /// Car trips' routes (sim links): `routes[route_off[k]..route_off[k + 1]]`; empty for other trips.
    pub route_off: Vec<u32>,
    /// See `route_off`.
    pub routes: Vec<u32>,
    /// Travel time of trips off the network, ms.
    pub offnet_ms: Vec<u64>,
    /// When the activity a trip leads to ends (decides the traveller's next departure).
    pub after_arrival: Vec<EndRule>,
    /// Speed factor of each trip's vehicle (1: the speed limit).
    pub speed_factor: Vec<f32>,
}

impl Agenda {
    /// Number of trips.
    pub fn trips(&self) -> usize {
        self.mode.len()
    }
    /// Number of travellers.
    pub fn travellers(&self) -> usize {
        self.first_depart_ms.len()
    }
    /// The route of trip `k`.
    pub fn route(&self, k: usize) -> &[u32] {
        &self.routes[self.route_off[k] as usize..self.route_off[k + 1] as usize]
    }
}

/// Model parameters.
#[derive(Clone, Copy, Debug)]
pub struct QueueParams {
    /// First tick, s.
    pub start_s: u32,
    /// Last tick, s.
    pub end_s: u32,
    /// Interval boundaries of the link statistics, s (ascending, first = start, last = end).
    pub step_s: u32,
    /// Gridlock release, ms.
    pub stuck_ms: u64,
    /// Seed of the node-order draws.
    pub seed: u64,
    /// Due links from which the link phase runs in parallel ([`PARALLEL_LINKS`]; tests lower it).
    pub parallel_links: usize,
    /// Busy nodes from which the node phase runs in parallel ([`PARALLEL_NODES`]).
    pub parallel_nodes: usize,
}

/// What happened to each trip, and the link statistics.
#[derive(Clone, Debug, Default)]
pub struct TrafficResult {
    /// When the traveller left its activity, ms ([`NEVER`]: did not leave during the run).
    pub request_ms: Vec<u64>,
    /// When the trip started moving: entered its first link (cars) or set off (others), ms.
    pub depart_ms: Vec<u64>,
    /// When it arrived, ms ([`NEVER`]: still travelling at the end).
    pub arrive_ms: Vec<u64>,
    /// Times the vehicle was moved on out of gridlock.
    pub moved_on: Vec<u16>,
    /// Start of each statistics interval, s.
    pub interval_start_s: Vec<u32>,
    /// Vehicles that entered each link in each interval, interval-major (`[interval × links + link]`).
    pub entered: Vec<u32>,
    /// Sum of the traversal times of the vehicles that left each link in each interval, ms.
    pub tt_sum_ms: Vec<u64>,
    /// Vehicles that left each link in each interval.
    pub exited: Vec<u32>,
    /// Vehicle-seconds spent on each link in each interval.
    pub veh_s: Vec<u64>,
    /// Vehicles on the network (driving or waiting to enter) at each statistics boundary.
    pub on_network: Vec<u32>,
    /// Ticks simulated (skipped empty stretches excluded).
    pub ticks: u64,
    /// Vehicle-link moves made (for agent-steps per second).
    pub link_moves: u64,
    /// Most links processed in one tick's link phase.
    pub peak_active_links: u32,
}

/// A vehicle in a link's queue or buffer.
#[derive(Clone, Copy, Debug)]
struct QVeh {
    trip: u32,
    /// Position of the current link in the route.
    pos: u32,
    /// When it entered this link, ms.
    entered_ms: u64,
    /// Earliest exit (queue) or when it became ready (buffer), ms.
    exit_ms: u64,
}

#[derive(Clone, Debug, Default)]
struct LinkState {
    queue: VecDeque<QVeh>,
    buffer: VecDeque<QVeh>,
    /// Departing trips waiting to enter, with the time they want to.
    waiting: VecDeque<(u32, u64)>,
    /// Vehicles in queue + buffer.
    used: u32,
    /// Flow accumulator, vehicles.
    acc: f64,
    /// Tick of the last refill.
    last_tick: u32,
    /// Since when the buffer's head has been refused by the next link, ms.
    blocked_since: u64,
    // Interval statistics.
    entered: u32,
    exited: u32,
    tt_sum_ms: u64,
    /// Vehicle-ticks so far in the interval, and the tick `used` last changed.
    veh_s: u64,
    used_since: u32,
}

impl LinkState {
    /// Changes the vehicle count at `tick`, integrating vehicle-seconds.
    fn set_used(&mut self, used: u32, tick: u32) {
        self.veh_s += u64::from(self.used) * u64::from(tick.saturating_sub(self.used_since));
        self.used_since = self.used_since.max(tick);
        self.used = used;
    }
}

/// Per-link constants the phases read.
struct Statics<'a> {
    net: &'a RoadNet,
    cap_per_s: Vec<f64>,
    buffer_cap: Vec<u32>,
    agenda: &'a Agenda,
}

/// What the link phase reports, for a run of links in order (one per parallel chunk).
#[derive(Default)]
struct LinkOut {
    /// `(trip, arrival ms)`.
    arrivals: Vec<(u32, u64)>,
    /// `(trip, entry ms)` of departures that entered their first link.
    inserted: Vec<(u32, u64)>,
    /// `(link, tick)`: when a link next needs attention by itself (its head's exit, its flow capacity).
    wakes: Vec<(u32, u32)>,
    /// Links whose buffer holds vehicles after the phase.
    buffered: Vec<u32>,
}

fn exit_time(st: &Statics<'_>, link: u32, trip: u32, entry_ms: u64, turn_ms: u32) -> u64 {
    let f = f64::from(st.agenda.speed_factor[trip as usize]).max(0.1);
    let t = (st.net.free_flow_ms[link as usize] + u64::from(turn_ms)) as f64 / f;
    entry_ms + (t.round() as u64).max(1)
}

/// When a move processed at the tick ending `now` happens, for something ready at `ready` (≤ `now`): on time if
/// it became ready within this tick's second, else (it was held up) at the tick.
fn at(ready: u64, now: u64) -> u64 {
    if ready + 1000 > now {
        ready
    } else {
        now
    }
}

fn link_step(st: &Statics<'_>, link: u32, s: &mut LinkState, tick: u32, out: &mut LinkOut) {
    let li = link as usize;
    let now = u64::from(tick) * 1000;
    let cap = st.cap_per_s[li];
    let elapsed = f64::from(tick.saturating_sub(s.last_tick));
    s.acc = (s.acc + cap * elapsed).min(cap);
    s.last_tick = tick;
    let mut wake: Option<u32> = None;
    while let Some(front) = s.queue.front().copied() {
        if front.exit_ms > now {
            wake = Some(front.exit_ms.div_ceil(1000) as u32);
            break;
        }
        let route = st.agenda.route(front.trip as usize);
        if front.pos as usize + 1 >= route.len() {
            let t = at(front.exit_ms, now);
            s.queue.pop_front();
            s.set_used(s.used - 1, tick);
            s.exited += 1;
            s.tt_sum_ms += t - front.entered_ms;
            out.arrivals.push((front.trip, t));
            continue;
        }
        if s.buffer.len() as u32 >= st.buffer_cap[li] {
            // The node phase wakes the link when it takes a vehicle from the buffer.
            break;
        }
        if s.acc <= 0.0 {
            let k = (-s.acc / cap).floor() as u32 + 1;
            wake = Some(tick + k.max(1));
            break;
        }
        s.acc -= 1.0;
        s.queue.pop_front();
        s.buffer.push_back(QVeh {
            exit_ms: at(front.exit_ms, now),
            ..front
        });
    }
    let storage = st.net.storage[li];
    while let Some(&(trip, want)) = s.waiting.front() {
        if s.used > 0 && f64::from(s.used) + 1.0 > storage {
            // Woken again when a vehicle leaves the link.
            break;
        }
        s.waiting.pop_front();
        let entry = at(want, now);
        s.set_used(s.used + 1, tick);
        s.entered += 1;
        let exit = exit_time(st, link, trip, entry, 0);
        if s.queue.is_empty() {
            wake = Some(exit.div_ceil(1000) as u32);
        }
        s.queue.push_back(QVeh {
            trip,
            pos: 0,
            entered_ms: entry,
            exit_ms: exit,
        });
        out.inserted.push((trip, entry));
    }
    if let Some(w) = wake {
        out.wakes.push((link, w));
    }
    if !s.buffer.is_empty() {
        out.buffered.push(link);
    }
}

/// The node phase's decisions, for a run of nodes in order (one per parallel chunk).
#[derive(Default)]
struct NodeOut {
    /// `(from link, to link, moved on, turn time ms)`, in the order to apply.
    moves: Vec<(u32, u32, bool, u32)>,
    /// `(link, blocked since)` updates.
    blocked: Vec<(u32, u64)>,
    /// Scratch: vehicles this node put on each of its out-links this tick.
    added: Vec<(u32, u32)>,
    /// Scratch: the order of the incoming links.
    cands: Vec<(f64, u32)>,
}

fn node_step(
    st: &Statics<'_>,
    states: &[LinkState],
    in_links: &[u32],
    node: u32,
    tick: u32,
    params: &QueueParams,
    out: &mut NodeOut,
) {
    let now = u64::from(tick) * 1000;
    out.cands.clear();
    out.added.clear();
    out.cands.extend(
        in_links
            .iter()
            .filter(|&&l| !states[l as usize].buffer.is_empty())
            .map(|&l| (0.0, l)),
    );
    if out.cands.len() > 1 {
        // Weighted order without replacement: sort by −ln(u) / capacity (an exponential race), u drawn per
        // (node, tick, link).
        let h = rng::derive(
            params.seed,
            Stream::Node,
            (u64::from(node) << 32) | u64::from(tick),
        );
        for c in out.cands.iter_mut() {
            let u = rng::unit(rng::mix(h ^ u64::from(c.1)));
            c.0 = -u.ln() / st.net.capacity_veh_h[c.1 as usize].max(1e-9);
        }
        out.cands
            .sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    }
    for ci in 0..out.cands.len() {
        let l = out.cands[ci].1;
        let s = &states[l as usize];
        let mut moved_any = false;
        let mut blocked = false;
        for v in &s.buffer {
            let route = st.agenda.route(v.trip as usize);
            let next = route[v.pos as usize + 1];
            let add = out.added.iter().find(|a| a.0 == next).map_or(0, |a| a.1);
            let ns = &states[next as usize];
            let occupied = f64::from(ns.used + add);
            let fits = occupied == 0.0 || occupied + 1.0 <= st.net.storage[next as usize];
            let stuck = !moved_any
                && s.blocked_since != NEVER
                && now.saturating_sub(s.blocked_since) >= params.stuck_ms;
            if fits || stuck {
                let turn_ms = st.net.turn(l, next).map_or(0, |t| t.turn_ms);
                out.moves.push((l, next, !fits, turn_ms));
                match out.added.iter_mut().find(|a| a.0 == next) {
                    Some(a) => a.1 += 1,
                    None => out.added.push((next, 1)),
                }
                moved_any = true;
            } else {
                blocked = true;
                break;
            }
        }
        if blocked {
            if moved_any || s.blocked_since == NEVER {
                out.blocked.push((l, now));
            }
        } else if s.blocked_since != NEVER {
            out.blocked.push((l, NEVER));
        }
    }
}

/// Items due at future ticks: a ring of per-tick buckets as long as the run (so a day's departures never wait
/// in a heap) and a heap for anything farther.
struct TickWheel<T> {
    slots: Vec<Vec<T>>,
    far: BinaryHeap<Reverse<(u32, T)>>,
    pending: usize,
}

impl<T: Ord + Copy> TickWheel<T> {
    /// A wheel for a run of `span` ticks.
    fn new(span: u32) -> Self {
        TickWheel {
            slots: (0..=span as usize + 1).map(|_| Vec::new()).collect(),
            far: BinaryHeap::new(),
            pending: 0,
        }
    }

    /// Adds `item` at `tick`, or at `earliest` if that is later. `earliest` is the first tick not yet taken: the
    /// next one while a tick is processed, the start before the run.
    fn push(&mut self, tick: u32, item: T, earliest: u32) {
        let tick = tick.max(earliest);
        if (tick - earliest) as usize >= self.slots.len() {
            self.far.push(Reverse((tick, item)));
        } else {
            let n = self.slots.len();
            self.slots[tick as usize % n].push(item);
            self.pending += 1;
        }
    }

    /// Moves the items due at `tick` into `out` (in no particular order; callers sort).
    fn take(&mut self, tick: u32, out: &mut Vec<T>) {
        let n = self.slots.len();
        let slot = &mut self.slots[tick as usize % n];
        self.pending -= slot.len();
        out.append(slot);
        while let Some(&Reverse((t, x))) = self.far.peek() {
            if t > tick {
                break;
            }
            self.far.pop();
            out.push(x);
        }
    }

    /// The first tick after `now` with an item, if any.
    fn next_after(&self, now: u32) -> Option<u32> {
        let near = (self.pending > 0)
            .then(|| {
                (1..self.slots.len() as u32)
                    .map(|d| now + d)
                    .find(|t| !self.slots[*t as usize % self.slots.len()].is_empty())
            })
            .flatten();
        let far = self.far.peek().map(|Reverse((t, _))| *t);
        match (near, far) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn is_empty(&self) -> bool {
        self.pending == 0 && self.far.is_empty()
    }
}

/// Runs the agenda on the network. `progress(tick)` is called every tick; returning `false` stops the run.
pub fn simulate(
    net: &RoadNet,
    agenda: &Agenda,
    params: &QueueParams,
    mut progress: impl FnMut(u32) -> bool,
) -> TrafficResult {
    let n_links = net.len();
    let trips = agenda.trips();
    let st = Statics {
        net,
        cap_per_s: net.capacity_veh_h.iter().map(|c| c / 3600.0).collect(),
        buffer_cap: net
            .capacity_veh_h
            .iter()
            .map(|c| ((c / 3600.0).ceil() as u32).max(1))
            .collect(),
        agenda,
    };
    let mut states: Vec<LinkState> = (0..n_links)
        .map(|i| LinkState {
            acc: st.cap_per_s[i],
            last_tick: params.start_s,
            blocked_since: NEVER,
            used_since: params.start_s,
            ..LinkState::default()
        })
        .collect();
    // Incoming links per node.
    let mut in_off = vec![0u32; net.node_count + 1];
    for &t in &net.to {
        in_off[t.0 as usize + 1] += 1;
    }
    for i in 1..in_off.len() {
        in_off[i] += in_off[i - 1];
    }
    let mut in_links = vec![0u32; n_links];
    let mut fill = in_off.clone();
    for (l, &t) in net.to.iter().enumerate() {
        in_links[fill[t.0 as usize] as usize] = l as u32;
        fill[t.0 as usize] += 1;
    }
    let mut r = TrafficResult {
        request_ms: vec![NEVER; trips],
        depart_ms: vec![NEVER; trips],
        arrive_ms: vec![NEVER; trips],
        moved_on: vec![0; trips],
        ..TrafficResult::default()
    };
    let traveller_of: Vec<u32> = {
        let mut v = vec![0u32; trips];
        for t in 0..agenda.travellers() {
            for k in agenda.trip_off[t]..agenda.trip_off[t + 1] {
                v[k as usize] = t as u32;
            }
        }
        v
    };
    // Departures by tick: (time ms, trip).
    let span = params.end_s.saturating_sub(params.start_s);
    let mut events: TickWheel<(u64, u32)> = TickWheel::new(span);
    for t in 0..agenda.travellers() {
        let first = agenda.trip_off[t];
        let at = agenda.first_depart_ms[t];
        if first < agenda.trip_off[t + 1] && at != NEVER && at <= u64::from(params.end_s) * 1000 {
            events.push(at.div_ceil(1000) as u32, (at, first), params.start_s);
        }
    }
    let mut departing: Vec<(u64, u32)> = Vec::new();
    let mut boundaries: Vec<u32> = (params.start_s..params.end_s)
        .step_by(params.step_s.max(1) as usize)
        .collect();
    boundaries.push(params.end_s);
    r.interval_start_s = boundaries[..boundaries.len() - 1].to_vec();
    let intervals = r.interval_start_s.len();
    r.entered = vec![0; intervals * n_links];
    r.exited = vec![0; intervals * n_links];
    r.tt_sum_ms = vec![0; intervals * n_links];
    r.veh_s = vec![0; intervals * n_links];
    let mut next_boundary = 1usize;
    let mut wheel: TickWheel<u32> = TickWheel::new(span);
    let mut due: Vec<u32> = Vec::new();
    // Links with vehicles in their buffer (their downstream nodes have work every tick).
    let mut buffered: Vec<u32> = Vec::new();
    let mut in_buffered = vec![false; n_links];
    let mut vehicles_on = 0u64;
    r.on_network.push(0);

    // Schedules the traveller's next trip after trip `k` arrived at `t` (during tick `now`).
    let end_ms = u64::from(params.end_s) * 1000;
    let schedule_next = |k: usize, t: u64, now: u32, events: &mut TickWheel<(u64, u32)>| {
        let traveller = traveller_of[k] as usize;
        if k + 1 < agenda.trip_off[traveller + 1] as usize {
            let when = match agenda.after_arrival[k] {
                EndRule::At(s) => (u64::from(s) * 1000).max(t),
                EndRule::After(d) => t + u64::from(d) * 1000,
                EndRule::Never => NEVER,
            };
            if when <= end_ms {
                events.push(when.div_ceil(1000) as u32, (when, (k + 1) as u32), now + 1);
            }
        }
    };

    let mut tick = params.start_s;
    while tick <= params.end_s {
        let now = u64::from(tick) * 1000;
        // 1. Departures, in time order (trip order on a tie).
        events.take(tick, &mut departing);
        departing.sort_unstable();
        for &(t, k) in &departing {
            let k = k as usize;
            r.request_ms[k] = t;
            if agenda.mode[k] == Mode::Car && agenda.route_off[k] < agenda.route_off[k + 1] {
                let first = agenda.route(k)[0];
                states[first as usize].waiting.push_back((k as u32, t));
                vehicles_on += 1;
                due.push(first);
            } else {
                r.depart_ms[k] = t;
                let arrive = t + agenda.offnet_ms[k];
                r.arrive_ms[k] = if arrive <= end_ms { arrive } else { NEVER };
                if r.arrive_ms[k] != NEVER {
                    schedule_next(k, arrive, tick, &mut events);
                }
            }
        }
        departing.clear();
        wheel.take(tick, &mut due);
        due.sort_unstable();
        due.dedup();
        // 2. Link phase.
        let outs: Vec<LinkOut> = if due.len() >= params.parallel_links {
            let chunk = (n_links / 64).max(256);
            let act = &due;
            let st_ref = &st;
            states
                .par_chunks_mut(chunk)
                .enumerate()
                .map(|(c, sl)| {
                    let lo = (c * chunk) as u32;
                    let hi = lo + sl.len() as u32;
                    let a =
                        &act[act.partition_point(|&x| x < lo)..act.partition_point(|&x| x < hi)];
                    let mut out = LinkOut::default();
                    for &l in a {
                        link_step(st_ref, l, &mut sl[(l - lo) as usize], tick, &mut out);
                    }
                    out
                })
                .collect()
        } else {
            let mut out = LinkOut::default();
            for &l in &due {
                link_step(&st, l, &mut states[l as usize], tick, &mut out);
            }
            vec![out]
        };
        r.peak_active_links = r.peak_active_links.max(due.len() as u32);
        due.clear();
        // 3. Arrivals, insertions and wake-ups.
        for o in &outs {
            for &(k, t) in &o.inserted {
                r.depart_ms[k as usize] = t;
            }
            for &(k, t) in &o.arrivals {
                r.arrive_ms[k as usize] = t;
                vehicles_on -= 1;
                schedule_next(k as usize, t, tick, &mut events);
            }
            for &(l, w) in &o.wakes {
                wheel.push(w, l, tick + 1);
            }
            for &l in &o.buffered {
                if !in_buffered[l as usize] {
                    in_buffered[l as usize] = true;
                    buffered.push(l);
                }
            }
        }
        // 4. Node phase.
        buffered.retain(|&l| {
            let keep = !states[l as usize].buffer.is_empty();
            in_buffered[l as usize] = keep;
            keep
        });
        let mut nodes: Vec<u32> = buffered.iter().map(|&l| net.to[l as usize].0).collect();
        nodes.sort_unstable();
        nodes.dedup();
        let decide = |nodes: &[u32]| {
            let mut out = NodeOut::default();
            for &n in nodes {
                let ins = &in_links[in_off[n as usize] as usize..in_off[n as usize + 1] as usize];
                node_step(&st, &states, ins, n, tick, params, &mut out);
            }
            out
        };
        let decisions: Vec<NodeOut> = if nodes.len() >= params.parallel_nodes {
            nodes.par_chunks(64).map(decide).collect()
        } else {
            vec![decide(&nodes)]
        };
        for d in decisions {
            for (from, to, moved_on, turn_ms) in d.moves {
                let Some(v) = states[from as usize].buffer.pop_front() else {
                    continue;
                };
                let entry = at(v.exit_ms, now);
                {
                    let f = &mut states[from as usize];
                    f.set_used(f.used - 1, tick);
                    f.exited += 1;
                    f.tt_sum_ms += entry - v.entered_ms;
                }
                // Space in the buffer and on the link: the link may move its next vehicle or let one in.
                wheel.push(tick + 1, from, tick + 1);
                let exit = exit_time(&st, to, v.trip, entry, turn_ms);
                let t = &mut states[to as usize];
                t.set_used(t.used + 1, tick);
                t.entered += 1;
                if t.queue.is_empty() {
                    wheel.push(exit.div_ceil(1000) as u32, to, tick + 1);
                }
                t.queue.push_back(QVeh {
                    trip: v.trip,
                    pos: v.pos + 1,
                    entered_ms: entry,
                    exit_ms: exit,
                });
                if moved_on {
                    r.moved_on[v.trip as usize] += 1;
                }
                r.link_moves += 1;
            }
            for (l, since) in d.blocked {
                states[l as usize].blocked_since = since;
            }
        }
        r.ticks += 1;
        // Interval boundaries.
        while next_boundary < boundaries.len() && tick >= boundaries[next_boundary] {
            close_interval(&mut r, &mut states, next_boundary - 1, vehicles_on, tick);
            next_boundary += 1;
        }
        if !progress(tick) {
            break;
        }
        // Skip quiet stretches: nothing scheduled, nothing buffered, until the next departure.
        let mut next = tick + 1;
        if wheel.is_empty() && buffered.is_empty() {
            let due_at = events
                .next_after(tick)
                .unwrap_or(params.end_s + 1)
                .min(params.end_s + 1);
            while next_boundary < boundaries.len() && boundaries[next_boundary] < due_at {
                close_interval(
                    &mut r,
                    &mut states,
                    next_boundary - 1,
                    vehicles_on,
                    boundaries[next_boundary],
                );
                next_boundary += 1;
            }
            next = next.max(due_at);
        }
        tick = next;
    }
    // Close intervals the loop did not reach (it was stopped early).
    while next_boundary < boundaries.len() {
        close_interval(
            &mut r,
            &mut states,
            next_boundary - 1,
            vehicles_on,
            boundaries[next_boundary],
        );
        next_boundary += 1;
    }
    r
}

/// Moves the links' statistics of interval `iv`, which ends at tick `end`, into the result and records the vehicles
/// on the network.
fn close_interval(
    r: &mut TrafficResult,
    states: &mut [LinkState],
    iv: usize,
    vehicles_on: u64,
    end: u32,
) {
    let n = states.len();
    for (l, s) in states.iter_mut().enumerate() {
        let at = iv * n + l;
        s.set_used(s.used, end);
        r.entered[at] = std::mem::take(&mut s.entered);
        r.exited[at] = std::mem::take(&mut s.exited);
        r.tt_sum_ms[at] = std::mem::take(&mut s.tt_sum_ms);
        r.veh_s[at] = std::mem::take(&mut s.veh_s);
    }
    r.on_network.push(vehicles_on as u32);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::scenario::TrafficConfig;
    use crate::sim::traffic::{road_layer, routing::Router};
    use std::collections::BTreeSet;

    fn setup() -> RoadNet {
        let scene = crate::generate::city(300, 5);
        let layer = road_layer(&scene, None).expect("roads");
        RoadNet::build(layer, &TrafficConfig::default(), &BTreeSet::new())
    }

    fn agenda_of(net: &RoadNet, trips: &[(u64, u32, u32)]) -> Agenda {
        let router = Router::new(net);
        let mut calc = router.calculator();
        let mut a = Agenda {
            trip_off: vec![0],
            route_off: vec![0],
            ..Agenda::default()
        };
        for &(dep, from, to) in trips {
            let r = router
                .route(
                    &mut calc,
                    net,
                    &[(from, net.free_flow_ms[from as usize])],
                    &[to],
                )
                .expect("route");
            a.routes.extend(&r.links);
            a.route_off.push(a.routes.len() as u32);
            a.mode.push(Mode::Car);
            a.offnet_ms.push(0);
            a.after_arrival.push(EndRule::Never);
            a.speed_factor.push(1.0);
            a.first_depart_ms.push(dep);
            a.trip_off.push(a.mode.len() as u32);
        }
        a
    }

    fn params(end_s: u32) -> QueueParams {
        QueueParams {
            start_s: 0,
            end_s,
            step_s: 900,
            stuck_ms: 300_000,
            seed: 1,
            parallel_links: PARALLEL_LINKS,
            parallel_nodes: PARALLEL_NODES,
        }
    }

    #[test]
    fn a_lone_vehicle_takes_exactly_its_free_flow_time() {
        let net = setup();
        let a = agenda_of(&net, &[(10_500, 0, 97)]);
        let ff: u64 = a
            .route(0)
            .iter()
            .map(|&l| net.free_flow_ms[l as usize])
            .sum();
        let r = simulate(&net, &a, &params(3600), |_| true);
        assert_eq!(r.depart_ms[0], 10_500);
        assert_eq!(r.arrive_ms[0] - r.depart_ms[0], ff);
        assert_eq!(r.on_network.len(), 5);
        let entered: u32 = r.entered.iter().sum();
        assert_eq!(entered as usize, a.route(0).len());
    }

    #[test]
    fn capacity_spaces_vehicles_and_everyone_arrives() {
        let net = setup();
        // 60 cars leave the same link at the same second: the residential link's 600 veh/h lets one out
        // every 6 s.
        let from = (0..net.len())
            .find(|&l| net.capacity_veh_h[l] == 600.0)
            .expect("residential") as u32;
        let to = (net.len() as u32 - 1).min(from + 60);
        let trips: Vec<(u64, u32, u32)> = (0..60).map(|_| (0, from, to)).collect();
        let a = agenda_of(&net, &trips);
        let r = simulate(&net, &a, &params(7200), |_| true);
        assert!(r.arrive_ms.iter().all(|&t| t != NEVER), "all arrive");
        let mut arr: Vec<u64> = r.arrive_ms.clone();
        arr.sort_unstable();
        let spread = arr[59] - arr[0];
        assert!(
            spread >= 59 * 5_000,
            "flow capacity spaces them: {spread} ms"
        );
        let first_ff: u64 = a
            .route(0)
            .iter()
            .map(|&l| net.free_flow_ms[l as usize])
            .sum();
        assert_eq!(arr[0], first_ff, "the first one drives free");
    }

    #[test]
    fn gridlock_is_resolved_and_counted() {
        let net = setup();
        // Enough cars into one small area that storage runs out; stuck time short.
        let trips: Vec<(u64, u32, u32)> = (0..400)
            .map(|i| (0, (i % 8) as u32 * 2, 60 + (i % 5) as u32))
            .collect();
        let a = agenda_of(&net, &trips);
        let mut p = params(4 * 3600);
        p.stuck_ms = 20_000;
        let r = simulate(&net, &a, &p, |_| true);
        let arrived = r.arrive_ms.iter().filter(|&&t| t != NEVER).count();
        assert_eq!(arrived, 400);
        // Conservation of vehicles at the boundaries.
        assert_eq!(*r.on_network.last().unwrap_or(&1), 0);
    }

    #[test]
    fn same_result_with_one_and_two_threads() {
        let net = setup();
        let trips: Vec<(u64, u32, u32)> = (0..3000)
            .map(|i| {
                (
                    (i % 600) as u64 * 1000,
                    (i * 7 % net.len()) as u32,
                    (i * 13 % net.len()) as u32,
                )
            })
            .collect();
        let a = agenda_of(&net, &trips);
        // Sequential phases, and parallel ones forced from the first due link and busy node, on 1 and 2 threads.
        let run = |threads: usize, parallel_from: usize| {
            let mut p = params(7200);
            p.parallel_links = parallel_from;
            p.parallel_nodes = parallel_from;
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("pool")
                .install(|| simulate(&net, &a, &p, |_| true))
        };
        let x = run(1, usize::MAX);
        for (threads, from) in [(1, 1), (2, 1), (2, usize::MAX)] {
            let y = run(threads, from);
            assert_eq!(
                x.arrive_ms, y.arrive_ms,
                "{threads} threads, parallel from {from}"
            );
            assert_eq!(x.entered, y.entered);
            assert_eq!(x.tt_sum_ms, y.tt_sum_ms);
            assert_eq!(x.veh_s, y.veh_s);
            assert_eq!(x.moved_on, y.moved_on);
        }
    }
}

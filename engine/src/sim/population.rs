//! The synthetic population: who lives in which building, where they work or study, and their day.
//!
//! Entry point: [`synthesize`]. Buildings become [`Places`] with a use category (from their use — OSM
//! `building=*` or a scenario-mapped attribute — else from the land use around them) and a floor area (footprint
//! × storeys, or height ÷ storey height). Residents fill residential floor area (a total, counts per district, or
//! floor area ÷ m² per resident); jobs, school places and visits follow the other categories' floor area. Each
//! person gets a type (child, worker, other adult, retired), a workplace or school chosen by capacity with
//! distance decay, and an activity chain (`H-W-P-H`...) with start times and durations drawn from the scenario's
//! profiles. Every draw comes from the person's own random stream ([`super::rng`]), so the population is the same
//! for any thread count.
//!
//! # Glossary
//! - **place**: a building as the population model sees it (category, floor area, capacities).
//! - **activity chain**: the day's sequence of activities, e.g. home → work → shop → home.
//! - **end rule**: when an activity ends: at a clock time (work, school, home before an errand) or after a
//!   duration (shopping, leisure); a late arrival shortens the first kind, never the second.
//! - **leg**: the trip between two consecutive activities, with its mode (car, walk, other).

use super::rng::{self, Stream};
use super::scenario::{ActivityTiming, PersonType, Scenario, UseCategory};
use crate::ids::FeatureId;
use crate::{spatial, LayerKind, Scene, ValueRef};
use geo::{Area, Centroid};
use geo_types::{Geometry, Point};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use rayon::prelude::*;

/// An activity type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ActKind {
    /// At home (H).
    Home,
    /// At work (W).
    Work,
    /// At school (S).
    School,
    /// Shopping or errands (P).
    Shop,
    /// Leisure (L).
    Leisure,
}

impl ActKind {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            ActKind::Home => "home",
            ActKind::Work => "work",
            ActKind::School => "school",
            ActKind::Shop => "shop",
            ActKind::Leisure => "leisure",
        }
    }
}

/// Parses a chain pattern such as `H-W-P-H`.
///
/// # Errors
/// A message naming the bad letter, or a chain that does not start at home.
pub fn parse_chain(pattern: &str) -> Result<Vec<ActKind>, String> {
    let acts: Vec<ActKind> = pattern
        .split('-')
        .map(|l| match l.trim() {
            "H" => Ok(ActKind::Home),
            "W" => Ok(ActKind::Work),
            "S" => Ok(ActKind::School),
            "P" => Ok(ActKind::Shop),
            "L" => Ok(ActKind::Leisure),
            other => Err(format!(
                "activity `{other}` in chain `{pattern}` is not one of H, W, S, P, L"
            )),
        })
        .collect::<Result<_, _>>()?;
    if acts.first() != Some(&ActKind::Home) {
        return Err(format!("chain `{pattern}` must start at home (H)"));
    }
    if acts.len() > 12 {
        return Err(format!("chain `{pattern}` has more than 12 activities"));
    }
    Ok(acts)
}

/// When an activity ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndRule {
    /// At this time (seconds since midnight of day 0), or on arrival if later.
    At(u32),
    /// This many seconds after arrival.
    After(u32),
    /// Not during the run (the last activity).
    Never,
}

/// How a leg is travelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Mode {
    /// By car on the road network.
    Car,
    /// On foot.
    Walk,
    /// By bicycle or transit, off the road network.
    Other,
}

impl Mode {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Car => "car",
            Mode::Walk => "walk",
            Mode::Other => "other",
        }
    }
}

/// One activity of a plan.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Activity {
    /// Index into [`Places`].
    pub place: u32,
    /// What is done there.
    pub kind: ActKind,
    /// When it ends.
    pub end: EndRule,
    /// How the leg to the next activity is travelled (unused on the last activity).
    pub mode: Mode,
}

/// The buildings as the population model sees them, sorted by feature id (added buildings last).
#[derive(Clone, Debug, Default)]
pub struct Places {
    /// The feature (added buildings get ids above the scene's).
    pub feature: Vec<FeatureId>,
    /// Centroid, local frame.
    pub centroid: Vec<[f64; 2]>,
    /// Use category.
    pub category: Vec<UseCategory>,
    /// Floor area, m².
    pub floor_m2: Vec<f64>,
    /// Residents.
    pub residents: Vec<u32>,
    /// Jobs (capacity).
    pub jobs: Vec<f64>,
    /// School places.
    pub school_places: Vec<f64>,
    /// Attraction for shopping visits.
    pub shop_weight: Vec<f64>,
    /// Attraction for leisure visits.
    pub leisure_weight: Vec<f64>,
    /// Whether a what-if added it.
    pub added: Vec<bool>,
}

impl Places {
    /// Number of places.
    pub fn len(&self) -> usize {
        self.feature.len()
    }
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.feature.is_empty()
    }
    /// Straight-line distance between two places, m.
    pub fn distance(&self, a: u32, b: u32) -> f64 {
        let (p, q) = (self.centroid[a as usize], self.centroid[b as usize]);
        ((p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2)).sqrt()
    }
}

/// Everyone's plans, flat: person `p`'s activities are `acts[first_act[p]..first_act[p + 1]]`.
#[derive(Clone, Debug, Default)]
pub struct Plans {
    /// Type of each person.
    pub person_type: Vec<PersonType>,
    /// Home place of each person.
    pub home: Vec<u32>,
    /// Offsets into `acts`, persons + 1 entries.
    pub first_act: Vec<u32>,
    /// Activities.
    pub acts: Vec<Activity>,
}

impl Plans {
    /// Number of persons.
    pub fn persons(&self) -> usize {
        self.home.len()
    }
    /// The activities of person `p`.
    pub fn of(&self, p: usize) -> &[Activity] {
        &self.acts[self.first_act[p] as usize..self.first_act[p + 1] as usize]
    }
}

/// What the population model made, and what it could not place.
#[derive(Clone, Debug, Default)]
pub struct Population {
    /// Buildings.
    pub places: Places,
    /// Persons and their days.
    pub plans: Plans,
    /// Residents of districts with no residential building inside (not placed).
    pub unplaced_residents: u64,
    /// Activities dropped because no building offers them (e.g. no school in the scene).
    pub dropped_activities: u64,
}

/// Why the population cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum PopulationError {
    /// The scene has no buildings.
    #[error("the scene has no buildings layer: the population model needs buildings")]
    NoBuildings,
    /// The district layer or attribute is missing.
    #[error("population.districts: {0}")]
    Districts(String),
    /// A what-if polygon cannot be brought into the scene frame.
    #[error("edits: {0}")]
    Edit(String),
}

/// The use category of a building use value (OSM `building=*` and common GIS values); `None` when unknown.
pub fn category_of_use(value: &str) -> Option<UseCategory> {
    use UseCategory::*;
    let v = value.trim().to_ascii_lowercase();
    Some(match v.as_str() {
        "residential" | "house" | "apartments" | "detached" | "semidetached_house" | "terrace"
        | "bungalow" | "dormitory" | "farm" | "houseboat" | "static_caravan" | "home"
        | "dwelling" | "housing" | "residence" => Residential,
        "office" | "commercial" | "government" | "bank" | "hospital" | "clinic"
        | "fire_station" | "police" | "townhall" | "offices" => Office,
        "retail" | "supermarket" | "kiosk" | "shop" | "shops" | "mall" | "marketplace"
        | "restaurant" | "cafe" | "fast_food" => Retail,
        "industrial" | "warehouse" | "manufacture" | "factory" | "depot" | "hangar" | "works"
        | "storage" | "logistics" | "power" | "plant" | "water_works" | "transformer_tower" => {
            Industrial
        }
        "school" | "university" | "college" | "kindergarten" | "education" => Education,
        "public" | "civic" | "church" | "chapel" | "cathedral" | "mosque" | "temple"
        | "synagogue" | "religious" | "sports_hall" | "sports_centre" | "stadium" | "pavilion"
        | "hotel" | "train_station" | "transportation" | "museum" | "theatre" | "cinema"
        | "library" | "community_centre" | "leisure" | "grandstand" => Leisure,
        "garage" | "garages" | "shed" | "roof" | "carport" | "hut" | "greenhouse" | "barn"
        | "parking" | "toilets" | "bunker" | "ruins" | "construction" | "container"
        | "boathouse" | "service" | "cowshed" | "stable" | "sty" | "silo" | "none" | "no"
        | "bridge" | "tent" | "kiosk_shelter" | "shelter" => None,
        _ => return Option::None,
    })
}

/// The category of a land-use value (OSM `landuse=*`).
fn category_of_landuse(value: &str) -> Option<UseCategory> {
    use UseCategory::*;
    Some(match value {
        "residential" => Residential,
        "commercial" => Office,
        "retail" => Retail,
        "industrial" | "port" | "railway" | "quarry" => Industrial,
        "education" => Education,
        "religious" | "recreation_ground" | "cemetery" => Leisure,
        "farmyard" | "garages" | "allotments" => None,
        _ => return Option::None,
    })
}

/// A weighted sampler over indices (cumulative weights and a binary search).
struct Sampler {
    cumulative: Vec<f64>,
    index: Vec<u32>,
}

impl Sampler {
    fn new(weights: &[f64]) -> Option<Self> {
        let mut cumulative = Vec::new();
        let mut index = Vec::new();
        let mut acc = 0.0;
        for (i, w) in weights.iter().enumerate() {
            if *w > 0.0 && w.is_finite() {
                acc += w;
                cumulative.push(acc);
                index.push(i as u32);
            }
        }
        (acc > 0.0).then_some(Sampler { cumulative, index })
    }

    fn draw(&self, rng: &mut ChaCha8Rng) -> u32 {
        let total = self.cumulative[self.cumulative.len() - 1];
        let x = rng.random::<f64>() * total;
        let i = self.cumulative.partition_point(|c| *c <= x);
        self.index[i.min(self.index.len() - 1)]
    }

    /// Draws `k` candidates by weight and keeps one with probability ∝ exp(−distance / scale) from `from`: a
    /// gravity model's choice without visiting every building.
    fn draw_near(&self, places: &Places, from: u32, scale: f64, rng: &mut ChaCha8Rng) -> u32 {
        const K: usize = 12;
        let mut cand = [0u32; K];
        let mut w = [0f64; K];
        for i in 0..K {
            cand[i] = self.draw(rng);
            w[i] = (-places.distance(from, cand[i]) / scale).exp().max(1e-300);
        }
        let total: f64 = w.iter().sum();
        let mut x = rng.random::<f64>() * total;
        for i in 0..K {
            x -= w[i];
            if x <= 0.0 {
                return cand[i];
            }
        }
        cand[K - 1]
    }
}

/// Splits `total` over `weights` in proportion, in whole numbers, by the largest remainder (ties to the lower
/// index), so the parts always add up to `total`.
pub fn largest_remainder(total: u64, weights: &[f64]) -> Vec<u32> {
    let sum: f64 = weights.iter().filter(|w| w.is_finite() && **w > 0.0).sum();
    if sum <= 0.0 || total == 0 {
        return vec![0; weights.len()];
    }
    let exact: Vec<f64> = weights
        .iter()
        .map(|w| {
            if w.is_finite() && *w > 0.0 {
                total as f64 * w / sum
            } else {
                0.0
            }
        })
        .collect();
    let mut out: Vec<u32> = exact.iter().map(|x| x.floor() as u32).collect();
    let given: u64 = out.iter().map(|x| u64::from(*x)).sum();
    let mut order: Vec<usize> = (0..weights.len()).filter(|&i| exact[i] > 0.0).collect();
    order.sort_by(|&a, &b| {
        (exact[b] - exact[b].floor())
            .total_cmp(&(exact[a] - exact[a].floor()))
            .then(a.cmp(&b))
    });
    for &i in order
        .iter()
        .cycle()
        .take(total.saturating_sub(given) as usize)
    {
        out[i] += 1;
    }
    out
}

fn footprint_and_centroid(g: &Geometry<f64>) -> Option<(f64, [f64; 2])> {
    let area = g.unsigned_area();
    let c: Point<f64> = g.centroid()?;
    (area.is_finite() && c.x().is_finite() && c.y().is_finite()).then_some((area, [c.x(), c.y()]))
}

/// The places of `scene` after the scenario's building edits (`removed` feature ids; added buildings already in
/// the local frame as `(polygon, levels, use)`).
pub fn places(
    scene: &Scene,
    scenario: &Scenario,
    removed: &std::collections::BTreeSet<FeatureId>,
    added: &[(geo_types::Polygon<f64>, u32, String)],
) -> Result<Places, PopulationError> {
    let cfg = &scenario.population;
    let layers: Vec<&crate::Layer> = scene
        .layers
        .iter()
        .filter(|l| l.kind == LayerKind::Buildings)
        .collect();
    if layers.is_empty() && added.is_empty() {
        return Err(PopulationError::NoBuildings);
    }
    let landuse = scene.layer(&cfg.landuse_layer).ok();
    let categorize = |usage: Option<&str>, centroid: [f64; 2]| -> UseCategory {
        let explicit = usage.and_then(|u| {
            cfg.uses
                .get(u)
                .copied()
                .or_else(|| category_of_use(u))
                .filter(|_| !matches!(u, "yes" | "building" | "") || cfg.uses.contains_key(u))
        });
        explicit
            .or_else(|| {
                let l = landuse?;
                spatial::pick(l, centroid, 0.0).iter().find_map(|h| {
                    l.attribute(h.feature, "landuse")
                        .and_then(ValueRef::as_str)
                        .and_then(category_of_landuse)
                })
            })
            .unwrap_or(UseCategory::Residential)
    };
    let mut p = Places::default();
    let mut rows: Vec<(FeatureId, [f64; 2], UseCategory, f64, bool)> = Vec::new();
    for l in &layers {
        let found: Vec<(FeatureId, [f64; 2], UseCategory, f64, bool)> = l
            .features
            .par_iter()
            .filter(|f| !removed.contains(&f.id))
            .filter_map(|f| {
                let b = f.building.as_ref()?;
                let (area, centroid) = footprint_and_centroid(&f.geometry)?;
                let storeys = match b.levels {
                    Some(lv) if lv >= 1.0 => f64::from(lv).round(),
                    _ => ((b.height - b.min_height) / cfg.storey_height_m)
                        .round()
                        .max(1.0),
                };
                let usage = match &cfg.use_attribute {
                    Some(a) => l.attribute(f, a).map(|v| v.to_string()),
                    None => b.usage.as_deref().map(str::to_owned),
                };
                let cat = categorize(usage.as_deref(), centroid);
                Some((f.id, centroid, cat, area * storeys, false))
            })
            .collect();
        rows.extend(found);
    }
    rows.sort_by_key(|r| r.0);
    // Added buildings take the ids after the scene's, in the order the scenario lists them.
    for (next, (poly, levels, usage)) in (scene.next_feature_id().0..).zip(added) {
        let g = Geometry::Polygon(poly.clone());
        if let Some((area, centroid)) = footprint_and_centroid(&g) {
            let cat = cfg
                .uses
                .get(usage)
                .copied()
                .or_else(|| category_of_use(usage))
                .unwrap_or(UseCategory::Residential);
            rows.push((
                FeatureId(next),
                centroid,
                cat,
                area * f64::from(*levels),
                true,
            ));
        }
    }
    for (id, c, cat, floor, is_added) in rows {
        let job_m2 = cfg.m2_per_job.get(&cat).copied();
        p.feature.push(id);
        p.centroid.push(c);
        p.category.push(cat);
        p.floor_m2.push(floor);
        p.residents.push(0);
        p.jobs.push(job_m2.map_or(0.0, |m| floor / m));
        p.school_places.push(if cat == UseCategory::Education {
            floor / cfg.m2_per_pupil
        } else {
            0.0
        });
        p.shop_weight.push(if cat == UseCategory::Retail {
            floor
        } else {
            0.0
        });
        p.leisure_weight.push(match cat {
            UseCategory::Leisure => floor,
            UseCategory::Retail => 0.3 * floor,
            _ => 0.0,
        });
        p.added.push(is_added);
    }
    Ok(p)
}

/// Sets `places.residents` from the scenario: a total, district counts, or floor area; then the what-if factor
/// and per-building overrides. Returns residents that could not be placed (districts without homes).
pub fn place_residents(
    scene: &Scene,
    scenario: &Scenario,
    places: &mut Places,
) -> Result<u64, PopulationError> {
    let cfg = &scenario.population;
    let weights: Vec<f64> = (0..places.len())
        .map(|i| {
            if places.category[i] == UseCategory::Residential
                && places.floor_m2[i] >= cfg.min_residential_floor_m2
            {
                places.floor_m2[i]
            } else {
                0.0
            }
        })
        .collect();
    let mut unplaced = 0u64;
    places.residents = if let Some(total) = &cfg.total {
        largest_remainder(*total.get_ref(), &weights)
    } else if let Some(d) = &cfg.districts {
        let d = d.get_ref();
        let layer = scene
            .layer(&d.layer)
            .map_err(|e| PopulationError::Districts(e.to_string()))?;
        let mut residents = vec![0u32; places.len()];
        let mut taken = vec![false; places.len()];
        let mut any_attribute = false;
        // Places by position, for the polygon tests.
        for f in &layer.features {
            let Some(count) = layer.attribute(f, &d.attribute).and_then(ValueRef::as_f64) else {
                continue;
            };
            any_attribute = true;
            let count = count.max(0.0).round() as u64;
            let Some(bb) = f.bbox() else { continue };
            let inside: Vec<usize> = (0..places.len())
                .filter(|&i| {
                    let c = places.centroid[i];
                    !taken[i]
                        && weights[i] > 0.0
                        && c[0] >= bb[0]
                        && c[0] <= bb[2]
                        && c[1] >= bb[1]
                        && c[1] <= bb[3]
                        && geo::Contains::contains(&f.geometry, &Point::new(c[0], c[1]))
                })
                .collect();
            if inside.is_empty() {
                unplaced += count;
                continue;
            }
            let w: Vec<f64> = inside.iter().map(|&i| weights[i]).collect();
            for (&i, r) in inside.iter().zip(largest_remainder(count, &w)) {
                residents[i] = r;
                taken[i] = true;
            }
        }
        if !any_attribute {
            return Err(PopulationError::Districts(format!(
                "no feature of layer `{}` has the attribute `{}`",
                d.layer, d.attribute
            )));
        }
        residents
    } else {
        weights
            .iter()
            .map(|w| (w / cfg.m2_per_resident).round() as u32)
            .collect()
    };
    let f = scenario.edits.population_factor;
    if (f - 1.0).abs() > 1e-12 {
        let total: u64 = places.residents.iter().map(|r| u64::from(*r)).sum();
        let scaled = (total as f64 * f).round() as u64;
        let w: Vec<f64> = places.residents.iter().map(|r| f64::from(*r)).collect();
        places.residents = largest_remainder(scaled, &w);
    }
    for r in &scenario.edits.residents {
        let r = r.get_ref();
        if let Ok(i) = places.feature.binary_search(&FeatureId(r.feature)) {
            places.residents[i] = r.residents;
        }
    }
    Ok(unplaced)
}

fn sample_start(t: &ActivityTiming, rng: &mut ChaCha8Rng) -> f64 {
    if let Some(profile) = &t.start_profile {
        let w = profile.get_ref();
        let total: f64 = w.iter().sum();
        let mut x = rng.random::<f64>() * total;
        for (h, wi) in w.iter().enumerate() {
            x -= wi;
            if x <= 0.0 {
                return (h as f64 + rng.random::<f64>()) * 3600.0;
            }
        }
        return 23.5 * 3600.0;
    }
    normal(t.start_s(), t.start_sd_s(), rng).clamp(0.0, 86_399.0)
}

fn sample_duration(t: &ActivityTiming, rng: &mut ChaCha8Rng) -> f64 {
    normal(t.duration_s(), t.duration_sd_s(), rng).max(300.0)
}

fn normal(mean: f64, sd: f64, rng: &mut ChaCha8Rng) -> f64 {
    match Normal::new(mean, sd.max(0.0)) {
        Ok(n) => n.sample(rng),
        Err(_) => mean,
    }
}

/// Activity chains with their weights.
type WeightedChains = Vec<(Vec<ActKind>, f64)>;

/// Average door-to-door car speed used to plan departures before the traffic is known, m/s (25 km/h).
const PLANNING_CAR_SPEED: f64 = 25.0 / 3.6;

/// Builds the population: places, residents, persons, plans.
///
/// # Errors
/// [`PopulationError`] when the scene has no buildings or the district source is missing.
pub fn synthesize(
    scene: &Scene,
    scenario: &Scenario,
    seed: u64,
    removed: &std::collections::BTreeSet<FeatureId>,
    added: &[(geo_types::Polygon<f64>, u32, String)],
) -> Result<Population, PopulationError> {
    let mut places = places(scene, scenario, removed, added)?;
    let unplaced = place_residents(scene, scenario, &mut places)?;
    let cfg = &scenario.population;
    let jobs = Sampler::new(&places.jobs);
    let schools = Sampler::new(&places.school_places);
    let shops = Sampler::new(&places.shop_weight);
    let leisure = Sampler::new(&places.leisure_weight);
    let chains: Vec<(PersonType, WeightedChains)> = cfg
        .chains
        .iter()
        .map(|(t, v)| {
            (
                *t,
                v.iter()
                    .filter_map(|c| parse_chain(&c.pattern).ok().map(|a| (a, c.share.max(0.0))))
                    .collect(),
            )
        })
        .collect();
    // Person p lives in the place where the running total of residents passes p.
    let mut home_of: Vec<u32> = Vec::new();
    for (i, r) in places.residents.iter().enumerate() {
        home_of.extend(std::iter::repeat_n(i as u32, *r as usize));
    }
    let modes = &scenario.modes;
    let act = &scenario.activities;
    let speed = |m: Mode| match m {
        Mode::Car => PLANNING_CAR_SPEED,
        Mode::Walk => modes.walk_kmh / 3.6,
        Mode::Other => modes.other_kmh / 3.6,
    };
    let plans_per_person: Vec<(PersonType, Vec<Activity>, u32)> = home_of
        .par_iter()
        .enumerate()
        .map(|(p, &home)| {
            let mut rng = rng::rng(seed, Stream::Person, p as u64);
            let u: f64 = rng.random();
            let ptype = if u < cfg.children_share {
                PersonType::Child
            } else if u < cfg.children_share + cfg.retired_share {
                PersonType::Retired
            } else if rng.random::<f64>() < cfg.employment_rate {
                PersonType::Worker
            } else {
                PersonType::Adult
            };
            let driver = ptype != PersonType::Child && rng.random::<f64>() < modes.car_share;
            let options = chains
                .iter()
                .find(|c| c.0 == ptype)
                .map(|c| c.1.as_slice())
                .unwrap_or(&[]);
            let total: f64 = options.iter().map(|o| o.1).sum();
            let mut x = rng.random::<f64>() * total;
            let mut chain: &[ActKind] = &[ActKind::Home];
            for (c, w) in options {
                x -= w;
                if x <= 0.0 {
                    chain = c;
                    break;
                }
            }
            // Places of each activity; the person's workplace and school are fixed for the day.
            let work = jobs
                .as_ref()
                .map(|s| s.draw_near(&places, home, cfg.commute_scale_m, &mut rng));
            let school = schools
                .as_ref()
                .map(|s| s.draw_near(&places, home, cfg.errand_scale_m * 2.0, &mut rng));
            let mut acts: Vec<(ActKind, u32)> = Vec::with_capacity(chain.len());
            let mut dropped = 0u32;
            for &k in chain {
                let from = acts.last().map_or(home, |a| a.1);
                let place = match k {
                    ActKind::Home => Some(home),
                    ActKind::Work => work,
                    ActKind::School => school,
                    ActKind::Shop => shops
                        .as_ref()
                        .map(|s| s.draw_near(&places, from, cfg.errand_scale_m, &mut rng)),
                    ActKind::Leisure => leisure
                        .as_ref()
                        .map(|s| s.draw_near(&places, from, cfg.errand_scale_m, &mut rng)),
                };
                match place {
                    // Two homes in a row (an errand was dropped) merge.
                    Some(pl)
                        if !(k == ActKind::Home
                            && acts.last().is_some_and(|a| a.0 == ActKind::Home)) =>
                    {
                        acts.push((k, pl))
                    }
                    Some(_) => {}
                    None => dropped += 1,
                }
            }
            // Modes and times.
            let n = acts.len();
            let mut out: Vec<Activity> = acts
                .iter()
                .map(|&(kind, place)| Activity {
                    place,
                    kind,
                    end: EndRule::Never,
                    mode: Mode::Walk,
                })
                .collect();
            for i in 0..n.saturating_sub(1) {
                let d = places.distance(out[i].place, out[i + 1].place);
                out[i].mode = if d < modes.walk_below_m {
                    Mode::Walk
                } else if driver {
                    Mode::Car
                } else {
                    Mode::Other
                };
            }
            let travel: Vec<f64> = (0..n.saturating_sub(1))
                .map(|i| {
                    let d = places.distance(out[i].place, out[i + 1].place) * modes.detour_factor;
                    d / speed(out[i].mode)
                })
                .collect();
            // Planned arrival at each activity; fixed activities (work, school) and errands from home start at
            // a drawn time, errands after another activity right after it.
            let mut arrive_prev = 0.0f64;
            for i in 1..n {
                let tt = travel[i - 1];
                let prev_end = match out[i - 1].end {
                    EndRule::At(t) => Some(f64::from(t)),
                    EndRule::After(d) => Some(arrive_prev + f64::from(d)),
                    EndRule::Never => None,
                };
                let timing = match out[i].kind {
                    ActKind::Work => Some(&act.work),
                    ActKind::School => Some(&act.school),
                    ActKind::Shop => Some(&act.shop),
                    ActKind::Leisure => Some(&act.leisure),
                    ActKind::Home => None,
                };
                let fixed = matches!(out[i].kind, ActKind::Work | ActKind::School);
                let prev_home = out[i - 1].kind == ActKind::Home;
                let start = match timing {
                    Some(t) if fixed || prev_home => {
                        let wanted = sample_start(t, &mut rng);
                        let earliest = match prev_end {
                            Some(e) => e + tt,
                            None if i == 1 => tt,
                            // Back home from an activity: at least ten minutes there.
                            None => arrive_prev + 600.0 + tt,
                        };
                        let start = wanted.max(earliest);
                        if prev_end.is_none() {
                            out[i - 1].end = EndRule::At((start - tt).max(0.0).round() as u32);
                        }
                        start
                    }
                    _ => prev_end.unwrap_or(arrive_prev) + tt,
                };
                if let Some(t) = timing {
                    let dur = sample_duration(t, &mut rng);
                    out[i].end = if fixed {
                        EndRule::At((start + dur).round() as u32)
                    } else {
                        EndRule::After(dur.round() as u32)
                    };
                }
                arrive_prev = start;
            }
            if let Some(last) = out.last_mut() {
                last.end = EndRule::Never;
            }
            (ptype, out, dropped)
        })
        .collect();
    let mut plans = Plans {
        person_type: Vec::with_capacity(home_of.len()),
        home: home_of,
        first_act: Vec::with_capacity(plans_per_person.len() + 1),
        acts: Vec::new(),
    };
    let mut dropped = 0u64;
    plans.first_act.push(0);
    for (t, acts, d) in plans_per_person {
        plans.person_type.push(t);
        plans.acts.extend(acts);
        plans.first_act.push(plans.acts.len() as u32);
        dropped += u64::from(d);
    }
    Ok(Population {
        places,
        plans,
        unplaced_residents: unplaced,
        dropped_activities: dropped,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chains_parse() {
        assert_eq!(
            parse_chain("H-W-P-H"),
            Ok(vec![
                ActKind::Home,
                ActKind::Work,
                ActKind::Shop,
                ActKind::Home
            ])
        );
        assert!(parse_chain("W-H").is_err());
        assert!(parse_chain("H-X").is_err());
    }

    #[test]
    fn largest_remainder_keeps_the_total() {
        let r = largest_remainder(10, &[1.0, 1.0, 1.0]);
        assert_eq!(r, vec![4, 3, 3]);
        assert_eq!(
            largest_remainder(7, &[0.0, 2.0, f64::NAN, 5.0])
                .iter()
                .sum::<u32>(),
            7
        );
        assert_eq!(largest_remainder(5, &[0.0, 0.0]), vec![0, 0]);
    }

    #[test]
    fn uses_map_to_categories() {
        assert_eq!(
            category_of_use("apartments"),
            Some(UseCategory::Residential)
        );
        assert_eq!(category_of_use("Office"), Some(UseCategory::Office));
        assert_eq!(category_of_use("garage"), Some(UseCategory::None));
        assert_eq!(category_of_use("yes"), None);
    }

    #[test]
    fn population_is_deterministic_and_plans_are_ordered() {
        let scene = crate::generate::city(400, 3);
        let sc = Scenario::default_day();
        let none = std::collections::BTreeSet::new();
        let a = synthesize(&scene, &sc, 11, &none, &[]).expect("population");
        let b = synthesize(&scene, &sc, 11, &none, &[]).expect("population");
        assert_eq!(a.plans.acts, b.plans.acts);
        assert!(a.plans.persons() > 1000, "{}", a.plans.persons());
        let residents: u64 = a.places.residents.iter().map(|r| u64::from(*r)).sum();
        assert_eq!(residents as usize, a.plans.persons());
        for p in 0..a.plans.persons() {
            let acts = a.plans.of(p);
            assert_eq!(acts[0].kind, ActKind::Home);
            assert_eq!(acts[0].place, a.plans.home[p]);
            assert_eq!(acts.last().map(|x| x.end), Some(EndRule::Never));
            let mut last = 0;
            for x in acts {
                if let EndRule::At(t) = x.end {
                    assert!(t >= last, "person {p}: end times go back");
                    last = t;
                }
            }
        }
        let c = synthesize(&scene, &sc, 12, &none, &[]).expect("population");
        assert_ne!(
            a.plans.acts, c.plans.acts,
            "another seed, another population"
        );
    }
}

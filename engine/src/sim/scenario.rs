//! Scenarios: what a simulation run does, read from TOML.
//!
//! Entry points: [`Scenario::from_file`] / [`Scenario::from_toml`] (parse and check; every error names the file,
//! the line and the key). Scene-dependent checks (layers, road and building ids) happen when the run resolves the
//! edits ([`super::edits`]), again with the line. A parsed scenario holds every default filled in;
//! [`Scenario::to_toml`] writes that resolved form into the run directory.
//!
//! ```toml
//! name = "weekday"
//! start = "00:00"           # times of day; "24:00" and "1d 06:00" work too
//! end = "24:00"
//! step = "15min"            # output step
//!
//! [population]
//! total = 25000             # or districts = { layer = "districts", attribute = "pop" }; neither: floor area
//!
//! [modes]
//! car_share = 0.55
//!
//! [edits]
//! close_roads = [{ name = "Hovinsaarentie" }, { feature = 2301 }, { sumo_edge = "-74057307#3" }]
//! ```
//! See `assets/scenarios/` for complete examples and the README for every key.

use crate::time::{Seconds, SimTime};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use thiserror::Error;
use toml::Spanned;

/// A scenario error: the file, the line, the key and what is wrong.
#[derive(Debug, Error)]
#[error("{path}:{line}: {key}: {message}")]
pub struct ScenarioError {
    /// The scenario file.
    pub path: PathBuf,
    /// 1-based line (0 when no line applies).
    pub line: usize,
    /// The key concerned, dotted (`population.total`), or the source line's text for syntax errors.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

fn d_start() -> Spanned<SimTime> {
    Spanned::new(0..0, SimTime(0))
}
fn d_end() -> Spanned<SimTime> {
    Spanned::new(0..0, SimTime(86_400))
}
fn d_step() -> Spanned<Seconds> {
    Spanned::new(0..0, Seconds(900))
}

/// A whole scenario. Every section has defaults; an empty file simulates a default weekday on the scene.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Name, for reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Random seed (the command line's `--seed` overrides it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// First simulated moment.
    #[serde(default = "d_start")]
    pub start: Spanned<SimTime>,
    /// Last simulated moment.
    #[serde(default = "d_end")]
    pub end: Spanned<SimTime>,
    /// Output step: series values are written every `step`.
    #[serde(default = "d_step")]
    pub step: Spanned<Seconds>,
    /// Who lives and works where.
    #[serde(default)]
    pub population: PopulationConfig,
    /// When activities start and how long they last.
    #[serde(default)]
    pub activities: ActivitiesConfig,
    /// How people travel.
    #[serde(default)]
    pub modes: ModesConfig,
    /// The traffic model's parameters.
    #[serde(default)]
    pub traffic: TrafficConfig,
    /// What-if edits to the scene and the population.
    #[serde(default)]
    pub edits: Edits,
    /// Water and power networks: building demands, service thresholds, events.
    #[serde(default)]
    pub utilities: crate::sim::utilities::config::UtilitiesConfig,
    /// What the run writes.
    #[serde(default)]
    pub output: OutputConfig,
}

/// Where the population comes from.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PopulationConfig {
    /// A total, spread over residential floor area.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<Spanned<u64>>,
    /// Counts per district from a framework layer's attribute, spread over the residential floor area inside.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub districts: Option<Spanned<DistrictSource>>,
    /// Floor area per resident when the population is derived from floor area, m².
    #[serde(default = "d_m2_resident")]
    pub m2_per_resident: f64,
    /// Storey height for buildings without levels, m (floor area = footprint × height ÷ this).
    #[serde(default = "d_storey")]
    pub storey_height_m: f64,
    /// Residential buildings with less floor area hold nobody (sheds, garages), m².
    #[serde(default = "d_min_area")]
    pub min_residential_floor_m2: f64,
    /// Building attribute with the use (default: the use the importer found, e.g. OSM `building=*`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_attribute: Option<String>,
    /// The land-use layer consulted for buildings of unknown use (`building=yes`).
    #[serde(default = "d_landuse")]
    pub landuse_layer: String,
    /// Extra or overriding use → category mappings, e.g. `yes = "residential"`, `kiosk = "retail"`.
    #[serde(default)]
    pub uses: BTreeMap<String, UseCategory>,
    /// Share of residents under 18.
    #[serde(default = "d_children")]
    pub children_share: f64,
    /// Share of residents retired.
    #[serde(default = "d_retired")]
    pub retired_share: f64,
    /// Share of the other adults with a job.
    #[serde(default = "d_employment")]
    pub employment_rate: f64,
    /// Floor area per job, m², by category.
    #[serde(default = "d_m2_job")]
    pub m2_per_job: BTreeMap<UseCategory, f64>,
    /// Floor area per school place, m².
    #[serde(default = "d_m2_pupil")]
    pub m2_per_pupil: f64,
    /// Typical commute length, m: workplaces farther away are chosen less often (exponential decay).
    #[serde(default = "d_commute")]
    pub commute_scale_m: f64,
    /// Typical distance to shops and leisure, m.
    #[serde(default = "d_errand")]
    pub errand_scale_m: f64,
    /// Daily activity chains per person type; each pattern is letters joined by `-`: H home, W work, S school,
    /// P shopping, L leisure. Defaults are given for every type.
    #[serde(default = "d_chains")]
    pub chains: BTreeMap<PersonType, Vec<ChainShare>>,
}

/// A district layer and the attribute with each district's population.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DistrictSource {
    /// A polygon layer of the scene.
    pub layer: String,
    /// Its attribute with the number of residents.
    pub attribute: String,
}

/// What a building is used for, as far as the population model cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UseCategory {
    /// Homes.
    Residential,
    /// Offices.
    Office,
    /// Shops and services: jobs and shopping visits.
    Retail,
    /// Industry and warehouses: jobs.
    Industrial,
    /// Schools: places and jobs.
    Education,
    /// Sports, culture, worship, restaurants: jobs and leisure visits.
    Leisure,
    /// Garages, sheds, roofs: nobody.
    None,
}

/// A kind of person, for activity chains.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PersonType {
    /// Under 18.
    Child,
    /// An adult with a job.
    Worker,
    /// An adult without a job.
    Adult,
    /// Retired.
    Retired,
}

/// One activity chain and its share among persons of a type.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ChainShare {
    /// E.g. `H-W-P-H`.
    pub pattern: String,
    /// Relative weight.
    pub share: f64,
}

fn d_m2_resident() -> f64 {
    45.0
}
fn d_storey() -> f64 {
    3.0
}
fn d_min_area() -> f64 {
    30.0
}
fn d_landuse() -> String {
    "landuse".into()
}
fn d_children() -> f64 {
    0.18
}
fn d_retired() -> f64 {
    0.22
}
fn d_employment() -> f64 {
    0.72
}
fn d_m2_job() -> BTreeMap<UseCategory, f64> {
    [
        (UseCategory::Office, 25.0),
        (UseCategory::Retail, 50.0),
        (UseCategory::Industrial, 100.0),
        (UseCategory::Education, 80.0),
        (UseCategory::Leisure, 100.0),
        (UseCategory::Residential, 1000.0),
    ]
    .into()
}
fn d_m2_pupil() -> f64 {
    10.0
}
fn d_commute() -> f64 {
    4000.0
}
fn d_errand() -> f64 {
    1200.0
}
fn chain(p: &str, s: f64) -> ChainShare {
    ChainShare {
        pattern: p.into(),
        share: s,
    }
}
fn d_chains() -> BTreeMap<PersonType, Vec<ChainShare>> {
    [
        (
            PersonType::Child,
            vec![
                chain("H-S-H", 0.8),
                chain("H-S-H-L-H", 0.1),
                chain("H", 0.1),
            ],
        ),
        (
            PersonType::Worker,
            vec![
                chain("H-W-H", 0.55),
                chain("H-W-P-H", 0.2),
                chain("H-W-H-L-H", 0.1),
                chain("H-P-H", 0.05),
                chain("H", 0.1),
            ],
        ),
        (
            PersonType::Adult,
            vec![
                chain("H-P-H", 0.4),
                chain("H-L-H", 0.25),
                chain("H-P-L-H", 0.1),
                chain("H", 0.25),
            ],
        ),
        (
            PersonType::Retired,
            vec![chain("H-P-H", 0.35), chain("H-L-H", 0.2), chain("H", 0.45)],
        ),
    ]
    .into()
}

impl Default for PopulationConfig {
    fn default() -> Self {
        PopulationConfig {
            total: None,
            districts: None,
            m2_per_resident: d_m2_resident(),
            storey_height_m: d_storey(),
            min_residential_floor_m2: d_min_area(),
            use_attribute: None,
            landuse_layer: d_landuse(),
            uses: BTreeMap::new(),
            children_share: d_children(),
            retired_share: d_retired(),
            employment_rate: d_employment(),
            m2_per_job: d_m2_job(),
            m2_per_pupil: d_m2_pupil(),
            commute_scale_m: d_commute(),
            errand_scale_m: d_errand(),
            chains: d_chains(),
        }
    }
}

/// When an activity starts and how long it lasts: a normal distribution, or an hourly start profile. Fields left
/// out take the activity's defaults.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ActivityTiming {
    /// Mean start time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<SimTime>,
    /// Standard deviation of the start time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_sd: Option<Seconds>,
    /// Relative weights of the start hour (24 values, hour 0 first); replaces `start` and `start_sd`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_profile: Option<Spanned<Vec<f64>>>,
    /// Mean duration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<Seconds>,
    /// Standard deviation of the duration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_sd: Option<Seconds>,
}

impl ActivityTiming {
    fn fill(&mut self, start: u32, start_sd: u32, dur: u32, dur_sd: u32) {
        self.start.get_or_insert(SimTime(start));
        self.start_sd.get_or_insert(Seconds(start_sd));
        self.duration.get_or_insert(Seconds(dur));
        self.duration_sd.get_or_insert(Seconds(dur_sd));
    }

    /// The mean start, s since midnight.
    pub fn start_s(&self) -> f64 {
        f64::from(self.start.unwrap_or_default().0)
    }
    /// The start's standard deviation, s.
    pub fn start_sd_s(&self) -> f64 {
        f64::from(self.start_sd.unwrap_or_default().0)
    }
    /// The mean duration, s.
    pub fn duration_s(&self) -> f64 {
        f64::from(self.duration.unwrap_or_default().0)
    }
    /// The duration's standard deviation, s.
    pub fn duration_sd_s(&self) -> f64 {
        f64::from(self.duration_sd.unwrap_or_default().0)
    }
}

/// Timing of each activity type.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ActivitiesConfig {
    /// Work (W).
    #[serde(default)]
    pub work: ActivityTiming,
    /// School (S).
    #[serde(default)]
    pub school: ActivityTiming,
    /// Shopping and errands (P).
    #[serde(default)]
    pub shop: ActivityTiming,
    /// Leisure (L).
    #[serde(default)]
    pub leisure: ActivityTiming,
}

impl ActivitiesConfig {
    /// Fills what the file left out with the defaults: work 08:00 ± 1 h for 8 ± 1 h; school 08:00 ± 30 min for
    /// 6 ± 1 h; shopping 16:30 ± 2.5 h for 40 ± 20 min; leisure 18:30 ± 2 h for 2 ± 1 h.
    fn fill_defaults(&mut self) {
        self.work.fill(8 * 3600, 3600, 8 * 3600, 3600);
        self.school.fill(8 * 3600, 1800, 6 * 3600, 3600);
        self.shop.fill(16 * 3600 + 1800, 9000, 2400, 1200);
        self.leisure.fill(18 * 3600 + 1800, 7200, 7200, 3600);
    }
}

/// How people travel.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ModesConfig {
    /// Share of persons who drive their day's trips (the rest walk, cycle or ride transit).
    #[serde(default = "d_car_share")]
    pub car_share: f64,
    /// Trips shorter than this (straight line) are walked, m.
    #[serde(default = "d_walk_below")]
    pub walk_below_m: f64,
    /// Walking speed, km/h.
    #[serde(default = "d_walk_kmh")]
    pub walk_kmh: f64,
    /// Door-to-door speed of trips by bicycle or transit, km/h.
    #[serde(default = "d_other_kmh")]
    pub other_kmh: f64,
    /// Route length ÷ straight-line distance for trips off the road network.
    #[serde(default = "d_detour")]
    pub detour_factor: f64,
}

fn d_car_share() -> f64 {
    0.55
}
fn d_walk_below() -> f64 {
    800.0
}
fn d_walk_kmh() -> f64 {
    4.8
}
fn d_other_kmh() -> f64 {
    15.0
}
fn d_detour() -> f64 {
    1.3
}

impl Default for ModesConfig {
    fn default() -> Self {
        ModesConfig {
            car_share: d_car_share(),
            walk_below_m: d_walk_below(),
            walk_kmh: d_walk_kmh(),
            other_kmh: d_other_kmh(),
            detour_factor: d_detour(),
        }
    }
}

/// The traffic model's parameters (see [`crate::sim::traffic`]).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TrafficConfig {
    /// The road layer (default: the first layer with a road network).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<Spanned<String>>,
    /// A vehicle stuck at the head of a queue longer than this is moved on (SUMO's time-to-teleport).
    #[serde(default = "d_stuck")]
    pub stuck_time: Seconds,
    /// Road length one queued vehicle takes, m (vehicle length plus gap).
    #[serde(default = "d_spacing")]
    pub vehicle_spacing_m: f64,
    /// Multiplies every link's flow capacity.
    #[serde(default = "d_one")]
    pub flow_capacity_factor: f64,
    /// Multiplies every link's storage capacity.
    #[serde(default = "d_one")]
    pub storage_capacity_factor: f64,
    /// Standard deviation of each vehicle's speed factor around 1 (SUMO's speedDev; 0: everyone drives the limit).
    #[serde(default)]
    pub speed_factor_sd: f64,
    /// Extra cost of a U-turn in route choice.
    #[serde(default = "d_uturn")]
    pub uturn_penalty: Seconds,
    /// Speed limits, km/h, for roads of a class without a tagged one (class names as OSM `highway=*`).
    #[serde(default)]
    pub speeds_kmh: BTreeMap<String, f32>,
    /// Saturation flow per lane, vehicles per hour, by road class.
    #[serde(default)]
    pub capacity_per_lane: BTreeMap<String, f32>,
}

fn d_stuck() -> Seconds {
    Seconds(300)
}
fn d_spacing() -> f64 {
    7.5
}
fn d_one() -> f64 {
    1.0
}
fn d_uturn() -> Seconds {
    Seconds(60)
}

impl Default for TrafficConfig {
    fn default() -> Self {
        TrafficConfig {
            layer: None,
            stuck_time: d_stuck(),
            vehicle_spacing_m: d_spacing(),
            flow_capacity_factor: 1.0,
            storage_capacity_factor: 1.0,
            speed_factor_sd: 0.0,
            uturn_penalty: d_uturn(),
            speeds_kmh: BTreeMap::new(),
            capacity_per_lane: BTreeMap::new(),
        }
    }
}

/// Selects scene features: exactly one of the fields.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Selector {
    /// A feature id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature: Option<u64>,
    /// An OpenStreetMap way or relation id (attribute `osm_id`; a way split at junctions is every piece).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub osm_id: Option<i64>,
    /// A SUMO edge id (roads imported from a SUMO network).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sumo_edge: Option<String>,
    /// A street name (every road segment with that `name`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A polygon, `[[x, y], ...]` in `edits.crs`: every feature it touches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub polygon: Option<Vec<[f64; 2]>>,
}

/// A building added by a what-if.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NewBuilding {
    /// Footprint, `[[x, y], ...]` in `edits.crs`.
    pub polygon: Vec<[f64; 2]>,
    /// Storeys.
    pub levels: u32,
    /// Use, as an OSM `building=*` value or a category (`apartments`, `office`, `retail`...).
    #[serde(rename = "use")]
    pub usage: String,
}

/// A changed number of residents in one building.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ResidentsChange {
    /// The building.
    pub feature: u64,
    /// Its new number of residents.
    pub residents: u32,
}

/// What-if edits.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Edits {
    /// CRS of the coordinates in polygons (default WGS 84 longitude, latitude).
    #[serde(default = "d_crs")]
    pub crs: String,
    /// Roads closed to cars for the whole run.
    #[serde(default)]
    pub close_roads: Vec<Spanned<Selector>>,
    /// Buildings taken away (their residents and jobs with them).
    #[serde(default)]
    pub remove_buildings: Vec<Spanned<Selector>>,
    /// Buildings added.
    #[serde(default)]
    pub add_buildings: Vec<Spanned<NewBuilding>>,
    /// Multiplies the number of residents everywhere.
    #[serde(default = "d_one")]
    pub population_factor: f64,
    /// Sets the residents of single buildings.
    #[serde(default)]
    pub residents: Vec<Spanned<ResidentsChange>>,
}

fn d_crs() -> String {
    "EPSG:4326".into()
}

impl Default for Edits {
    fn default() -> Self {
        Edits {
            crs: d_crs(),
            close_roads: Vec::new(),
            remove_buildings: Vec::new(),
            add_buildings: Vec::new(),
            population_factor: 1.0,
            residents: Vec::new(),
        }
    }
}

/// What a run writes.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OutputConfig {
    /// Edge of the grid cells of the aggregate table, m.
    #[serde(default = "d_cell")]
    pub cell_size_m: f64,
    /// Grid cells with fewer persons than this are left out (k-anonymity).
    #[serde(default = "d_k")]
    pub k_anonymity: u32,
    /// Write per-person records (the persons table, person ids in the trips table).
    #[serde(default)]
    pub persons: bool,
    /// Write each car trip's route (its link ids).
    #[serde(default = "d_true")]
    pub routes: bool,
}

fn d_cell() -> f64 {
    250.0
}
fn d_k() -> u32 {
    5
}
fn d_true() -> bool {
    true
}

impl Default for OutputConfig {
    fn default() -> Self {
        OutputConfig {
            cell_size_m: d_cell(),
            k_anonymity: d_k(),
            persons: false,
            routes: true,
        }
    }
}

/// Line of byte offset `at` in `text` (1-based).
pub fn line_of(text: &str, at: usize) -> usize {
    text.as_bytes()[..at.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// The text a scenario came from, for error messages that point at lines.
#[derive(Clone, Debug)]
pub struct ScenarioSource {
    /// Path shown in messages.
    pub path: PathBuf,
    /// The TOML text (empty for the default scenario).
    pub text: String,
}

impl ScenarioSource {
    /// An error at the span of a value.
    pub fn error(
        &self,
        span: std::ops::Range<usize>,
        key: &str,
        message: impl Into<String>,
    ) -> ScenarioError {
        ScenarioError {
            path: self.path.clone(),
            line: if self.text.is_empty() {
                0
            } else {
                line_of(&self.text, span.start)
            },
            key: key.to_owned(),
            message: message.into(),
        }
    }
}

type CheckResult = Result<(), ScenarioError>;

impl Scenario {
    /// The default scenario: a weekday for the population derived from floor area.
    pub fn default_day() -> Self {
        // An empty document is a valid scenario: every default applies.
        Self::from_toml(&ScenarioSource {
            path: "(default scenario)".into(),
            text: String::new(),
        })
        .unwrap_or_else(|e| unreachable!("the empty scenario is valid: {e}"))
    }

    /// Reads and checks a scenario file.
    ///
    /// # Errors
    /// [`ScenarioError`] naming the line and key: unreadable file, TOML syntax, unknown key, wrong type,
    /// values out of range, end before start.
    pub fn from_file(path: &Path) -> Result<(Self, ScenarioSource), ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|e| ScenarioError {
            path: path.to_owned(),
            line: 0,
            key: "(file)".into(),
            message: e.to_string(),
        })?;
        let src = ScenarioSource {
            path: path.to_owned(),
            text,
        };
        let s = Self::from_toml(&src)?;
        Ok((s, src))
    }

    /// Parses and checks scenario TOML.
    ///
    /// # Errors
    /// As [`Self::from_file`].
    pub fn from_toml(src: &ScenarioSource) -> Result<Self, ScenarioError> {
        let mut s: Scenario = toml::from_str(&src.text).map_err(|e| {
            let span = e.span().unwrap_or(0..0);
            let line = line_of(&src.text, span.start);
            let source_line = src
                .text
                .lines()
                .nth(line - 1)
                .unwrap_or("")
                .trim()
                .to_owned();
            ScenarioError {
                path: src.path.clone(),
                line,
                key: if source_line.is_empty() {
                    "(document)".into()
                } else {
                    format!("`{source_line}`")
                },
                message: e.message().trim().to_owned(),
            }
        })?;
        s.activities.fill_defaults();
        s.check(src)?;
        Ok(s)
    }

    fn check(&self, src: &ScenarioSource) -> CheckResult {
        let fail = |span: std::ops::Range<usize>, key: &str, msg: String| -> CheckResult {
            Err(src.error(span, key, msg))
        };
        let (start, end, step) = (
            self.start.get_ref(),
            self.end.get_ref(),
            self.step.get_ref(),
        );
        if end <= start {
            return fail(
                self.end.span(),
                "end",
                format!("the end ({end}) must come after the start ({start})"),
            );
        }
        if end.0 - start.0 > 7 * 86_400 {
            return fail(self.end.span(), "end", "a run spans at most 7 days".into());
        }
        if step.0 == 0 || step.0 > 86_400 {
            return fail(
                self.step.span(),
                "step",
                "the step must be between 1 s and 24 h".into(),
            );
        }
        self.check_population(src)?;
        self.check_numbers(src)?;
        self.check_activities()
            .map_err(|(span, key, msg)| src.error(span, &key, msg))?;
        self.utilities
            .check(*start, *end)
            .map_err(|(span, key, msg)| {
                let span = span.unwrap_or_else(|| self.key_span(src, &key));
                src.error(span, &key, msg)
            })?;
        self.check_edits(src)
    }

    fn check_population(&self, src: &ScenarioSource) -> CheckResult {
        let p = &self.population;
        if let (Some(_), Some(d)) = (&p.total, &p.districts) {
            return Err(src.error(
                d.span(),
                "population.districts",
                "give either population.total or population.districts, not both",
            ));
        }
        if p.children_share + p.retired_share > 1.0 {
            let k = "population.retired_share";
            return Err(src.error(
                self.key_span(src, k),
                k,
                "children_share + retired_share exceed 1",
            ));
        }
        for (ty, chains) in &p.chains {
            let key = format!("population.chains.{}", person_type_name(*ty));
            let span = self.key_span(src, &key);
            if chains.is_empty() || chains.iter().all(|c| c.share <= 0.0) {
                return Err(src.error(span, &key, "needs a chain with a positive share"));
            }
            for c in chains {
                if let Err(m) = crate::sim::population::parse_chain(&c.pattern) {
                    return Err(src.error(span, &key, m));
                }
                if !(c.share.is_finite() && c.share >= 0.0) {
                    return Err(src.error(
                        span,
                        &key,
                        format!("share {} is not a weight", c.share),
                    ));
                }
            }
        }
        for (k, v) in &p.m2_per_job {
            if !(v.is_finite() && *v > 0.0) {
                let key = format!("population.m2_per_job.{}", category_name(*k));
                return Err(src.error(
                    self.key_span(src, &key),
                    &key,
                    format!("must be positive, not {v}"),
                ));
            }
        }
        Ok(())
    }

    fn check_numbers(&self, src: &ScenarioSource) -> CheckResult {
        let p = &self.population;
        let (m, t) = (&self.modes, &self.traffic);
        let positive = [
            ("population.m2_per_resident", p.m2_per_resident),
            ("population.storey_height_m", p.storey_height_m),
            ("population.m2_per_pupil", p.m2_per_pupil),
            ("population.commute_scale_m", p.commute_scale_m),
            ("population.errand_scale_m", p.errand_scale_m),
            ("modes.walk_kmh", m.walk_kmh),
            ("modes.other_kmh", m.other_kmh),
            ("traffic.vehicle_spacing_m", t.vehicle_spacing_m),
            ("traffic.flow_capacity_factor", t.flow_capacity_factor),
            ("traffic.storage_capacity_factor", t.storage_capacity_factor),
            ("output.cell_size_m", self.output.cell_size_m),
        ];
        let shares = [
            ("population.children_share", p.children_share),
            ("population.retired_share", p.retired_share),
            ("population.employment_rate", p.employment_rate),
            ("modes.car_share", m.car_share),
        ];
        let nonneg = [
            (
                "population.min_residential_floor_m2",
                p.min_residential_floor_m2,
            ),
            ("modes.walk_below_m", m.walk_below_m),
            ("traffic.speed_factor_sd", t.speed_factor_sd),
            ("edits.population_factor", self.edits.population_factor),
        ];
        let bad = positive
            .iter()
            .find(|(_, v)| !(v.is_finite() && *v > 0.0))
            .map(|(k, v)| (*k, format!("must be a positive number, not {v}")))
            .or_else(|| {
                shares
                    .iter()
                    .find(|(_, v)| !(0.0..=1.0).contains(v))
                    .map(|(k, v)| (*k, format!("must be between 0 and 1, not {v}")))
            })
            .or_else(|| {
                nonneg
                    .iter()
                    .find(|(_, v)| !(v.is_finite() && *v >= 0.0))
                    .map(|(k, v)| (*k, format!("must be zero or more, not {v}")))
            })
            .or_else(|| {
                (!(m.detour_factor.is_finite() && m.detour_factor >= 1.0))
                    .then(|| ("modes.detour_factor", "must be at least 1".to_owned()))
            });
        if let Some((k, msg)) = bad {
            return Err(src.error(self.key_span(src, k), k, msg));
        }
        for (k, map) in [
            ("traffic.speeds_kmh", &t.speeds_kmh),
            ("traffic.capacity_per_lane", &t.capacity_per_lane),
        ] {
            for (class, v) in map {
                let key = format!("{k}.{class}");
                if crate::RoadClass::from_osm(class) == crate::RoadClass::Other && class != "other"
                {
                    return Err(src.error(
                        self.key_span(src, &key),
                        &key,
                        format!("unknown road class `{class}`"),
                    ));
                }
                if !(v.is_finite() && *v > 0.0) {
                    return Err(src.error(
                        self.key_span(src, &key),
                        &key,
                        format!("must be positive, not {v}"),
                    ));
                }
            }
        }
        Ok(())
    }

    fn check_activities(&self) -> Result<(), (std::ops::Range<usize>, String, String)> {
        for (name, a) in [
            ("work", &self.activities.work),
            ("school", &self.activities.school),
            ("shop", &self.activities.shop),
            ("leisure", &self.activities.leisure),
        ] {
            if let Some(prof) = &a.start_profile {
                let v = prof.get_ref();
                let ok = v.len() == 24
                    && v.iter().all(|x| x.is_finite() && *x >= 0.0)
                    && v.iter().sum::<f64>() > 0.0;
                if !ok {
                    return Err((
                        prof.span(),
                        format!("activities.{name}.start_profile"),
                        "needs 24 non-negative hourly weights, not all zero".into(),
                    ));
                }
            }
        }
        Ok(())
    }

    fn check_edits(&self, src: &ScenarioSource) -> CheckResult {
        let e = &self.edits;
        for (key, list) in [
            ("edits.close_roads", &e.close_roads),
            ("edits.remove_buildings", &e.remove_buildings),
        ] {
            for s in list {
                let sel = s.get_ref();
                let n = [
                    sel.feature.is_some(),
                    sel.osm_id.is_some(),
                    sel.sumo_edge.is_some(),
                    sel.name.is_some(),
                    sel.polygon.is_some(),
                ]
                .iter()
                .filter(|b| **b)
                .count();
                if n != 1 {
                    return Err(src.error(
                        s.span(),
                        key,
                        "each selector names exactly one of feature, osm_id, sumo_edge, name, polygon",
                    ));
                }
                if let Some(p) = &sel.polygon {
                    if p.len() < 3 || p.iter().flatten().any(|c| !c.is_finite()) {
                        return Err(src.error(
                            s.span(),
                            key,
                            "a polygon needs 3 or more finite points",
                        ));
                    }
                }
            }
        }
        for b in &e.add_buildings {
            let nb = b.get_ref();
            if nb.polygon.len() < 3 || nb.polygon.iter().flatten().any(|c| !c.is_finite()) {
                return Err(src.error(
                    b.span(),
                    "edits.add_buildings",
                    "a footprint needs 3 or more finite points",
                ));
            }
            if nb.levels == 0 || nb.levels > 200 {
                return Err(src.error(
                    b.span(),
                    "edits.add_buildings",
                    format!("levels {} is not 1..=200", nb.levels),
                ));
            }
        }
        if let Err(err) = crate::crs::describe(&e.crs) {
            return Err(src.error(
                self.key_span(src, "edits.crs"),
                "edits.crs",
                err.to_string(),
            ));
        }
        Ok(())
    }

    /// The span of a dotted key in the source, best effort: the line where its last part is assigned within its
    /// table (`[a.b]` then `c = ...` for `a.b.c`), else the table's header line.
    fn key_span(&self, src: &ScenarioSource, dotted: &str) -> std::ops::Range<usize> {
        let (section, last) = match dotted.rsplit_once('.') {
            Some((s, l)) => (Some(s), l),
            None => (None, dotted),
        };
        let mut in_section = section.is_none();
        let mut header: Option<std::ops::Range<usize>> = None;
        let mut offset = 0;
        for line in src.text.split_inclusive('\n') {
            let t = line.trim();
            if t.starts_with('[') {
                let name = t.trim_matches(|c| c == '[' || c == ']').trim();
                in_section = section.is_some_and(|s| s == name);
                let parent =
                    section.is_some_and(|s| s.starts_with(&format!("{name}.")) || s == name);
                if parent && header.is_none() {
                    header = Some(offset..offset + line.len());
                }
            } else if in_section
                && t.split(['=', ' '])
                    .next()
                    .is_some_and(|k| k.trim_matches('"') == last)
            {
                return offset..offset + line.len();
            }
            offset += line.len();
        }
        header.unwrap_or(0..0)
    }

    /// The resolved scenario as TOML, every default written out.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self)
            .unwrap_or_else(|e| format!("# cannot write the scenario: {e}\n"))
    }

    /// Sets the end (the command line's `--end`); the caller checks it comes after the start.
    pub fn set_end(&mut self, end: SimTime) {
        self.end = Spanned::new(0..0, end);
    }

    /// The output step times: `start`, `start + step`, ... and `end`.
    pub fn step_times(&self) -> Vec<SimTime> {
        let (s, e, d) = (
            self.start.get_ref().0,
            self.end.get_ref().0,
            self.step.get_ref().0,
        );
        let mut v: Vec<SimTime> = (s..e).step_by(d.max(1) as usize).map(SimTime).collect();
        v.push(SimTime(e));
        v
    }
}

/// The TOML name of a person type.
pub fn person_type_name(t: PersonType) -> &'static str {
    match t {
        PersonType::Child => "child",
        PersonType::Worker => "worker",
        PersonType::Adult => "adult",
        PersonType::Retired => "retired",
    }
}

/// The TOML name of a use category.
pub fn category_name(c: UseCategory) -> &'static str {
    match c {
        UseCategory::Residential => "residential",
        UseCategory::Office => "office",
        UseCategory::Retail => "retail",
        UseCategory::Industrial => "industrial",
        UseCategory::Education => "education",
        UseCategory::Leisure => "leisure",
        UseCategory::None => "none",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Scenario, ScenarioError> {
        Scenario::from_toml(&ScenarioSource {
            path: "s.toml".into(),
            text: text.into(),
        })
    }

    #[test]
    fn defaults_and_round_trip() {
        let s = parse("").expect("empty is valid");
        assert_eq!(*s.end.get_ref(), SimTime(86_400));
        assert_eq!(s.step_times().len(), 97);
        assert_eq!(s.activities.work.start, Some(SimTime(8 * 3600)));
        let back = parse(&s.to_toml()).expect("the resolved form parses");
        assert_eq!(back.to_toml(), s.to_toml());
        let s = parse("start = \"07:00\"\nend = \"08:00\"\nstep = \"25min\"\n[activities.work]\nstart = \"07:30\"\n")
            .expect("valid");
        let t: Vec<u32> = s.step_times().iter().map(|t| t.0).collect();
        assert_eq!(t, vec![25_200, 26_700, 28_200, 28_800]);
        assert_eq!(s.activities.work.start, Some(SimTime(27_000)));
        assert_eq!(
            s.activities.work.duration,
            Some(Seconds(8 * 3600)),
            "others default"
        );
    }

    #[test]
    fn errors_name_the_line_and_key() {
        let e = parse("name = \"x\"\n\n[population]\ntotal = 100\nbogus = 3\n")
            .expect_err("unknown key");
        assert_eq!(e.line, 5, "{e}");
        assert!(e.to_string().contains("bogus"), "{e}");

        let e = parse("[population]\ntotal = \"many\"\n").expect_err("wrong type");
        assert_eq!(e.line, 2, "{e}");
        assert!(e.to_string().contains("total"), "{e}");

        let e = parse("start = \"08:00\"\nend = \"07:00\"\n").expect_err("end before start");
        assert_eq!((e.line, e.key.as_str()), (2, "end"), "{e}");

        let e = parse("[modes]\nwalk_kmh = 4\ncar_share = 1.5\n").expect_err("share");
        assert_eq!((e.line, e.key.as_str()), (3, "modes.car_share"), "{e}");

        let e = parse("[edits]\nclose_roads = [\n  { feature = 3, name = \"A\" },\n]\n")
            .expect_err("two selectors");
        assert_eq!(e.line, 3, "{e}");

        let e = parse("step = \"15 parsecs\"\n").expect_err("bad span");
        assert_eq!(e.line, 1, "{e}");
        assert!(e.to_string().contains("parsecs"), "{e}");

        let e = parse("[population.chains]\nworker = [{ pattern = \"H-X-H\", share = 1.0 }]\n")
            .expect_err("chain");
        assert!(e.to_string().contains("population.chains.worker"), "{e}");
        assert_eq!(e.line, 2, "{e}");

        let e = parse("[traffic.speeds_kmh]\nresidental = 40\n").expect_err("class");
        assert_eq!(e.line, 2, "{e}");
        assert!(e.to_string().contains("residental"), "{e}");
    }
}

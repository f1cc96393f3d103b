//! Command-line arguments (clap derive).

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// citytwin: one city model from many GIS files — import, inspect, query, export.
#[derive(Debug, Parser)]
#[command(name = "citytwin", version, about, propagate_version = true)]
pub struct Cli {
    /// More log output (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// The task.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands, one per user task.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Import GIS files (OSM PBF, GeoJSON, Shapefile, GeoPackage, FlatGeobuf, CityJSON, GeoTIFF...) into a scene.
    Import(ImportArgs),
    /// Describe a scene: CRS, origin, layers, feature counts, bounding boxes, skipped features and why.
    Info(InfoArgs),
    /// Find features by bounding box, nearest neighbours or point.
    Query(QueryArgs),
    /// Write a layer to GeoPackage (.gpkg), FlatGeobuf (.fgb), GeoJSON (.geojson) or Shapefile (.shp).
    Export(ExportArgs),
    /// Generate a synthetic city (a street grid with N buildings) for benchmarks, seeded.
    Generate(GenerateArgs),
    /// Render a scene to a PNG without a window (planning-review screenshots).
    Render(RenderArgs),
    /// Open the 3D viewer window.
    View(ViewArgs),
    /// Simulate a day: a synthetic population and its traffic (or SUMO/CSV trips) on the scene's roads.
    Simulate(SimulateArgs),
    /// Compare two runs: KPI deltas, and per-link and per-building differences written to Parquet.
    Compare(CompareArgs),
    /// Solve an EPANET water network (.inp) over time, as EPANET's own runner does; results as CSV.
    Water(WaterArgs),
    /// Solve a pandapower network's AC power flow, as pandapower's runpp does; result tables as CSV.
    Power(PowerArgs),
}

/// `citytwin water`.
#[derive(Debug, Args)]
pub struct WaterArgs {
    /// The EPANET input file.
    pub input: PathBuf,
    /// Directory for node_head_m.csv, node_pressure_m.csv, node_demand_m3s.csv and link_flow_m3s.csv.
    #[arg(long, short)]
    pub out: PathBuf,
    /// Simulated duration (overrides the file's [TIMES] DURATION), e.g. 24h.
    #[arg(long)]
    pub duration: Option<String>,
    /// Report step (overrides the file's REPORT TIMESTEP), e.g. 1h.
    #[arg(long)]
    pub report_step: Option<String>,
    /// Replace result files in an existing directory.
    #[arg(long)]
    pub force: bool,
}

/// `citytwin power`.
#[derive(Debug, Args)]
pub struct PowerArgs {
    /// The pandapower network (JSON from pandapower.to_json).
    pub input: PathBuf,
    /// Directory for res_bus.csv, res_line.csv, res_trafo.csv (and res_ext_grid, res_load, res_sgen, res_gen).
    #[arg(long, short)]
    pub out: PathBuf,
    /// Replace result files in an existing directory.
    #[arg(long)]
    pub force: bool,
}

/// `citytwin simulate`.
#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// The scene file.
    pub scene: PathBuf,
    /// The scenario (TOML); default: a weekday for the population derived from floor area.
    #[arg(long)]
    pub scenario: Option<PathBuf>,
    /// Trips instead of the population: SUMO trips.xml or rou.xml, or CSV (id,depart,from,to[,route]).
    #[arg(long)]
    pub trips: Option<PathBuf>,
    /// The run directory to write.
    #[arg(long, short)]
    pub out: PathBuf,
    /// Replace an existing run directory.
    #[arg(long)]
    pub force: bool,
    /// Random seed (default: the scenario's, else 42).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Worker threads (default: all cores). Results are the same for any number.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
    /// End of the run: a time of day (08:00) or a span from the start (1h); overrides the scenario's end.
    #[arg(long)]
    pub end: Option<String>,
}

/// `citytwin compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The base run directory.
    pub base: PathBuf,
    /// The run to compare with it.
    pub other: PathBuf,
    /// Directory for link_diff.parquet and building_diff.parquet (default: compare-BASE-vs-OTHER).
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `citytwin view`.
#[derive(Debug, Args)]
pub struct ViewArgs {
    /// The scene file.
    pub scene: PathBuf,
    /// A simulation run of this scene to play on the time slider.
    #[arg(long)]
    pub run: Option<PathBuf>,
    /// Close after N frames once the scene is shown (smoke tests, CI).
    #[arg(long)]
    pub exit_after_frames: Option<u64>,
}

/// `citytwin render`.
#[derive(Debug, Args)]
pub struct RenderArgs {
    /// The scene file.
    pub scene: PathBuf,
    /// Output PNG.
    #[arg(long, short)]
    pub out: PathBuf,
    /// Image size, WIDTHxHEIGHT.
    #[arg(long, default_value = "1920x1080", value_parser = parse_size)]
    pub size: (u32, u32),
    /// A camera saved with the scene.
    #[arg(long, conflicts_with = "camera")]
    pub bookmark: Option<String>,
    /// Eye at LON,LAT,ALT (WGS 84, metres), looking along HEADING (° from north) and PITCH (° below the horizon).
    #[arg(long, value_parser = parse_floats::<5>, allow_hyphen_values = true)]
    pub camera: Option<[f64; 5]>,
    /// Only these layers (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub layers: Vec<String>,
    /// Colour by: layer, height, use, or an attribute name.
    #[arg(long, default_value = "layer")]
    pub color_by: String,
    /// Save the camera used as a bookmark of this name in the scene.
    #[arg(long)]
    pub save_bookmark: Option<String>,
    /// Leave out the legend and caption.
    #[arg(long)]
    pub no_legend: bool,
    /// A simulation run of this scene, for --time and simulated --color-by quantities.
    #[arg(long)]
    pub run: Option<PathBuf>,
    /// The moment of the run to draw (HH:MM; default: the run's start).
    #[arg(long, requires = "run")]
    pub time: Option<String>,
}

fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let (w, h) = s
        .split_once(['x', 'X'])
        .ok_or("expected WIDTHxHEIGHT, e.g. 1920x1080")?;
    let p = |v: &str| {
        v.trim()
            .parse::<u32>()
            .map_err(|_| format!("`{v}` is not a pixel count"))
    };
    let (w, h) = (p(w)?, p(h)?);
    if !(1..=8192).contains(&w) || !(1..=8192).contains(&h) {
        return Err("each side must be 1..=8192 pixels".into());
    }
    Ok((w, h))
}

/// `citytwin import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Input files.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// The scene file to write.
    #[arg(long, short)]
    pub out: PathBuf,
    /// Add to an existing scene instead of creating one.
    #[arg(long, conflicts_with = "force")]
    pub append: bool,
    /// Overwrite an existing scene file.
    #[arg(long)]
    pub force: bool,
    /// Replace layers of the same name when appending.
    #[arg(long, requires = "append")]
    pub replace: bool,
    /// Scene CRS for a new scene (projected, metres), e.g. EPSG:3067; default: the UTM zone of the data.
    #[arg(long)]
    pub crs: Option<String>,
    /// CRS of the inputs, overriding or supplying the files' own (e.g. EPSG:25832).
    #[arg(long)]
    pub src_crs: Option<String>,
    /// Layer kind: buildings, framework or infrastructure (default: detected).
    #[arg(long, value_parser = parse_kind)]
    pub kind: Option<citytwin_engine::LayerKind>,
    /// Layer name (default: from the file or source layer; OSM layers get it as a prefix).
    #[arg(long)]
    pub layer: Option<String>,
    /// Attribute with building heights in metres.
    #[arg(long)]
    pub height_attr: Option<String>,
    /// Attribute with the number of storeys.
    #[arg(long)]
    pub levels_attr: Option<String>,
    /// Attribute with the building use.
    #[arg(long)]
    pub use_attr: Option<String>,
    /// Metres per storey when height comes from levels.
    #[arg(long, default_value_t = 3.0, value_parser = positive_metres)]
    pub storey_height: f64,
    /// Height of buildings without height information, metres.
    #[arg(long, default_value_t = 9.0, value_parser = positive_metres)]
    pub default_height: f64,
    /// Scale the inputs' coordinates before their CRS applies, SX,SY or S (schematic networks, local drawings).
    #[arg(long, value_parser = parse_pair)]
    pub scale: Option<[f64; 2]>,
    /// Then add this offset, X,Y in the CRS's units (e.g. to place an EPANET example under a city).
    #[arg(long, value_parser = parse_pair, allow_hyphen_values = true)]
    pub offset: Option<[f64; 2]>,
    /// Most cells a terrain keeps; a larger raster is averaged down as it is read.
    #[arg(long, default_value_t = citytwin_importers::DEFAULT_MAX_TERRAIN_CELLS, value_parser = at_least_one)]
    pub max_terrain_cells: usize,
}

/// `X,Y` or a single number used for both.
fn parse_pair(s: &str) -> Result<[f64; 2], String> {
    let num = |t: &str| {
        t.trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| format!("`{t}` is not a number"))
    };
    match s.split_once(',') {
        Some((a, b)) => Ok([num(a)?, num(b)?]),
        None => {
            let v = num(s)?;
            Ok([v, v])
        }
    }
}

fn parse_kind(s: &str) -> Result<citytwin_engine::LayerKind, String> {
    citytwin_engine::LayerKind::parse(s)
        .ok_or_else(|| format!("unknown kind `{s}` (buildings, framework, infrastructure)"))
}

/// `citytwin info`.
#[derive(Debug, Args)]
pub struct InfoArgs {
    /// The scene file.
    pub scene: PathBuf,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `citytwin query`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["bbox", "nearest", "point"])))]
pub struct QueryArgs {
    /// The scene file.
    pub scene: PathBuf,
    /// Features intersecting MINX,MINY,MAXX,MAXY.
    #[arg(long, value_parser = parse_floats::<4>, allow_hyphen_values = true)]
    pub bbox: Option<[f64; 4]>,
    /// The K features nearest to X,Y.
    #[arg(long, value_parser = parse_floats::<2>, allow_hyphen_values = true)]
    pub nearest: Option<[f64; 2]>,
    /// Features at X,Y (containing it, or within --tolerance metres).
    #[arg(long, value_parser = parse_floats::<2>, allow_hyphen_values = true)]
    pub point: Option<[f64; 2]>,
    /// CRS of the query coordinates (default: the scene CRS).
    #[arg(long)]
    pub crs: Option<String>,
    /// Only these layers (repeat or comma-separate).
    #[arg(long, value_delimiter = ',')]
    pub layer: Vec<String>,
    /// How many nearest features.
    #[arg(long, default_value_t = 5)]
    pub k: usize,
    /// Pick tolerance for --point, metres.
    #[arg(long, default_value_t = 0.5, value_parser = non_negative_metres)]
    pub tolerance: f64,
    /// Print at most this many results (all with --json unless given).
    #[arg(long, value_parser = at_least_one)]
    pub limit: Option<usize>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// A length in metres that must be a finite number above zero (a storey height, a default height).
fn positive_metres(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v < 10_000.0 => Ok(v),
        Ok(_) => Err(format!(
            "`{s}` must be a number of metres above 0 and below 10000"
        )),
        Err(_) => Err(format!("`{s}` is not a number")),
    }
}

/// A distance in metres that must be finite and not negative (a tolerance).
fn non_negative_metres(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        Ok(_) => Err(format!(
            "`{s}` must be a finite number of metres, 0 or more"
        )),
        Err(_) => Err(format!("`{s}` is not a number")),
    }
}

/// A count of at least one (`--limit 0` would print nothing, or silently everything).
fn at_least_one(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(0) => Err("must be at least 1 (leave the option out for no limit)".into()),
        Ok(v) => Ok(v),
        Err(_) => Err(format!("`{s}` is not a whole number")),
    }
}

fn parse_floats<const N: usize>(s: &str) -> Result<[f64; N], String> {
    let v: Vec<f64> = s
        .split(',')
        .map(|p| {
            p.trim()
                .parse::<f64>()
                .map_err(|_| format!("`{p}` is not a number"))
        })
        .collect::<Result<_, _>>()?;
    let arr: [f64; N] = v
        .try_into()
        .map_err(|_| format!("expected {N} comma-separated numbers"))?;
    if arr.iter().any(|x| !x.is_finite()) {
        return Err("coordinates must be finite".into());
    }
    Ok(arr)
}

/// `citytwin export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The scene file.
    pub scene: PathBuf,
    /// The layer to export.
    #[arg(long)]
    pub layer: String,
    /// Output file; the format follows the extension.
    #[arg(long, short)]
    pub out: PathBuf,
    /// Output CRS (default: the scene CRS; EPSG:4326 for GeoJSON).
    #[arg(long)]
    pub crs: Option<String>,
    /// Replace an existing output file.
    #[arg(long)]
    pub force: bool,
}

/// `citytwin generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Number of buildings (at most 20,000,000: a 1M-building city is a ~0.5 GB scene).
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..=20_000_000))]
    pub buildings: u64,
    /// Random seed.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// The scene file to write.
    #[arg(long, short)]
    pub out: PathBuf,
}

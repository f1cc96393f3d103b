//! One module per subcommand.

mod compare;
mod export;
mod generate;
mod import;
mod info;
mod power;
mod query;
mod render;
mod results_dir;
mod simulate;
mod view;
mod water;

use crate::cli::Command;
use anyhow::Result;
use citytwin_engine::Scene;
use indicatif::{ProgressBar, ProgressStyle};
use std::path::Path;

/// Runs a subcommand.
pub fn run(cmd: Command) -> Result<()> {
    match cmd {
        Command::Import(a) => import::run(a),
        Command::Info(a) => info::run(a),
        Command::Query(a) => query::run(a),
        Command::Export(a) => export::run(a),
        Command::Generate(a) => generate::run(a),
        Command::Render(a) => render::run(a),
        Command::View(a) => view::run(a),
        Command::Simulate(a) => simulate::run(a),
        Command::Compare(a) => compare::run(a),
        Command::Water(a) => water::run(a),
        Command::Power(a) => power::run(a),
    }
}

/// Loads a scene (the error names the file).
pub fn load(path: &Path) -> Result<Scene> {
    Ok(citytwin_engine::store::load(path)?)
}

/// A progress bar on stderr (drawn only on a terminal).
pub fn progress(prefix: &str) -> ProgressBar {
    let pb = ProgressBar::new(0);
    let style =
        ProgressStyle::with_template("{prefix:.bold} {msg} [{bar:30}] {bytes_or_pos} {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
    pb.set_style(style);
    pb.set_prefix(prefix.to_owned());
    pb
}

/// Local bbox → absolute scene-CRS bbox.
pub fn absolute_bbox(scene: &Scene, b: [f64; 4]) -> [f64; 4] {
    let [ox, oy] = scene.frame.origin;
    [b[0] + ox, b[1] + oy, b[2] + ox, b[3] + oy]
}

/// Local bbox → WGS 84 lon/lat bbox (corners and edge midpoints transformed).
pub fn wgs84_bbox(scene: &Scene, b: [f64; 4]) -> Option<[f64; 4]> {
    let tf = scene.frame.from_local("EPSG:4326").ok()?;
    let mut pts = vec![];
    for i in 0..=4 {
        let s = i as f64 / 4.0;
        let x = b[0] + s * (b[2] - b[0]);
        let y = b[1] + s * (b[3] - b[1]);
        pts.extend([(x, b[1]), (x, b[3]), (b[0], y), (b[2], y)]);
    }
    tf.apply(&mut pts).ok()?;
    // Across the antimeridian the box is written as RFC 7946 does, west edge > east edge.
    let (west, east) = citytwin_engine::crs::lon_range(pts.iter().map(|p| p.0))?;
    let (south, north) = pts
        .iter()
        .fold((f64::MAX, f64::MIN), |(s, n), p| (s.min(p.1), n.max(p.1)));
    Some([west, south, east, north])
}

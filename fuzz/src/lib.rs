//! Seeded mutation fuzzing of every citytwin parser, on the stable toolchain.
//!
//! Each [`Target`] is a parser and what is done with what it accepts (an imported layer is brought into a
//! scene, saved, loaded and queried). Inputs are real sample files from `fuzz/corpus/<target>/`, mutated by
//! [`mutate`]: bit flips, interesting bytes, deleted, duplicated and spliced ranges, truncation, hostile
//! tokens (`-1e308`, `NaN`, huge counts). A run is deterministic for its seed. The contract checked is the
//! project's: bad input gives an error, never a panic. Inputs that once panicked live in
//! `fuzz/regressions/<target>/` and are replayed by the tests.
//!
//! Short run: `cargo test -p citytwin-fuzz` (part of CI). Long run:
//! `cargo run -p citytwin-fuzz --release -- --iterations 200000 --seed 7`.

use citytwin_engine::sim::scenario::{Scenario, ScenarioSource};
use citytwin_engine::{spatial, store, Scene, SceneFrame};
use citytwin_importers::ImportOptions;
use indicatif::ProgressBar;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

/// A parser under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// OpenStreetMap PBF.
    Osm,
    /// GeoJSON.
    GeoJson,
    /// CityJSON.
    CityJson,
    /// Formats read through GDAL (FlatGeobuf, GeoTIFF).
    Gdal,
    /// The scene file.
    Scene,
    /// EPANET input.
    Epanet,
    /// pandapower JSON.
    Pandapower,
    /// SUMO network XML.
    Sumo,
    /// Scenario TOML.
    Scenario,
}

impl Target {
    /// Every target.
    pub const ALL: [Target; 9] = [
        Target::Osm,
        Target::GeoJson,
        Target::CityJson,
        Target::Gdal,
        Target::Scene,
        Target::Epanet,
        Target::Pandapower,
        Target::Sumo,
        Target::Scenario,
    ];

    /// Its name: the corpus folder and the command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Target::Osm => "osm",
            Target::GeoJson => "geojson",
            Target::CityJson => "cityjson",
            Target::Gdal => "gdal",
            Target::Scene => "scene",
            Target::Epanet => "epanet",
            Target::Pandapower => "pandapower",
            Target::Sumo => "sumo",
            Target::Scenario => "scenario",
        }
    }

    /// The target of a name.
    pub fn parse(name: &str) -> Option<Target> {
        Target::ALL.into_iter().find(|t| t.name() == name)
    }
}

/// A sample input: its file name (the extension matters to format detection) and bytes.
#[derive(Clone, Debug)]
pub struct Seed {
    /// File name.
    pub name: String,
    /// Content.
    pub bytes: Vec<u8>,
}

/// The files of a folder, sorted by name (so that runs are reproducible).
///
/// # Errors
/// When the folder cannot be read.
pub fn read_dir_sorted(dir: &Path) -> std::io::Result<Vec<Seed>> {
    let mut out = Vec::new();
    if !dir.exists() {
        return Ok(out);
    }
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        if e.file_type()?.is_file() {
            out.push(Seed {
                name: e.file_name().to_string_lossy().into_owned(),
                bytes: std::fs::read(e.path())?,
            });
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// The fuzz crate's folder.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The seed corpus of a target.
///
/// # Errors
/// When the corpus cannot be read.
pub fn corpus(t: Target) -> std::io::Result<Vec<Seed>> {
    read_dir_sorted(&root().join("corpus").join(t.name()))
}

/// Inputs that once failed, replayed by the tests.
///
/// # Errors
/// When the folder cannot be read.
pub fn regressions(t: Target) -> std::io::Result<Vec<Seed>> {
    read_dir_sorted(&root().join("regressions").join(t.name()))
}

const TOKENS: &[&[u8]] = &[
    b"-1e308",
    b"1e999",
    b"NaN",
    b"inf",
    b"-0",
    b"18446744073709551615",
    b"-9223372036854775808",
    b"4294967295",
    b"\"\"",
    b"[]",
    b"{}",
    b"null",
    b"[[[",
    b"]]]",
    b",",
    b"\x00",
    b"\xff\xfe",
    b"\n[",
    b"<",
    b"/>",
    b"=",
    b";",
];

const BYTES: &[u8] = &[
    0, 1, 0x7f, 0x80, 0xff, b'[', b'{', b'"', b'-', b'9', b'\n', b'.', b'e',
];

/// A random position in `0..=len`.
fn pos(rng: &mut ChaCha8Rng, len: usize) -> usize {
    rng.random_range(0..=len)
}

/// Mutates `input` in place with one to four random edits; `others` are other samples of the same format to
/// splice from.
pub fn mutate(input: &mut Vec<u8>, others: &[Seed], rng: &mut ChaCha8Rng) {
    let edits = rng.random_range(1..=4);
    for _ in 0..edits {
        let len = input.len();
        match rng.random_range(0..8) {
            0 if len > 0 => {
                let i = rng.random_range(0..len);
                input[i] ^= 1 << rng.random_range(0..8);
            }
            1 if len > 0 => {
                let i = rng.random_range(0..len);
                input[i] = BYTES[rng.random_range(0..BYTES.len())];
            }
            2 if len > 0 => {
                let a = rng.random_range(0..len);
                let b = (a + rng.random_range(1..=64)).min(len);
                input.drain(a..b);
            }
            3 if len > 0 => {
                let a = rng.random_range(0..len);
                let b = (a + rng.random_range(1..=256)).min(len);
                let chunk = input[a..b].to_vec();
                let at = pos(rng, len);
                input.splice(at..at, chunk);
            }
            4 if len > 0 => input.truncate(rng.random_range(0..len)),
            5 => {
                let t = TOKENS[rng.random_range(0..TOKENS.len())];
                let at = pos(rng, len);
                input.splice(at..at, t.iter().copied());
            }
            6 if !others.is_empty() => {
                let o = &others[rng.random_range(0..others.len())].bytes;
                if !o.is_empty() && len > 0 {
                    let a = rng.random_range(0..o.len());
                    let b = (a + rng.random_range(1..=512)).min(o.len());
                    let at = rng.random_range(0..len);
                    let end = (at + rng.random_range(0..=512)).min(len);
                    input.splice(at..end, o[a..b].iter().copied());
                }
            }
            _ => {
                // Replace a run of digits (a number in a text format) by a hostile token.
                if len > 0 {
                    let start = rng.random_range(0..len);
                    if let Some(i) = input[start..].iter().position(u8::is_ascii_digit) {
                        let a = start + i;
                        let b = a + input[a..].iter().take_while(|c| c.is_ascii_digit()).count();
                        let t = TOKENS[rng.random_range(0..7)];
                        input.splice(a..b, t.iter().copied());
                    }
                }
            }
        }
    }
}

/// Queries every layer of a scene the ways the CLI does.
fn exercise(scene: &Scene) {
    let Some(b) = scene.bbox() else { return };
    let rect = geo_rect(b);
    let centre = [(b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0];
    for l in &scene.layers {
        let _ = spatial::query_rect(l, rect);
        let _ = spatial::nearest(l, centre, 3);
        let _ = spatial::pick(l, centre, 1.0);
        if let Some(n) = &l.network {
            let _ = n.connected_components();
            let _ = n.links().id_count();
        }
    }
}

fn geo_rect(b: [f64; 4]) -> geo_types::Rect<f64> {
    geo_types::Rect::new((b[0], b[1]), (b[2], b[3]))
}

/// Runs one input through a target. `dir` is a scratch folder for the file an importer reads.
/// Returns the error text when the input is refused (the expected outcome for most mutants).
pub fn run_one(t: Target, name: &str, bytes: &[u8], dir: &Path) -> Result<(), String> {
    match t {
        Target::Scene => {
            let scene = store::decode(bytes, Path::new(name)).map_err(|e| e.to_string())?;
            exercise(&scene);
            Ok(())
        }
        Target::Scenario => {
            let src = ScenarioSource {
                path: PathBuf::from(name),
                text: String::from_utf8_lossy(bytes).into_owned(),
            };
            Scenario::from_toml(&src)
                .map(|_| ())
                .map_err(|e| e.to_string())
        }
        _ => {
            let path = dir.join(name);
            std::fs::write(&path, bytes).map_err(|e| e.to_string())?;
            // EPANET and pandapower files carry no CRS: a projected one is given, as a user would.
            let opts = ImportOptions {
                src_crs: matches!(t, Target::Epanet | Target::Pandapower)
                    .then(|| "EPSG:3067".to_owned()),
                ..ImportOptions::default()
            };
            let layers = citytwin_importers::import(&path, &opts, &ProgressBar::hidden())
                .map_err(|e| e.to_string())?;
            let mut scene: Option<Scene> = None;
            for layer in layers {
                if scene.is_none() {
                    let Some(frame) =
                        SceneFrame::for_layer(&layer, None).map_err(|e| e.to_string())?
                    else {
                        continue;
                    };
                    scene = Some(Scene::new(frame));
                }
                if let Some(s) = scene.as_mut() {
                    s.ingest(layer, true).map_err(|e| e.to_string())?;
                }
            }
            if let Some(s) = scene {
                // What was accepted survives the store, and is queryable.
                let file = dir.join("fuzz.twin");
                store::save(&s, &file).map_err(|e| e.to_string())?;
                let back = store::load(&file).map_err(|e| format!("reloading: {e}"))?;
                exercise(&back);
            }
            Ok(())
        }
    }
}

/// An input that made a target panic.
#[derive(Clone, Debug)]
pub struct Find {
    /// The target.
    pub target: Target,
    /// The input's file name (its seed's).
    pub name: String,
    /// The input.
    pub bytes: Vec<u8>,
    /// The panic message.
    pub message: String,
}

/// Runs `t` on `input`, turning a panic into a [`Find`].
pub fn check(t: Target, input: &Seed, dir: &Path) -> Option<Find> {
    let r = catch_unwind(AssertUnwindSafe(|| {
        run_one(t, &input.name, &input.bytes, dir)
    }));
    r.err().map(|p| Find {
        target: t,
        name: input.name.clone(),
        bytes: input.bytes.clone(),
        message: p
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".into()),
    })
}

/// Fuzzes `t` for `iterations` mutants of its corpus, deterministically for `seed`. Returns what panicked.
///
/// # Errors
/// When the corpus or the scratch folder cannot be read or made.
/// With `last`, each input is written there before it runs (and the file removed at the end), so that an input
/// that aborts the process (an allocation failure, a crash in a C library) is not lost.
pub fn fuzz(
    t: Target,
    iterations: u64,
    seed: u64,
    progress: &ProgressBar,
    last: Option<&Path>,
) -> std::io::Result<Vec<Find>> {
    let seeds = corpus(t)?;
    let dir = tempfile::tempdir()?;
    let mut finds = Vec::new();
    if seeds.is_empty() {
        return Ok(finds);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ (t as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    for _ in 0..iterations {
        let s = &seeds[rng.random_range(0..seeds.len())];
        let mut bytes = s.bytes.clone();
        mutate(&mut bytes, &seeds, &mut rng);
        let input = Seed {
            name: s.name.clone(),
            bytes,
        };
        if let Some(p) = last {
            std::fs::write(p.join(format!("last-{}", input.name)), &input.bytes)?;
        }
        if let Some(f) = check(t, &input, dir.path()) {
            finds.push(f);
        }
        progress.inc(1);
    }
    if let Some(p) = last {
        for s in &seeds {
            let _ = std::fs::remove_file(p.join(format!("last-{}", s.name)));
        }
    }
    Ok(finds)
}

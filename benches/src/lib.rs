//! Shared fixtures for the criterion benchmarks in `benches/benches/`: the real Kotka extract and generated
//! cities of fixed seed.

use std::path::PathBuf;

/// The shared data folder beside the repository.
pub fn shared_data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data")
        .join(rel)
}

/// Seed of every generated benchmark city.
pub const SEED: u64 = 42;

/// The Kotka OSM extract imported into a scene in its UTM zone, as `citytwin import` does.
///
/// # Panics
/// When the shared data is missing (benchmarks need it).
#[allow(clippy::unwrap_used)]
pub fn kotka_scene() -> citytwin_engine::Scene {
    let path = shared_data("osm/pyrosm_test_kotka.osm.pbf");
    let layers = citytwin_importers::import(
        &path,
        &citytwin_importers::ImportOptions::default(),
        &indicatif::ProgressBar::hidden(),
    )
    .unwrap();
    let bbox = layers[0].bbox().unwrap();
    let mut scene = citytwin_engine::Scene::new(
        citytwin_engine::SceneFrame::for_extent("EPSG:4326", bbox, None).unwrap(),
    );
    for l in layers {
        scene.ingest(l, false).unwrap();
    }
    scene
}

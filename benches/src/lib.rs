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

//! `citytwin generate`: a seeded synthetic city.

use crate::cli::GenerateArgs;
use anyhow::Result;

pub fn run(a: GenerateArgs) -> Result<()> {
    let scene = citytwin_engine::generate::city(usize::try_from(a.buildings)?, a.seed);
    citytwin_engine::store::save(&scene, &a.out)?;
    println!(
        "wrote {} ({} buildings, seed {}, {} features)",
        a.out.display(),
        a.buildings,
        a.seed,
        scene.feature_count()
    );
    Ok(())
}

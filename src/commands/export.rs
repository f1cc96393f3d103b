//! `citytwin export`: one layer to a GIS file through GDAL.

use super::{load, progress};
use crate::cli::ExportArgs;
use anyhow::Result;

pub fn run(a: ExportArgs) -> Result<()> {
    if a.out.exists() && !a.force {
        anyhow::bail!(
            "{}: exists already; use --force to replace it",
            a.out.display()
        );
    }
    let scene = load(&a.scene)?;
    let layer = scene
        .layer(&a.layer)
        .map_err(|e| anyhow::anyhow!("{}: {e}", a.scene.display()))?;
    let pb = progress("export");
    let n = citytwin_importers::export::export_layer(
        layer,
        &scene.frame,
        &a.out,
        a.crs.as_deref(),
        &pb,
    )?;
    pb.finish_and_clear();
    println!(
        "wrote {} ({n} features of layer {})",
        a.out.display(),
        layer.name
    );
    Ok(())
}

//! `citytwin view`: the desktop viewer.

use crate::cli::ViewArgs;
use anyhow::{bail, Result};
use citytwin_viewer::app::{self, ViewOptions};

pub fn run(a: ViewArgs) -> Result<()> {
    // Fail before opening a window when the file is plainly not there; the rest loads in the background.
    if !a.scene.is_file() {
        bail!("{}: no such scene file", a.scene.display());
    }
    if let Some(r) = &a.run {
        citytwin_engine::sim::output::RunDir::open(r)?;
    }
    app::run(
        &a.scene,
        ViewOptions {
            exit_after_frames: a.exit_after_frames,
            run: a.run.clone(),
        },
    )?;
    Ok(())
}

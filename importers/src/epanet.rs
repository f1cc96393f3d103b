//! EPANET input files (`.inp`): the hydraulic model, and a water layer for the scene.
//!
//! Status: being written.

use crate::{ImportError, ImportOptions};
use citytwin_engine::Layer;
use indicatif::ProgressBar;
use std::path::Path;

/// Imports a EPANET network as a scene layer.
///
/// # Errors
/// Not yet supported.
pub fn import_layer(
    path: &Path,
    _opts: &ImportOptions,
    _progress: &ProgressBar,
) -> Result<Layer, ImportError> {
    Err(ImportError::Unsupported {
        path: path.to_owned(),
        detail: "EPANET networks cannot be imported yet".into(),
    })
}

//! `citytwin water`: an EPANET network over time, results as CSV.

use crate::cli::WaterArgs;
use anyhow::{bail, Result};

pub fn run(a: WaterArgs) -> Result<()> {
    bail!("{}: water hydraulics are being written", a.input.display())
}

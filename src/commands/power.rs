//! `citytwin power`: a pandapower network's AC power flow, result tables as CSV.

use crate::cli::PowerArgs;
use anyhow::{bail, Result};

pub fn run(a: PowerArgs) -> Result<()> {
    bail!("{}: power flow is being written", a.input.display())
}

//! `citytwin power`: a pandapower network's AC power flow, result tables as CSV in pandapower's layout
//! (`res_bus.csv`, `res_line.csv`, `res_trafo.csv`, and `res_ext_grid.csv`, `res_load.csv`, `res_sgen.csv`,
//! `res_gen.csv` where the network has such elements): first column `index` (pandapower's element index), then
//! pandapower's columns in pandapower's order; NaN as an empty field, as pandas writes it.

use crate::cli::PowerArgs;
use anyhow::{bail, Context, Result};
use citytwin_engine::sim::utilities::power::{self, PfOptions, ResultRow};
use std::path::Path;

/// A number as pandas would parse it back: shortest round-trip digits, exponent for very small or large values,
/// NaN as empty.
fn number(v: f64) -> String {
    if v.is_nan() {
        String::new()
    } else if v.is_infinite() {
        if v > 0.0 { "inf" } else { "-inf" }.into()
    } else if v == 0.0 || (1e-4..1e16).contains(&v.abs()) {
        format!("{v}")
    } else {
        format!("{v:e}")
    }
}

fn write_table<R: ResultRow>(dir: &Path, name: &str, rows: &[R]) -> Result<()> {
    let path = dir.join(name);
    let mut w = csv::Writer::from_path(&path).with_context(|| path.display().to_string())?;
    let header: Vec<&str> = std::iter::once("index")
        .chain(R::COLUMNS.iter().copied())
        .collect();
    w.write_record(&header)
        .with_context(|| path.display().to_string())?;
    for r in rows {
        let rec: Vec<String> = std::iter::once(r.index().to_string())
            .chain(r.values().into_iter().map(number))
            .collect();
        w.write_record(&rec)
            .with_context(|| path.display().to_string())?;
    }
    w.flush().with_context(|| path.display().to_string())?;
    Ok(())
}

pub fn run(a: PowerArgs) -> Result<()> {
    if a.out.exists() && !a.force {
        bail!(
            "{}: exists already; use --force to replace it",
            a.out.display()
        );
    }
    let grid = citytwin_importers::pandapower::read(&a.input)?;
    let res = power::solve(&grid, &PfOptions::default())
        .with_context(|| format!("{}: power flow", a.input.display()))?;

    super::results_dir::write(
        &a.out,
        a.force,
        "power-flow results (res_*.csv)",
        |n| n.starts_with("res_") && n.ends_with(".csv"),
        |dir| {
            write_table(dir, "res_bus.csv", &res.bus)?;
            write_table(dir, "res_line.csv", &res.line)?;
            write_table(dir, "res_trafo.csv", &res.trafo)?;
            for (name, rows) in [
                ("res_ext_grid.csv", &res.ext_grid),
                ("res_load.csv", &res.load),
                ("res_sgen.csv", &res.sgen),
            ] {
                if !rows.is_empty() {
                    write_table(dir, name, rows)?;
                }
            }
            if !res.gen.is_empty() {
                write_table(dir, "res_gen.csv", &res.gen)?;
            }
            Ok(())
        },
    )?;
    let vm = res.bus.iter().map(|b| b.vm_pu).filter(|v| !v.is_nan());
    let (lo, hi) = vm.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    println!(
        "{}: converged in {} iterations (mismatch {:.1e}); {} buses, vm_pu {lo:.5}..{hi:.5}; wrote {}",
        a.input.display(),
        res.iterations,
        res.mismatch_mva,
        res.bus.len(),
        a.out.display()
    );
    Ok(())
}

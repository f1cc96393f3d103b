//! `citytwin water`: an EPANET network over time, as EPANET's own runner; results as CSV in the layout of the
//! references in `../shared/data/epanet` (one row per report time, column `time_s`, one column per node or link
//! id, SI units).

use super::results_dir;
use crate::cli::WaterArgs;
use anyhow::{Context, Result};
use citytwin_engine::sim::utilities::water::simulate;
use citytwin_engine::time::Seconds;

pub fn run(a: WaterArgs) -> Result<()> {
    let parsed = citytwin_importers::epanet::read(&a.input)?;
    let mut net = parsed.network;
    let span = |s: &str, what: &str| -> Result<i64> {
        let v: Seconds = s.parse().with_context(|| format!("--{what}"))?;
        Ok(i64::from(v.0))
    };
    if let Some(d) = &a.duration {
        net.times.duration_s = span(d, "duration")?;
    }
    if let Some(r) = &a.report_step {
        let r = span(r, "report-step")?.max(1);
        net.times.report_step_s = r;
        net.times.hydraulic_step_s = net.times.hydraulic_step_s.min(r);
    }
    if net.times.report_start_s > net.times.duration_s {
        net.times.report_start_s = 0;
    }
    let bar = super::progress("water");
    bar.set_length(net.times.duration_s.max(1) as u64);
    let started = std::time::Instant::now();
    let res = simulate(&net, |t| bar.set_position(t.max(0) as u64))
        .with_context(|| format!("{}: hydraulics", a.input.display()))?;
    let elapsed = started.elapsed();
    bar.finish_and_clear();
    results_dir::write(
        &a.out,
        a.force,
        "water results (node_*.csv, link_*.csv)",
        |n| (n.starts_with("node_") || n.starts_with("link_")) && n.ends_with(".csv"),
        |dir| {
            res.write_csv(dir)
                .with_context(|| format!("{}: writing results", a.out.display()))
        },
    )?;
    let pressures = res.pressure_m.values.iter().zip(
        std::iter::repeat(&net.nodes)
            .flat_map(|n| n.iter())
            .map(|n| n.kind == citytwin_engine::sim::utilities::water::NodeKind::Junction),
    );
    let min_p = pressures
        .filter(|(_, j)| *j)
        .map(|(p, _)| *p)
        .fold(f64::INFINITY, f64::min);
    println!(
        "{}: {} junctions, {} links; {} report times over {}; {} solutions, {} trials in {:.2} ms; lowest junction pressure {min_p:.2} m; wrote {}",
        a.input.display(),
        net.junctions,
        net.links.len(),
        res.times_s.len(),
        citytwin_engine::time::SimTime(net.times.duration_s.max(0) as u32),
        res.solutions,
        res.trials,
        elapsed.as_secs_f64() * 1e3,
        a.out.display()
    );
    Ok(())
}

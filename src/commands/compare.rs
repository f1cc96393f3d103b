//! `citytwin compare`: two runs side by side.

use crate::cli::CompareArgs;
use anyhow::Result;
use citytwin_engine::sim::compare::compare;
use citytwin_engine::sim::output::RunDir;

fn name(p: &std::path::Path) -> String {
    p.file_name()
        .map_or_else(|| "run".into(), |f| f.to_string_lossy().into_owned())
}

pub fn run(a: CompareArgs) -> Result<()> {
    let base = RunDir::open(&a.base)?;
    let other = RunDir::open(&a.other)?;
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| format!("compare-{}-vs-{}", name(&a.base), name(&a.other)).into());
    let c = compare(&base, &other, &out)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&c)?);
        return Ok(());
    }
    println!("{} → {}", c.base, c.other);
    println!(
        "{:<28} {:>14} {:>14} {:>14} {:>9}",
        "kpi", "base", "other", "delta", "change"
    );
    for k in &c.kpis {
        println!(
            "{:<28} {:>14.2} {:>14.2} {:>+14.2} {:>9}",
            k.name,
            k.base,
            k.other,
            k.delta,
            k.percent
                .map_or_else(|| "—".into(), |p| format!("{p:+.1}%"))
        );
    }
    println!(
        "{} links changed their daily volume, {} buildings their person-hours; details in {}",
        c.links_changed,
        c.buildings_changed,
        out.display()
    );
    Ok(())
}

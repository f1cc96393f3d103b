//! `citytwin import`: files → layers → one scene, saved atomically at the end (or not at all).

use super::progress;
use crate::cli::ImportArgs;
use anyhow::{bail, Context, Result};
use citytwin_engine::{Scene, SceneFrame};
use citytwin_importers::ImportOptions;

pub fn run(a: ImportArgs) -> Result<()> {
    let exists = a.out.exists();
    if exists && !a.append && !a.force {
        bail!(
            "{}: the scene exists; use --append to add layers to it, or --force to overwrite it",
            a.out.display()
        );
    }
    let mut scene: Option<Scene> = if a.append && exists {
        let s = super::load(&a.out)?;
        if let Some(c) = &a.crs {
            let want = citytwin_engine::crs::describe(c).with_context(|| format!("--crs {c}"))?;
            if want.horizontal != s.frame.crs {
                bail!(
                    "{}: the scene is in {}; --crs {c} only applies to a new scene",
                    a.out.display(),
                    s.frame.crs
                );
            }
        }
        Some(s)
    } else {
        None
    };
    if let Some(c) = &a.crs {
        citytwin_engine::crs::describe_scene_crs(c).with_context(|| format!("--crs {c}"))?;
    }
    let opts = ImportOptions {
        kind: a.kind,
        layer_name: a.layer.clone(),
        src_crs: a.src_crs.clone(),
        height_attr: a.height_attr.clone(),
        levels_attr: a.levels_attr.clone(),
        use_attr: a.use_attr.clone(),
        storey_height_m: a.storey_height,
        default_height_m: a.default_height,
        placement: (a.scale.is_some() || a.offset.is_some()).then(|| {
            citytwin_importers::Placement {
                scale: a.scale.unwrap_or([1.0, 1.0]),
                offset: a.offset.unwrap_or([0.0, 0.0]),
            }
        }),
        max_terrain_cells: a.max_terrain_cells,
    };
    if !(opts.storey_height_m > 0.0 && opts.default_height_m > 0.0) {
        bail!("--storey-height and --default-height must be positive");
    }
    if a.scale.is_some_and(|s| s.contains(&0.0)) {
        bail!("--scale must not be 0: it would collapse every feature onto a line or a point");
    }
    // Inputs that gave nothing, and why, for the message when nothing at all is left.
    let mut emptied: Vec<String> = Vec::new();
    for input in &a.inputs {
        let pb = progress("import");
        let t0 = std::time::Instant::now();
        let layers = citytwin_importers::import(input, &opts, &pb)?;
        tracing::info!(input = %input.display(), seconds = t0.elapsed().as_secs_f64(), "read");
        pb.finish_and_clear();
        for layer in layers {
            let s = match &mut scene {
                Some(s) => s,
                None => {
                    let frame =
                        SceneFrame::for_layer(&layer, a.crs.as_deref()).with_context(|| {
                            format!("{}: choosing the scene frame", input.display())
                        })?;
                    let Some(frame) = frame else {
                        let why = skip_summary(&layer.report);
                        let what = if why.is_empty() {
                            "no features".to_owned()
                        } else {
                            format!(
                                "all {} features skipped: {why}",
                                layer.report.source_objects
                            )
                        };
                        eprintln!(
                            "{}: layer {}: {what}; nothing added",
                            input.display(),
                            layer.name
                        );
                        emptied.push(format!("{}: {what}", input.display()));
                        continue;
                    };
                    scene.insert(Scene::new(frame))
                }
            };
            let (name, kind) = (layer.name.clone(), layer.kind);
            let (n, report) = (layer.features.len(), layer.report.clone());
            let t0 = std::time::Instant::now();
            s.ingest(layer, a.replace)
                .with_context(|| input.display().to_string())?;
            tracing::info!(layer = %name, seconds = t0.elapsed().as_secs_f64(), "ingested");
            let skipped = skip_summary(&report);
            let repaired: Vec<String> = report
                .repaired
                .iter()
                .map(|(r, c)| format!("{c} {r}"))
                .collect();
            println!(
                "{}: layer {name} ({}): {n} features{}{}",
                input.display(),
                kind.as_str(),
                if skipped.is_empty() {
                    String::new()
                } else {
                    format!("; skipped {skipped}")
                },
                if repaired.is_empty() {
                    String::new()
                } else {
                    format!("; repaired {}", repaired.join(", "))
                },
            );
        }
    }
    let Some(scene) = scene else {
        bail!("nothing to import: {}", emptied.join("; "));
    };
    let t0 = std::time::Instant::now();
    citytwin_engine::store::save(&scene, &a.out)?;
    tracing::info!(seconds = t0.elapsed().as_secs_f64(), "saved");
    println!(
        "wrote {} ({} layers, {} features, {})",
        a.out.display(),
        scene.layers.len(),
        scene.feature_count(),
        scene.frame.crs
    );
    // The process ends here: freeing a large scene feature by feature would only cost time (0.1 s at 1M).
    std::mem::forget(scene);
    Ok(())
}

/// `3 self-intersecting ring, 1 empty geometry`: the skipped features of a layer by reason.
fn skip_summary(report: &citytwin_engine::LayerReport) -> String {
    report
        .skipped
        .iter()
        .map(|(r, c)| format!("{c} {r}"))
        .collect::<Vec<_>>()
        .join(", ")
}

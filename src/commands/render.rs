//! `citytwin render`: a headless frame to PNG.

use super::load;
use crate::cli::RenderArgs;
use anyhow::{anyhow, bail, Context, Result};
use citytwin_engine::time::SimTime;
use citytwin_engine::Bookmark;
use citytwin_viewer::{ColorBy, HeadlessRenderer, OrbitCamera};

pub fn run(a: RenderArgs) -> Result<()> {
    let png = a
        .out
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("png"));
    if !png {
        bail!(
            "{}: render writes PNG images; give --out a .png name",
            a.out.display()
        );
    }
    let mut scene = load(&a.scene)?;
    let name = a.scene.display().to_string();
    let r = HeadlessRenderer::new()?;
    tracing::info!(adapter = %r.ctx.describe(), "rendering");
    let mut prepared = r.prepare(&scene);
    let layers = (!a.layers.is_empty()).then_some(a.layers.as_slice());
    r.set_layers(&scene, &mut prepared, layers)
        .with_context(|| name.clone())?;
    if let Some(dir) = &a.run {
        r.load_run(&scene, &mut prepared, dir)?;
        if let Some(t) = &a.time {
            let t: SimTime = t.parse().with_context(|| format!("--time {t}"))?;
            let run = prepared.run.as_ref().map(|r| (r.start, r.end));
            if let Some((s, e)) = run {
                if t < s || t > e {
                    bail!("--time {t} is outside the run ({s} to {e})");
                }
            }
            r.set_time(&scene, &mut prepared, t)?;
        }
    }
    r.set_color_by(&scene, &mut prepared, &ColorBy::parse(&a.color_by))
        .with_context(|| name.clone())?;
    let camera = if let Some(b) = &a.bookmark {
        let bm = scene.bookmark(b).ok_or_else(|| {
            let names: Vec<&str> = scene.bookmarks.iter().map(|b| b.name.as_str()).collect();
            anyhow!(
                "{name}: no bookmark `{b}` (the scene has: {})",
                if names.is_empty() {
                    "none".into()
                } else {
                    names.join(", ")
                }
            )
        })?;
        OrbitCamera {
            target: bm.target,
            distance: bm.distance,
            heading_deg: bm.heading_deg,
            pitch_deg: bm.pitch_deg,
            fov_y_deg: 45.0,
        }
    } else if let Some([lon, lat, alt, heading, pitch]) = a.camera {
        let (x, y) = scene
            .frame
            .to_local("EPSG:4326")?
            .point(lon, lat)
            .context("--camera")?;
        let ground = scene.terrain().and_then(|t| t.sample(x, y)).unwrap_or(0.0);
        if alt <= ground {
            bail!("--camera altitude {alt} m is below the ground ({ground:.1} m)");
        }
        OrbitCamera::from_eye([x, y, alt], heading, pitch, ground)
    } else {
        r.fit_camera(&prepared, a.size)
    };
    let img = if a.no_legend {
        r.frame(&prepared, &camera, a.size)?
    } else {
        let sources: Vec<String> = scene
            .layers
            .iter()
            .map(|l| l.source.format.clone())
            .collect();
        let osm = if sources.iter().any(|s| s.starts_with("OSM")) {
            " · map data © OpenStreetMap contributors (ODbL)"
        } else {
            ""
        };
        let file = a
            .scene
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        let run = prepared
            .run
            .as_ref()
            .map(|r| format!(" · run {} at {}", r.label(), prepared.time))
            .unwrap_or_default();
        r.frame_annotated(
            &prepared,
            &camera,
            a.size,
            &format!("citytwin · {file}{run} · {}{osm}", scene.frame.crs),
        )?
    };
    citytwin_engine::store::atomic::write_atomically(&a.out, |f| {
        let mut w = std::io::BufWriter::new(f);
        img.write_to(&mut w, image::ImageFormat::Png)
            .map_err(std::io::Error::other)?;
        std::io::Write::flush(&mut w)
    })
    .with_context(|| a.out.display().to_string())?;
    println!(
        "wrote {} ({}×{}, {})",
        a.out.display(),
        a.size.0,
        a.size.1,
        r.ctx.describe()
    );
    if let Some(l) = &prepared.legend {
        println!("legend: {}", l.title);
        for e in &l.entries {
            println!(
                "  #{:02x}{:02x}{:02x}  {}",
                e.color[0], e.color[1], e.color[2], e.label
            );
        }
    }
    if let Some(bname) = &a.save_bookmark {
        scene.set_bookmark(Bookmark {
            name: bname.clone(),
            target: camera.target,
            distance: camera.distance,
            heading_deg: camera.heading_deg,
            pitch_deg: camera.pitch_deg,
        });
        citytwin_engine::store::save(&scene, &a.scene)?;
        println!("saved bookmark {bname} in {name}");
    }
    Ok(())
}

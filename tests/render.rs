//! `citytwin render` on the sample city: golden images from fixed cameras (lavapipe), bookmarks, errors.
//!
//! Goldens live in `tests/golden/`; regenerate them with `UPDATE_GOLDEN=1 cargo test --test render`, never by
//! editing code. One tolerance for all of them: [`GOLDEN_TOLERANCE`].
#![allow(clippy::unwrap_used)]

mod common;
use common::*;
use std::path::{Path, PathBuf};

/// A pixel differs when any channel differs by more than `channel`; an image matches when at most `pixels` of
/// its pixels differ (software rasterisers agree closely, but not bit for bit across versions).
struct Tolerance {
    channel: u8,
    pixels: f64,
}
const GOLDEN_TOLERANCE: Tolerance = Tolerance {
    channel: 24,
    pixels: 0.005,
};

fn golden(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

fn check_golden(actual: &Path, name: &str) {
    let want = golden(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::copy(actual, &want).unwrap();
        return;
    }
    let a = image::open(actual).unwrap().to_rgba8();
    let w = image::open(&want)
        .unwrap_or_else(|e| panic!("{}: {e} (create it with UPDATE_GOLDEN=1)", want.display()))
        .to_rgba8();
    assert_eq!(a.dimensions(), w.dimensions(), "{name}: size");
    let bad = a
        .pixels()
        .zip(w.pixels())
        .filter(|(p, q)| {
            p.0.iter()
                .zip(q.0.iter())
                .any(|(x, y)| x.abs_diff(*y) > GOLDEN_TOLERANCE.channel)
        })
        .count();
    let frac = bad as f64 / (a.width() * a.height()) as f64;
    if frac > GOLDEN_TOLERANCE.pixels {
        let keep = std::env::temp_dir().join(format!("actual-{name}"));
        std::fs::copy(actual, &keep).unwrap();
        panic!(
            "{name}: {:.2}% of pixels differ (allowed {:.2}%); actual image kept at {}",
            frac * 100.0,
            GOLDEN_TOLERANCE.pixels * 100.0,
            keep.display()
        );
    }
}

fn kotka_scene(dir: &Path) -> PathBuf {
    let out = dir.join("kotka.twin");
    ok(&[
        "import",
        s(&Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/kotka/kotka.osm.pbf")),
        "--out",
        s(&out),
    ]);
    out
}

#[test]
fn goldens_from_fixed_cameras() {
    let dir = tempfile::tempdir().unwrap();
    let scene = kotka_scene(dir.path());
    let overview = dir.path().join("overview.png");
    let out = ok(&[
        "render",
        s(&scene),
        "--out",
        s(&overview),
        "--size",
        "640x360",
    ]);
    assert!(out.contains("legend: layers"), "{out}");
    check_golden(&overview, "kotka_overview.png");

    let street = dir.path().join("street.png");
    ok(&[
        "render",
        s(&scene),
        "--out",
        s(&street),
        "--size",
        "640x360",
        "--camera",
        "26.944,60.522,250,20,35",
        "--color-by",
        "landuse",
    ]);
    check_golden(&street, "kotka_street_landuse.png");

    let roads = dir.path().join("roads.png");
    ok(&[
        "render",
        s(&scene),
        "--out",
        s(&roads),
        "--size",
        "640x360",
        "--layers",
        "roads,buildings",
        "--color-by",
        "highway",
    ]);
    check_golden(&roads, "kotka_roads_by_highway.png");
}

#[test]
fn bookmarks_are_saved_and_reused() {
    let dir = tempfile::tempdir().unwrap();
    let scene = kotka_scene(dir.path());
    let a = dir.path().join("a.png");
    ok(&[
        "render",
        s(&scene),
        "--out",
        s(&a),
        "--size",
        "200x120",
        "--camera",
        "26.95,60.53,400,200,50",
        "--save-bookmark",
        "harbour",
    ]);
    let b = dir.path().join("b.png");
    ok(&[
        "render",
        s(&scene),
        "--out",
        s(&b),
        "--size",
        "200x120",
        "--bookmark",
        "harbour",
    ]);
    assert_eq!(
        image::open(&a).unwrap().to_rgba8(),
        image::open(&b).unwrap().to_rgba8(),
        "the bookmark reproduces the view"
    );
    let sc = citytwin_engine::store::load(&scene).unwrap();
    assert_eq!(sc.bookmarks.len(), 1);
}

#[test]
fn render_errors() {
    let dir = tempfile::tempdir().unwrap();
    let scene = kotka_scene(dir.path());
    let out = dir.path().join("x.png");
    let e = fails(&[
        "render",
        s(&dir.path().join("missing.twin")),
        "--out",
        s(&out),
    ]);
    assert!(e.contains("missing.twin"), "{e}");
    let e = fails(&["render", s(&scene), "--out", s(&out), "--layers", "nope"]);
    assert!(e.contains("nope") && e.contains("buildings"), "{e}");
    let e = fails(&[
        "render",
        s(&scene),
        "--out",
        s(&out),
        "--bookmark",
        "nowhere",
    ]);
    assert!(e.contains("nowhere"), "{e}");
    let e = fails(&[
        "render",
        s(&scene),
        "--out",
        s(&out),
        "--color-by",
        "no_such_attribute",
    ]);
    assert!(e.contains("no_such_attribute"), "{e}");
    assert!(!out.exists());
    assert_eq!(
        citytwin(&["render", s(&scene), "--out", s(&out), "--size", "0x10"])
            .status
            .code(),
        Some(2)
    );
    // A backend this build does not have: no adapter, a clear error, exit 1.
    let r = std::process::Command::new(env!("CARGO_BIN_EXE_citytwin"))
        .args(["render", s(&scene), "--out", s(&out)])
        .env("WGPU_BACKEND", "metal")
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(1));
    let e = String::from_utf8_lossy(&r.stderr);
    assert!(e.contains("no usable graphics adapter"), "{e}");
}

/// The GL fallback (llvmpipe through EGL) draws the same city as Vulkan, up to antialiasing differences.
#[test]
fn gl_fallback_renders_the_same_city() {
    let dir = tempfile::tempdir().unwrap();
    let scene = kotka_scene(dir.path());
    let vk = dir.path().join("vk.png");
    ok(&["render", s(&scene), "--out", s(&vk), "--size", "640x360"]);
    let gl = dir.path().join("gl.png");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_citytwin"))
        .args(["render", s(&scene), "--out", s(&gl), "--size", "640x360"])
        .env("WGPU_BACKEND", "gl")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "GL render failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Gl"),
        "it really used GL"
    );
    let (a, b) = (
        image::open(&vk).unwrap().to_rgba8(),
        image::open(&gl).unwrap().to_rgba8(),
    );
    let differ = a
        .pixels()
        .zip(b.pixels())
        .filter(|(p, q)| p.0.iter().zip(q.0.iter()).any(|(x, y)| x.abs_diff(*y) > 24))
        .count();
    assert!(
        differ * 10 < (640 * 360),
        "{differ} pixels differ between Vulkan and GL"
    );
}

#[test]
fn the_time_slider_recolours_roads_and_buildings() {
    let dir = tempfile::tempdir().unwrap();
    let scene = kotka_scene(dir.path());
    let run = dir.path().join("run");
    let sc = dir.path().join("morning.toml");
    std::fs::write(
        &sc,
        "start = \"05:00\"\nend = \"10:00\"\nstep = \"15min\"\n",
    )
    .unwrap();
    ok(&[
        "simulate",
        s(&scene),
        "--scenario",
        s(&sc),
        "--out",
        s(&run),
    ]);
    let frame = |time: &str, by: &str| -> image::RgbaImage {
        let out = dir
            .path()
            .join(format!("{by}-{}.png", time.replace(':', "")));
        let printed = ok(&[
            "render",
            s(&scene),
            "--run",
            s(&run),
            "--time",
            time,
            "--color-by",
            by,
            "--size",
            "480x270",
            "--no-legend",
            "--out",
            s(&out),
        ]);
        assert!(printed.contains("legend:"), "{printed}");
        image::open(&out).unwrap().to_rgba8()
    };
    let differing = |a: &image::RgbaImage, b: &image::RgbaImage| {
        a.pixels()
            .zip(b.pixels())
            .filter(|(p, q)| p.0.iter().zip(q.0.iter()).any(|(x, y)| x.abs_diff(*y) > 8))
            .count()
    };
    let early = frame("05:00", "link_volume");
    let peak = frame("08:00", "link_volume");
    assert_eq!(
        frame("08:00", "link_volume"),
        peak,
        "the same moment renders the same"
    );
    let d = differing(&early, &peak);
    assert!(d > 200, "{d} pixels change between 05:00 and 08:00");
    // Occupancy: homes empty out into workplaces.
    let night = frame("05:00", "occupancy");
    let day = frame("09:45", "occupancy");
    assert!(differing(&night, &day) > 500);
    // Without a run, a simulated quantity is a clear error; a time outside the run too.
    let e = fails(&[
        "render",
        s(&scene),
        "--color-by",
        "link_volume",
        "--out",
        s(&dir.path().join("x.png")),
    ]);
    assert!(e.contains("--run"), "{e}");
    let e = fails(&[
        "render",
        s(&scene),
        "--run",
        s(&run),
        "--time",
        "23:00",
        "--out",
        s(&dir.path().join("x.png")),
    ]);
    assert!(e.contains("outside the run"), "{e}");
}

//! The desktop viewer under Xvfb: it opens, shows the scene, and exits cleanly after N frames; a broken scene
//! exits non-zero with the file named. Needs `xvfb-run` (installed by .ci/setup) and fails without it.
#![allow(clippy::unwrap_used)]

mod common;
use common::*;
use std::process::Command;

fn xvfb_view(args: &[&str]) -> std::process::Output {
    Command::new("xvfb-run")
        .args([
            "-a",
            "-s",
            "-screen 0 1280x800x24",
            env!("CARGO_BIN_EXE_citytwin"),
            "view",
        ])
        .args(args)
        .output()
        .expect("xvfb-run is installed (apt install xvfb)")
}

#[test]
fn viewer_opens_and_exits_after_frames() {
    let dir = tempfile::tempdir().unwrap();
    let scene = kotka(dir.path());
    let out = xvfb_view(&[s(&scene), "--exit-after-frames", "5"]);
    assert!(
        out.status.success(),
        "viewer failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn viewer_plays_a_run() {
    let dir = tempfile::tempdir().unwrap();
    let scene = kotka(dir.path());
    let run = dir.path().join("run");
    ok(&["simulate", s(&scene), "--out", s(&run), "--end", "3h"]);
    let out = xvfb_view(&[s(&scene), "--run", s(&run), "--exit-after-frames", "5"]);
    assert!(
        out.status.success(),
        "viewer failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A run of another scene is refused, naming it.
    let other = dir.path().join("other.twin");
    ok(&["generate", "--buildings", "20", "--out", s(&other)]);
    let out = xvfb_view(&[s(&other), "--run", s(&run), "--exit-after-frames", "5"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("another scene"), "{err}");
}

#[test]
fn viewer_reports_a_broken_scene() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("broken.twin");
    std::fs::write(&bad, b"CTWSCENE\x02\x00\x00\x00truncated").unwrap();
    let out = xvfb_view(&[s(&bad), "--exit-after-frames", "5"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("broken.twin") && err.contains("truncated"),
        "{err}"
    );
    let e = fails(&["view", s(&dir.path().join("missing.twin"))]);
    assert!(e.contains("missing.twin"), "{e}");
}

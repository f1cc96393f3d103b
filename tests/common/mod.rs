//! Helpers for the CLI integration tests: run the real binary on the shared data.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Output;

/// `../shared/data` beside the repository.
pub fn data(rel: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data")
        .join(rel);
    assert!(
        p.exists(),
        "test data missing: {} (the shared data folder must sit beside the repository)",
        p.display()
    );
    p
}

/// Runs `citytwin` with `args`.
pub fn citytwin(args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_citytwin"))
        .args(args)
        .output()
        .expect("citytwin runs")
}

/// Runs `citytwin` and asserts success, returning stdout.
pub fn ok(args: &[&str]) -> String {
    let out = citytwin(args);
    assert!(
        out.status.success(),
        "citytwin {args:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs `citytwin`, asserts exit code 1, returns stderr.
pub fn fails(args: &[&str]) -> String {
    let out = citytwin(args);
    assert_eq!(
        out.status.code(),
        Some(1),
        "citytwin {args:?} should fail with 1: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stderr).unwrap()
}

pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Imports the Kotka extract into `dir/kotka.twin`.
pub fn kotka(dir: &Path) -> PathBuf {
    let out = dir.join("kotka.twin");
    ok(&[
        "import",
        s(&data("osm/pyrosm_test_kotka.osm.pbf")),
        "--out",
        s(&out),
    ]);
    out
}

/// Temporary files or directories citytwin left in `dir` (`.citytwin-*`: unfinished scene or run writes).
pub fn temp_leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".citytwin"))
        .collect()
}

/// Every file of two run directories but `run-info.json` is byte-identical.
pub fn assert_same_bytes(a: &Path, b: &Path) {
    let mut names: Vec<String> = std::fs::read_dir(a)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.len() >= 10, "{names:?}");
    for n in names.iter().filter(|n| *n != "run-info.json") {
        assert!(
            std::fs::read(a.join(n)).unwrap() == std::fs::read(b.join(n)).unwrap(),
            "{n} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
}

/// Simulates `sc` on `scene` with 1 and with 2 threads into `dir/one` and `dir/two`, and checks the runs are the
/// same bytes.
pub fn on_1_and_2_threads(dir: &Path, scene: &Path, sc: &Path) -> (PathBuf, PathBuf) {
    let (one, two) = (dir.join("one"), dir.join("two"));
    for (out, threads) in [(&one, "1"), (&two, "2")] {
        ok(&[
            "simulate",
            s(scene),
            "--scenario",
            s(sc),
            "--out",
            s(out),
            "--threads",
            threads,
        ]);
    }
    assert_same_bytes(&one, &two);
    (one, two)
}

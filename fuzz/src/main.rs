//! `citytwin-fuzz`: a long fuzzing run. Finds go to `fuzz/finds/<target>/`; copy one into
//! `fuzz/regressions/<target>/` once its cause is fixed, so that the tests replay it. An input that aborts the
//! process (rather than panicking) is left there as `last-<name>`.
//!
//! ```text
//! cargo run -p citytwin-fuzz --release -- [--target NAME|all] [--iterations N] [--seed S]
//! ```

use citytwin_fuzz::{fuzz, root, Target};
use indicatif::{ProgressBar, ProgressStyle};
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut targets: Vec<Target> = Target::ALL.to_vec();
    let mut iterations: u64 = 10_000;
    let mut seed: u64 = 1;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let value = args.next();
        let parsed = match (a.as_str(), value.as_deref()) {
            ("--target", Some("all")) => Some(()),
            ("--target", Some(t)) => Target::parse(t).map(|t| targets = vec![t]),
            ("--iterations", Some(n)) => n.parse().ok().map(|n| iterations = n),
            ("--seed", Some(n)) => n.parse().ok().map(|n| seed = n),
            _ => None,
        };
        if parsed.is_none() {
            eprintln!(
                "usage: citytwin-fuzz [--target {}|all] [--iterations N] [--seed S]",
                Target::ALL.map(Target::name).join("|")
            );
            return ExitCode::from(2);
        }
    }
    let mut found = 0;
    for t in targets {
        let pb = ProgressBar::new(iterations).with_message(t.name());
        pb.set_style(
            ProgressStyle::with_template("{msg:>10} {bar:40} {pos}/{len} {per_sec} eta {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        let dir = root().join("finds").join(t.name());
        if let Err(e) = std::fs::create_dir_all(&dir) {
            eprintln!("{}: {e}", dir.display());
            return ExitCode::from(1);
        }
        let finds = match fuzz(t, iterations, seed, &pb, Some(&dir)) {
            Ok(f) => f,
            Err(e) => {
                eprintln!("{}: {e}", t.name());
                return ExitCode::from(1);
            }
        };
        pb.finish();
        for (i, f) in finds.iter().enumerate() {
            let path = dir.join(format!("{seed}-{i}-{}", f.name));
            let saved = std::fs::write(&path, &f.bytes);
            match saved {
                Ok(()) => eprintln!(
                    "{}: panic: {} (input saved to {})",
                    t.name(),
                    f.message,
                    path.display()
                ),
                Err(e) => eprintln!(
                    "{}: panic: {} (cannot save the input: {e})",
                    t.name(),
                    f.message
                ),
            }
        }
        found += finds.len();
    }
    if found > 0 {
        eprintln!("{found} inputs panicked");
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}

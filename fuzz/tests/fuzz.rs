//! The short fuzzing run CI makes, and the replay of every input that once panicked.
#![allow(clippy::unwrap_used)]

use citytwin_fuzz::{check, corpus, fuzz, regressions, Target};
use indicatif::ProgressBar;

/// Mutants per target in the short run (the long run: see the crate documentation).
const SHORT_RUN: u64 = 500;

#[test]
fn every_target_has_a_seed_corpus() {
    for t in Target::ALL {
        let seeds = corpus(t).unwrap();
        assert!(!seeds.is_empty(), "fuzz/corpus/{} is empty", t.name());
        // The unmutated samples are accepted: a corpus of rejected files would fuzz only the error paths.
        let dir = tempfile::tempdir().unwrap();
        for s in &seeds {
            let r = citytwin_fuzz::run_one(t, &s.name, &s.bytes, dir.path());
            assert!(r.is_ok(), "{}/{}: {:?}", t.name(), s.name, r.err());
        }
    }
}

#[test]
fn short_mutation_run_finds_no_panic() {
    let mut all = Vec::new();
    for t in Target::ALL {
        let finds = fuzz(t, SHORT_RUN, 20261122, &ProgressBar::hidden(), None).unwrap();
        all.extend(
            finds
                .into_iter()
                .map(|f| format!("{}/{}: {}", t.name(), f.name, f.message)),
        );
    }
    assert!(all.is_empty(), "panics:\n{}", all.join("\n"));
}

#[test]
fn past_finds_stay_fixed() {
    let dir = tempfile::tempdir().unwrap();
    for t in Target::ALL {
        for s in regressions(t).unwrap() {
            // The file name is `<anything>-<seed file name>`: the part after the last '-' keeps its extension.
            let name = s.name.rsplit('-').next().unwrap_or(&s.name).to_owned();
            let input = citytwin_fuzz::Seed {
                name,
                bytes: s.bytes,
            };
            let f = check(t, &input, dir.path());
            assert!(
                f.is_none(),
                "{}/{}: {:?}",
                t.name(),
                s.name,
                f.map(|f| f.message)
            );
        }
    }
}

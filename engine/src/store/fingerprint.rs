//! The scene fingerprint: a hash of what a simulation depends on, so that run outputs are never shown on, or
//! compared against, another scene.
//!
//! It covers the frame, and per layer its name, kind, features (geometry, attributes, buildings), network,
//! terrain and utility model; it leaves out bookmarks and import reports, so saving a camera does not orphan a run. The hash is
//! XXH3-128 (`twox-hash`), over the same bincode encoding the store writes; feature chunks are hashed in
//! parallel and combined in order, so the result does not depend on the thread count.

use crate::Scene;
use rayon::prelude::*;
use twox_hash::XxHash3_128;

/// The fingerprint of `scene`, as `xxh3:` and 32 hex digits.
pub fn fingerprint(scene: &Scene) -> String {
    let cfg = bincode::config::standard();
    let enc = |v: &dyn erased::Encode| v.encode(cfg);
    let mut h = XxHash3_128::new();
    h.write(scene.frame.crs.as_bytes());
    for o in scene.frame.origin {
        h.write(&o.to_le_bytes());
    }
    for l in &scene.layers {
        h.write(l.name.as_bytes());
        h.write(l.kind.as_str().as_bytes());
        h.write(&enc(&l.network));
        h.write(&enc(&l.terrain));
        h.write(&enc(&l.utility));
        let chunks: Vec<u128> = l
            .features
            .par_chunks(crate::store::FEATURES_PER_CHUNK)
            .map(|c| XxHash3_128::oneshot(&enc(&c)))
            .collect();
        for c in chunks {
            h.write(&c.to_le_bytes());
        }
    }
    format!("xxh3:{:032x}", h.finish_128())
}

/// Object-safe bincode encoding of serde values (what the fingerprint hashes).
mod erased {
    pub trait Encode: Sync {
        fn encode(&self, cfg: bincode::config::Configuration) -> Vec<u8>;
    }
    impl<T: serde::Serialize + Sync> Encode for T {
        fn encode(&self, cfg: bincode::config::Configuration) -> Vec<u8> {
            // Encoding plain scene data into memory cannot fail; an empty encoding would still hash stably.
            bincode::serde::encode_to_vec(self, cfg).unwrap_or_default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_and_sensitive() {
        let a = crate::generate::city(300, 1);
        let fa = fingerprint(&a);
        assert!(fa.starts_with("xxh3:") && fa.len() == 37);
        assert_eq!(fa, fingerprint(&crate::generate::city(300, 1)));
        assert_ne!(fa, fingerprint(&crate::generate::city(300, 2)));
        let mut b = a.clone();
        b.set_bookmark(crate::Bookmark {
            name: "x".into(),
            target: [0.0; 3],
            distance: 10.0,
            heading_deg: 0.0,
            pitch_deg: 45.0,
        });
        assert_eq!(fa, fingerprint(&b), "bookmarks do not change it");
        let mut c = a.clone();
        if let Some(bd) = c.layers[0].features[0].building.as_mut() {
            bd.height += 1.0;
        }
        assert_ne!(fa, fingerprint(&c));
    }
}

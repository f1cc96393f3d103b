//! The scene store: one binary file per scene, versioned, checksummed, written atomically.
//!
//! Entry points: [`save`] and [`load`].
//!
//! # Format
//! ```text
//! offset  size  content
//! 0       8     magic "CTWSCENE"
//! 8       4     format version, u32 little-endian (see FORMAT_VERSION)
//! 12      8     payload length in bytes, u64 LE
//! 20      4     CRC-32 of the payload, u32 LE
//! 24      n     payload (all integers little-endian):
//!               u64 head length, head: the Scene without features (bincode 2, standard configuration)
//!               u32 chunk count, then per chunk: u32 layer index, u64 byte length
//!               the chunks: each a bincode Vec<Feature> of up to FEATURES_PER_CHUNK features, in layer order
//! ```
//! Features are chunked so that saving and loading encode and decode them on all cores.
//! A file with a higher version than this build knows is refused with [`StoreError::NewerVersion`]; a short file
//! with [`StoreError::Truncated`]; a checksum mismatch with [`StoreError::Corrupt`].
//!
//! # Atomicity
//! [`save`] writes to a temporary file in the target's directory, syncs it, and renames it over the target: a
//! crash or error mid-write leaves the previous scene as it was.
//!
//! # Performance
//! Loading is one read and one decode; the R-trees are not stored but bulk-loaded on first query.

mod fingerprint;

pub use fingerprint::fingerprint;

use crate::Scene;
use std::io::Write;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Magic bytes at the start of every scene file.
pub const MAGIC: &[u8; 8] = b"CTWSCENE";
/// The format version this build writes (and the newest it reads).
///
/// History: 1 — the first release; 2 — typed network edges (roads, pipes, power lines), node kinds and
/// elevations, source lengths.
pub const FORMAT_VERSION: u32 = 2;
/// The oldest format version this build reads. Older files are refused with [`StoreError::OlderVersion`]: their
/// networks lack what simulations need (typed roads, lanes per direction), which only the source data can give.
pub const OLDEST_READABLE_VERSION: u32 = 2;
const HEADER_LEN: usize = 24;
/// Features per independently decoded chunk.
pub const FEATURES_PER_CHUNK: usize = 16_384;

/// Errors reading or writing a scene file.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The scene file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Not a citytwin scene file.
    #[error("{path}: not a citytwin scene file (no CTWSCENE header)")]
    NotAScene {
        /// The file.
        path: PathBuf,
    },
    /// Written by a newer citytwin.
    #[error("{path}: scene format version {found} is newer than this citytwin supports ({supported}); upgrade citytwin")]
    NewerVersion {
        /// The file.
        path: PathBuf,
        /// Version in the file.
        found: u32,
        /// Newest version this build reads.
        supported: u32,
    },
    /// Written by an older citytwin whose scene format cannot be migrated.
    #[error("{path}: scene format version {found} was written by an older citytwin and lacks what this one needs (typed road networks); re-import this file from its sources with `citytwin import`")]
    OlderVersion {
        /// The file.
        path: PathBuf,
        /// Version in the file.
        found: u32,
    },
    /// Shorter than its header says.
    #[error("{path}: scene file is truncated ({actual} of {expected} bytes)")]
    Truncated {
        /// The file.
        path: PathBuf,
        /// Bytes the header promises.
        expected: u64,
        /// Bytes present.
        actual: u64,
    },
    /// Checksum or decoding failed.
    #[error("{path}: scene file is corrupt ({reason})")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What failed.
        reason: String,
    },
    /// The scene could not be encoded.
    #[error("cannot encode the scene: {0}")]
    Encode(String),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Saves `scene` to `path` atomically (temporary file, sync, rename).
///
/// # Errors
/// [`StoreError::Io`] if the directory is not writable or the disk is full; the old file is then untouched.
pub fn save(scene: &Scene, path: &Path) -> Result<(), StoreError> {
    let payload = encode(scene)?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".citytwin-")
        .suffix(".tmp")
        .tempfile_in(&dir)
        .map_err(io(path))?;
    {
        let f = tmp.as_file_mut();
        let mut header = Vec::with_capacity(HEADER_LEN);
        header.extend_from_slice(MAGIC);
        header.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        header.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        header.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
        f.write_all(&header).map_err(io(path))?;
        f.write_all(&payload).map_err(io(path))?;
        f.sync_all().map_err(io(path))?;
    }
    tmp.persist(path).map_err(|e| StoreError::Io {
        path: path.to_owned(),
        source: e.error,
    })?;
    Ok(())
}

/// Loads a scene from `path`.
///
/// # Errors
/// See [`StoreError`]: missing file, not a scene, newer version, truncated or corrupt.
pub fn load(path: &Path) -> Result<Scene, StoreError> {
    let bytes = std::fs::read(path).map_err(io(path))?;
    decode(&bytes, path)
}

fn bincode_config() -> bincode::config::Configuration {
    bincode::config::standard()
}

/// Encodes the payload: head, chunk table, feature chunks (encoded in parallel).
fn encode(scene: &Scene) -> Result<Vec<u8>, StoreError> {
    use rayon::prelude::*;
    let enc = |e: bincode::error::EncodeError| StoreError::Encode(e.to_string());
    let head = bincode::serde::encode_to_vec(scene, bincode_config()).map_err(enc)?;
    let jobs: Vec<(u32, &[crate::Feature])> = scene
        .layers
        .iter()
        .enumerate()
        .flat_map(|(i, l)| {
            l.features
                .chunks(FEATURES_PER_CHUNK)
                .map(move |c| (i as u32, c))
        })
        .collect();
    let chunks: Vec<(u32, Vec<u8>)> = jobs
        .par_iter()
        .map(|(i, c)| bincode::serde::encode_to_vec(c, bincode_config()).map(|b| (*i, b)))
        .collect::<Result<_, _>>()
        .map_err(enc)?;
    let total =
        8 + head.len() + 4 + chunks.len() * 12 + chunks.iter().map(|c| c.1.len()).sum::<usize>();
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&(head.len() as u64).to_le_bytes());
    out.extend_from_slice(&head);
    out.extend_from_slice(&(chunks.len() as u32).to_le_bytes());
    for (layer, bytes) in &chunks {
        out.extend_from_slice(&layer.to_le_bytes());
        out.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
    }
    for (_, bytes) in &chunks {
        out.extend_from_slice(bytes);
    }
    Ok(out)
}

/// A little-endian reader over the payload that reports truncation instead of panicking.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or("payload ends early")?;
        let s = &self.bytes[self.at..end];
        self.at = end;
        Ok(s)
    }
    fn u32(&mut self) -> Result<u32, String> {
        let mut b = [0u8; 4];
        b.copy_from_slice(self.take(4)?);
        Ok(u32::from_le_bytes(b))
    }
    fn u64(&mut self) -> Result<u64, String> {
        let mut b = [0u8; 8];
        b.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(b))
    }
}

/// Decodes the payload: the head, then the feature chunks in parallel.
fn decode_payload(payload: &[u8]) -> Result<Scene, String> {
    use rayon::prelude::*;
    let mut cur = Cursor {
        bytes: payload,
        at: 0,
    };
    let head_len = usize::try_from(cur.u64()?).map_err(|e| e.to_string())?;
    let head = cur.take(head_len)?;
    let (mut scene, used): (Scene, usize) =
        bincode::serde::decode_from_slice(head, bincode_config()).map_err(|e| e.to_string())?;
    if used != head.len() {
        return Err("scene head longer than the scene it holds".into());
    }
    let n = cur.u32()? as usize;
    let mut table = Vec::with_capacity(n.min(1 << 20));
    for _ in 0..n {
        let layer = cur.u32()? as usize;
        let len = usize::try_from(cur.u64()?).map_err(|e| e.to_string())?;
        if layer >= scene.layers.len() {
            return Err(format!("chunk for layer {layer} of {}", scene.layers.len()));
        }
        table.push((layer, len));
    }
    let mut slices = Vec::with_capacity(table.len());
    for &(layer, len) in &table {
        slices.push((layer, cur.take(len)?));
    }
    if cur.at != payload.len() {
        return Err("payload longer than the scene it holds".into());
    }
    let decoded: Vec<(usize, Vec<crate::Feature>)> = slices
        .par_iter()
        .map(|(layer, bytes)| {
            let (features, used): (Vec<crate::Feature>, usize) =
                bincode::serde::decode_from_slice(bytes, bincode_config())
                    .map_err(|e| e.to_string())?;
            if used != bytes.len() {
                return Err("feature chunk longer than its features".to_string());
            }
            Ok((*layer, features))
        })
        .collect::<Result<_, String>>()?;
    for (layer, features) in decoded {
        let target = &mut scene.layers[layer].features;
        if target.is_empty() {
            *target = features;
        } else {
            target.extend(features);
        }
    }
    Ok(scene)
}

/// Decodes a scene from the bytes of a scene file; `path` is only used in error messages.
///
/// # Errors
/// As [`load`].
pub fn decode(bytes: &[u8], path: &Path) -> Result<Scene, StoreError> {
    if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
        return Err(StoreError::NotAScene {
            path: path.to_owned(),
        });
    }
    if bytes.len() < HEADER_LEN {
        return Err(StoreError::Truncated {
            path: path.to_owned(),
            expected: HEADER_LEN as u64,
            actual: bytes.len() as u64,
        });
    }
    let u32_at =
        |o: usize| u32::from_le_bytes([bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]]);
    let version = u32_at(8);
    if version > FORMAT_VERSION {
        return Err(StoreError::NewerVersion {
            path: path.to_owned(),
            found: version,
            supported: FORMAT_VERSION,
        });
    }
    if version < OLDEST_READABLE_VERSION {
        return Err(StoreError::OlderVersion {
            path: path.to_owned(),
            found: version,
        });
    }
    let mut len_bytes = [0u8; 8];
    len_bytes.copy_from_slice(&bytes[12..20]);
    let len = u64::from_le_bytes(len_bytes);
    let crc = u32_at(20);
    let payload = &bytes[HEADER_LEN..];
    if (payload.len() as u64) < len {
        return Err(StoreError::Truncated {
            path: path.to_owned(),
            expected: HEADER_LEN as u64 + len,
            actual: bytes.len() as u64,
        });
    }
    let corrupt = |reason: String| StoreError::Corrupt {
        path: path.to_owned(),
        reason,
    };
    if payload.len() as u64 > len {
        return Err(corrupt(format!(
            "{} bytes of trailing data",
            payload.len() as u64 - len
        )));
    }
    // The checksum runs beside the decoding; a mismatch wins over any decoding error.
    let (crc_ok, decoded) = rayon::join(
        || crc32fast::hash(payload) == crc,
        || decode_payload(payload),
    );
    if !crc_ok {
        return Err(corrupt("checksum mismatch".into()));
    }
    let mut scene = decoded.map_err(corrupt)?;
    scene.after_load();
    Ok(scene)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Building, HeightSource, Layer, LayerKind, LayerSource, SceneFrame, Value};
    use geo_types::{polygon, Geometry};

    fn small_scene() -> Scene {
        let frame = SceneFrame::new("EPSG:3067", [500_000.0, 6_700_000.0]).expect("frame");
        let mut s = Scene::new(frame);
        let mut l = Layer::new(
            "buildings",
            LayerKind::Buildings,
            LayerSource {
                crs: "EPSG:3067".into(),
                ..LayerSource::default()
            },
        );
        l.push_feature(
            Geometry::Polygon(polygon![(x: 500_000.0, y: 6_700_000.0), (x: 500_010.0, y: 6_700_000.0), (x: 500_010.0, y: 6_700_010.0), (x: 500_000.0, y: 6_700_000.0)]),
            [("name", Value::Text("A".into())), ("levels", Value::Int(3))],
            Some(Building::with_height(9.0, HeightSource::Levels)),
        );
        s.ingest(l, false).expect("ingest");
        s
    }

    #[test]
    fn round_trip() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("a.twin");
        let s = small_scene();
        save(&s, &p).expect("save");
        let back = load(&p).expect("load");
        assert_eq!(back.frame, s.frame);
        assert_eq!(back.layers[0].features, s.layers[0].features);
        let f = &back.layers[0].features[0];
        assert_eq!(
            back.layers[0].attribute(f, "name"),
            Some(&Value::Text("A".into()))
        );
        // No stray temporary files.
        assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 1);
    }

    #[test]
    fn many_chunks_round_trip_in_order() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("big.twin");
        let s = crate::generate::city(2 * FEATURES_PER_CHUNK + 123, 9);
        save(&s, &p).expect("save");
        let back = load(&p).expect("load");
        for (a, b) in s.layers.iter().zip(&back.layers) {
            assert_eq!(a.features, b.features, "layer {}", a.name);
            assert_eq!(a.network, b.network);
        }
        // A payload whose chunk table promises more than there is: corrupt, not a panic.
        let mut bytes = std::fs::read(&p).expect("read");
        let n = bytes.len();
        bytes.truncate(n - 1000);
        let len = (bytes.len() - HEADER_LEN) as u64;
        bytes[12..20].copy_from_slice(&len.to_le_bytes());
        let crc = crc32fast::hash(&bytes[HEADER_LEN..]);
        bytes[20..24].copy_from_slice(&crc.to_le_bytes());
        assert!(matches!(
            decode(&bytes, &p),
            Err(StoreError::Corrupt { .. })
        ));
    }

    #[test]
    fn bad_files_are_refused() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("a.twin");
        save(&small_scene(), &p).expect("save");
        let bytes = std::fs::read(&p).expect("read");

        let trunc = &bytes[..bytes.len() - 10];
        assert!(matches!(
            decode(trunc, &p),
            Err(StoreError::Truncated { .. })
        ));

        let mut newer = bytes.clone();
        newer[8..12].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
        assert!(
            matches!(decode(&newer, &p), Err(StoreError::NewerVersion { found, .. }) if found == FORMAT_VERSION + 1)
        );

        let mut older = bytes.clone();
        older[8..12].copy_from_slice(&1u32.to_le_bytes());
        let e = decode(&older, &p).expect_err("version 1 is refused");
        assert!(matches!(e, StoreError::OlderVersion { found: 1, .. }));
        assert!(e.to_string().contains("re-import this file"), "{e}");

        let mut flipped = bytes.clone();
        let n = flipped.len();
        flipped[n - 5] ^= 0xff;
        assert!(matches!(
            decode(&flipped, &p),
            Err(StoreError::Corrupt { .. })
        ));

        assert!(matches!(
            decode(b"{\"type\": \"FeatureCollection\"}", &p),
            Err(StoreError::NotAScene { .. })
        ));
        assert!(matches!(
            load(&dir.path().join("missing.twin")),
            Err(StoreError::Io { .. })
        ));
    }
}

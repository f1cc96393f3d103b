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
//! crash or error mid-write leaves the previous scene as it was. A symlinked target is updated through its link,
//! a device or directory is refused, the file keeps its mode ([`atomic`]).
//!
//! # Performance
//! Saving streams: a few feature chunks at a time are encoded on all cores and written while the next are
//! encoded, so it holds megabytes, not a second copy of the scene; the header and chunk table are filled in
//! last. Loading is one read and one decode; the R-trees are not stored but bulk-loaded on first query.

pub mod atomic;
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
/// The fewest bytes a feature can take in a chunk (id, geometry kind and length, attribute count and the
/// building's absence take a byte each at least): bounds the room a chunk's count may ask for.
const MIN_FEATURE_BYTES: usize = 5;
/// Features per independently decoded chunk.
pub const FEATURES_PER_CHUNK: usize = 16_384;

/// Errors reading or writing a scene file.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The file could not be read or written.
    #[error("{path}")]
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
    let mut failed = None;
    let written = atomic::write_atomically(path, |f| {
        write_scene(scene, f).map_err(|e| match e {
            WriteError::Io(e) => e,
            WriteError::Encode(e) => {
                failed = Some(e);
                std::io::Error::other("encoding failed")
            }
        })
    });
    match (failed, written) {
        (Some(e), _) => Err(StoreError::Encode(e)),
        (None, Err(e)) => Err(io(path)(e)),
        (None, Ok(_)) => Ok(()),
    }
}

/// Loads a scene from `path`.
///
/// # Errors
/// See [`StoreError`]: missing file, not a scene, newer version, truncated or corrupt.
pub fn load(path: &Path) -> Result<Scene, StoreError> {
    use std::io::Read;
    let mut f = std::fs::File::open(path).map_err(io(path))?;
    let meta = f.metadata().map_err(io(path))?;
    if meta.is_dir() {
        return Err(StoreError::NotAScene {
            path: path.to_owned(),
        });
    }
    // The header first: a file that is no scene (or a device such as /dev/zero) is refused after 24 bytes, and
    // the payload length it promises is checked before anything is allocated for it.
    let mut header = Vec::with_capacity(HEADER_LEN);
    (&mut f)
        .take(HEADER_LEN as u64)
        .read_to_end(&mut header)
        .map_err(io(path))?;
    let (len, crc) = check_header(&header, path)?;
    let on_disk = meta.is_file().then_some(meta.len());
    if let Some(size) = on_disk {
        if size < HEADER_LEN as u64 + len {
            return Err(StoreError::Truncated {
                path: path.to_owned(),
                expected: HEADER_LEN as u64 + len,
                actual: size,
            });
        }
        if size > HEADER_LEN as u64 + len {
            return Err(StoreError::Corrupt {
                path: path.to_owned(),
                reason: format!("{} bytes of trailing data", size - HEADER_LEN as u64 - len),
            });
        }
    }
    // One byte more than promised reveals trailing data on a stream as well as on a file. The capacity is only
    // trusted when the file's size confirmed the header.
    let capacity = on_disk.map_or(0, |_| usize::try_from(len).unwrap_or(0));
    let mut payload = Vec::with_capacity(capacity);
    f.take(len.saturating_add(1))
        .read_to_end(&mut payload)
        .map_err(io(path))?;
    decode_body(
        &payload,
        len,
        crc,
        path,
        HEADER_LEN as u64 + payload.len() as u64,
    )
}

fn bincode_config() -> bincode::config::Configuration {
    bincode::config::standard()
}

/// What a decoding failure means, in words: bincode's own text is Rust debug output
/// (`UnexpectedVariant { type_name: "Option<T>", … }`).
fn decode_failure(where_: &str, e: &bincode::error::DecodeError) -> String {
    use bincode::error::DecodeError as D;
    let what = match e {
        D::UnexpectedEnd { .. } => "the data ends in the middle of a value",
        D::UnexpectedVariant { .. } | D::EmptyEnum { .. } => "a value of an unknown kind",
        D::Utf8 { .. } | D::InvalidCharEncoding(_) => "text that is not valid UTF-8",
        D::InvalidBooleanValue(_) => "an invalid true/false value",
        D::LimitExceeded | D::OutsideUsizeRange(_) => "a length larger than the file",
        _ => "data that does not decode",
    };
    format!("{where_}: {what}")
}

/// Why writing a scene failed.
enum WriteError {
    Io(std::io::Error),
    Encode(String),
}

impl From<std::io::Error> for WriteError {
    fn from(e: std::io::Error) -> Self {
        WriteError::Io(e)
    }
}

/// A piece of a chunk of features as the scene file holds it: a chunk is what serde gives for a `Vec<Feature>` in
/// bincode's standard configuration — the count, then each feature — byte for byte, written here as pieces (the
/// first carries the chunk's count), and each feature's attributes are copied as the bytes they are kept in
/// (already that encoding) instead of being decoded and encoded again.
struct EncodedPiece<'a> {
    /// The count of the whole chunk, on its first piece.
    chunk_len: Option<usize>,
    features: &'a [crate::Feature],
}

impl bincode::Encode for EncodedPiece<'_> {
    fn encode<E: bincode::enc::Encoder>(
        &self,
        e: &mut E,
    ) -> Result<(), bincode::error::EncodeError> {
        use bincode::enc::write::Writer;
        use bincode::serde::Compat;
        if let Some(n) = self.chunk_len {
            (n as u64).encode(e)?;
        }
        // Field by field, in the order of `Feature`'s declaration, as its derived `Serialize` writes them.
        for f in self.features {
            Compat(&f.id).encode(e)?;
            Compat(&f.geometry).encode(e)?;
            e.writer().write(f.attributes.encoded())?;
            Compat(&f.building).encode(e)?;
        }
        Ok(())
    }
}

/// Features encoded by one task when saving: chunks are encoded in pieces of this many, a piece per core at once
/// while the previous ones are written, so that saving a million buildings holds a few pieces of encoded bytes
/// (about 0.4 MB each) rather than chunks (3 MB) or a second copy of the scene.
const FEATURES_PER_PIECE: usize = 2_048;

/// Writes the header and payload (see the module documentation) to `w`, streaming the feature chunks: a window
/// of pieces of chunks is encoded on all cores while the previous one is written. The header and the chunk table, known
/// only once every chunk is encoded, are written last over placeholders of the same size; the checksum of the
/// whole payload is the one of the head combined with the one of the chunks.
fn write_scene<W: Write + std::io::Seek + Send>(
    scene: &Scene,
    w: &mut W,
) -> Result<(), WriteError> {
    use rayon::prelude::*;
    let enc = |e: bincode::error::EncodeError| WriteError::Encode(e.to_string());
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
    // (chunk, piece): the chunk's index in `jobs` and one piece of it.
    let pieces: Vec<(usize, EncodedPiece<'_>)> = jobs
        .iter()
        .enumerate()
        .flat_map(|(j, (_, chunk))| {
            chunk
                .chunks(FEATURES_PER_PIECE)
                .enumerate()
                .map(move |(k, features)| {
                    let chunk_len = (k == 0).then_some(chunk.len());
                    (
                        j,
                        EncodedPiece {
                            chunk_len,
                            features,
                        },
                    )
                })
        })
        .collect();
    let first_part = |table: &[(u32, u64)]| {
        let mut first = Vec::with_capacity(8 + head.len() + 4 + jobs.len() * 12);
        first.extend_from_slice(&(head.len() as u64).to_le_bytes());
        first.extend_from_slice(&head);
        first.extend_from_slice(&(jobs.len() as u32).to_le_bytes());
        for (layer, len) in table {
            first.extend_from_slice(&layer.to_le_bytes());
            first.extend_from_slice(&len.to_le_bytes());
        }
        first
    };
    let start = w.stream_position()?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, &mut *w);
    out.write_all(&[0; HEADER_LEN])?;
    let placeholder = first_part(&vec![(0, 0); jobs.len()]);
    out.write_all(&placeholder)?;

    let mut table: Vec<(u32, u64)> = jobs.iter().map(|(layer, _)| (*layer, 0)).collect();
    let mut chunks_crc = crc32fast::Hasher::new();
    let mut chunks_len = 0u64;
    let mut write = |encoded: Vec<(usize, Vec<u8>)>| -> std::io::Result<()> {
        for (chunk, bytes) in encoded {
            chunks_crc.update(&bytes);
            chunks_len += bytes.len() as u64;
            table[chunk].1 += bytes.len() as u64;
            out.write_all(&bytes)?;
        }
        Ok(())
    };
    let encode = |window: &[(usize, EncodedPiece<'_>)]| {
        window
            .par_iter()
            .map(|(j, piece)| bincode::encode_to_vec(piece, bincode_config()).map(|b| (*j, b)))
            .collect::<Result<Vec<_>, _>>()
            .map_err(enc)
    };
    let mut pending: Vec<(usize, Vec<u8>)> = Vec::new();
    for window in pieces.chunks(rayon::current_num_threads()) {
        let (written, encoded) =
            rayon::join(|| write(std::mem::take(&mut pending)), || encode(window));
        written?;
        pending = encoded?;
    }
    write(pending)?;
    out.flush()?;
    drop(out);

    let first = first_part(&table);
    debug_assert_eq!(first.len(), placeholder.len());
    let mut crc = crc32fast::Hasher::new();
    crc.update(&first);
    crc.combine(&chunks_crc);
    let mut header = Vec::with_capacity(HEADER_LEN);
    header.extend_from_slice(MAGIC);
    header.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    header.extend_from_slice(&(first.len() as u64 + chunks_len).to_le_bytes());
    header.extend_from_slice(&crc.finalize().to_le_bytes());
    let end = w.stream_position()?;
    w.seek(std::io::SeekFrom::Start(start))?;
    w.write_all(&header)?;
    w.write_all(&first)?;
    w.seek(std::io::SeekFrom::Start(end))?;
    Ok(())
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
        bincode::serde::decode_from_slice(head, bincode_config())
            .map_err(|e| decode_failure("the scene head", &e))?;
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
    // Each layer's vector is allocated once, from the counts the chunks begin with (growing it by doubling
    // held the old and the new copy, 140 MB at a million buildings). A count is only trusted as far as the
    // chunk's bytes could hold that many features, and a reservation that fails is simply not made.
    let mut counts = vec![0usize; scene.layers.len()];
    for (layer, bytes) in &slices {
        let claimed: u64 = bincode::decode_from_slice(bytes, bincode_config())
            .map(|(n, _)| n)
            .unwrap_or(0);
        let possible = bytes.len() / MIN_FEATURE_BYTES;
        counts[*layer] += usize::try_from(claimed).unwrap_or(usize::MAX).min(possible);
    }
    for (layer, n) in scene.layers.iter_mut().zip(counts) {
        let _ = layer.features.try_reserve_exact(n);
    }
    // A window of chunks is decoded on all cores and moved into place before the next: only a window's
    // vectors are held beside the layers'.
    for window in slices.chunks(2 * rayon::current_num_threads()) {
        let decoded: Vec<(usize, Vec<crate::Feature>)> = window
            .par_iter()
            .map(|(layer, bytes)| {
                // Borrowing: attribute texts are read in place while each feature's attributes are
                // re-encoded.
                let (features, used): (Vec<crate::Feature>, usize) =
                    bincode::serde::borrow_decode_from_slice(bytes, bincode_config()).map_err(
                        |e| decode_failure(&format!("features of layer {}", layer + 1), &e),
                    )?;
                if used != bytes.len() {
                    return Err("feature chunk longer than its features".to_string());
                }
                Ok((*layer, features))
            })
            .collect::<Result<_, String>>()?;
        for (layer, features) in decoded {
            scene.layers[layer].features.extend(features);
        }
    }
    Ok(scene)
}

/// Decodes a scene from the bytes of a scene file; `path` is only used in error messages.
///
/// # Errors
/// As [`load`].
pub fn decode(bytes: &[u8], path: &Path) -> Result<Scene, StoreError> {
    let (len, crc) = check_header(bytes, path)?;
    decode_body(&bytes[HEADER_LEN..], len, crc, path, bytes.len() as u64)
}

/// Checks magic and version; returns the payload length and checksum the header promises.
fn check_header(bytes: &[u8], path: &Path) -> Result<(u64, u32), StoreError> {
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
    Ok((u64::from_le_bytes(len_bytes), u32_at(20)))
}

/// Decodes and checks the payload the header described; `file_len` is for the truncation message.
fn decode_body(
    payload: &[u8],
    len: u64,
    crc: u32,
    path: &Path,
    file_len: u64,
) -> Result<Scene, StoreError> {
    if (payload.len() as u64) < len {
        return Err(StoreError::Truncated {
            path: path.to_owned(),
            expected: HEADER_LEN as u64 + len,
            actual: file_len,
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
    scene.check_integrity().map_err(corrupt)?;
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
            Some(crate::ValueRef::Text("A"))
        );
        // No stray temporary files.
        assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 1);
    }

    #[test]
    fn a_chunk_in_pieces_is_encoded_as_serde_encodes_a_vector_of_features() {
        // Buildings with and without attributes, networks' lines: every shape of feature the generator makes.
        let s = crate::generate::city(300, 4);
        for l in &s.layers {
            let mut direct = Vec::new();
            for (k, features) in l.features.chunks(7).enumerate() {
                let piece = EncodedPiece {
                    chunk_len: (k == 0).then_some(l.features.len()),
                    features,
                };
                direct.extend(bincode::encode_to_vec(piece, bincode_config()).expect("encodes"));
            }
            let serde =
                bincode::serde::encode_to_vec(&l.features, bincode_config()).expect("encodes");
            assert!(!l.features.is_empty(), "{}", l.name);
            assert_eq!(direct, serde, "layer {}", l.name);
        }
    }

    #[test]
    fn a_chunk_claiming_more_features_than_it_holds_is_refused() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("a.twin");
        save(&small_scene(), &p).expect("save");
        let bytes = std::fs::read(&p).expect("read");
        // Payload: head length, head, chunk count, table of (layer, length), chunks. One chunk of one feature,
        // whose count is the single byte 1; it becomes bincode's 9-byte form of u64::MAX.
        let u64_at = |o: usize| u64::from_le_bytes(bytes[o..o + 8].try_into().expect("8 bytes"));
        let head_len = u64_at(HEADER_LEN) as usize;
        let table = HEADER_LEN + 8 + head_len + 4;
        let chunk = table + 12;
        assert_eq!(bytes[chunk], 1, "one feature");
        let mut out = bytes[..chunk].to_vec();
        out.push(253);
        out.extend_from_slice(&u64::MAX.to_le_bytes());
        out.extend_from_slice(&bytes[chunk + 1..]);
        let chunk_len = u64_at(table + 4) + 8;
        out[table + 4..table + 12].copy_from_slice(&chunk_len.to_le_bytes());
        let len = (out.len() - HEADER_LEN) as u64;
        out[12..20].copy_from_slice(&len.to_le_bytes());
        let crc = crc32fast::hash(&out[HEADER_LEN..]);
        out[20..24].copy_from_slice(&crc.to_le_bytes());
        match decode(&out, &p) {
            Err(StoreError::Corrupt { reason, .. }) => {
                assert!(reason.contains("layer 1"), "{reason}")
            }
            other => panic!("expected corrupt, got {other:?}"),
        }
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
    fn streamed_chunks_give_the_same_file_for_any_window() {
        // Several windows of chunks (two per thread at a time): the header's length and checksum, filled in last,
        // describe the whole payload, and the bytes do not depend on the thread count.
        let s = crate::generate::city(3 * FEATURES_PER_CHUNK, 4);
        let on = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("pool");
            pool.install(|| scene_bytes(&s))
        };
        let one = on(1);
        assert!(one.len() > HEADER_LEN);
        let len = u64::from_le_bytes(one[12..20].try_into().expect("8 bytes"));
        assert_eq!(len, (one.len() - HEADER_LEN) as u64);
        let crc = u32::from_le_bytes(one[20..24].try_into().expect("4 bytes"));
        assert_eq!(crc, crc32fast::hash(&one[HEADER_LEN..]));
        assert!(one == on(3), "the file depends on the thread count");
        let back = decode(&one, Path::new("mem.twin")).expect("decodes");
        assert_eq!(back.feature_count(), s.feature_count());
    }

    /// Saves `scene` without any checks, as a file written by something else could be.
    fn save_unchecked(scene: &Scene, path: &Path) {
        std::fs::write(path, scene_bytes(scene)).expect("write");
    }

    /// The bytes of a scene file, written to memory.
    fn scene_bytes(scene: &Scene) -> Vec<u8> {
        let mut c = std::io::Cursor::new(Vec::new());
        if write_scene(scene, &mut c).is_err() {
            panic!("the scene does not encode");
        }
        c.into_inner()
    }

    fn refused_because(scene: &Scene, why: &str) {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("bad.twin");
        save_unchecked(scene, &p);
        match load(&p) {
            Err(e @ StoreError::Corrupt { .. }) => assert!(e.to_string().contains(why), "{e}"),
            Err(e) => panic!("refused for the wrong reason: {e}"),
            Ok(_) => panic!("a scene with {why} was accepted"),
        }
    }

    #[test]
    fn decoded_scenes_are_checked() {
        // Regression: a file with a valid checksum but an unclosed ring panicked inside geo on query and inside
        // earcut on render.
        let mut s = small_scene();
        let poly = serde_json::to_value(&s.layers[0].features[0].geometry).expect("json");
        let mut text = poly.to_string();
        // Drop the closing point: geo-types' deserializer keeps the ring as written.
        let last = text.rfind(",{").expect("a coordinate");
        let end = text[last..].find('}').expect("its end") + last + 1;
        text.replace_range(last..end, "");
        s.layers[0].features[0].geometry = serde_json::from_str(&text).expect("geometry");
        refused_because(&s, "is not closed");

        let mut s = small_scene();
        s.layers[0].features[0].geometry = Geometry::Point(geo_types::Point::new(f64::NAN, 0.0));
        refused_because(&s, "non-finite");

        let mut s = small_scene();
        let mut pairs: Vec<(u32, Value)> = s.layers[0].features[0]
            .attributes
            .iter()
            .map(|(k, v)| (k, v.to_value()))
            .collect();
        pairs.push((99, Value::Int(1)));
        s.layers[0].features[0].attributes = crate::Attributes::new(pairs);
        refused_because(&s, "key outside the key table");

        let mut s = small_scene();
        let f = s.layers[0].features[0].clone();
        s.layers[0].features.push(f);
        refused_because(&s, "not in id order");

        let mut s = crate::generate::city(20, 1);
        let roads = s
            .layers
            .iter_mut()
            .find_map(|l| l.network.as_mut())
            .expect("a road network");
        roads.edges[0].to = crate::NodeId(u32::MAX);
        refused_because(&s, "joins a node the network does not have");
    }

    #[test]
    fn headers_are_read_before_bodies() {
        // Regression: `info /dev/zero` read until memory ran out before looking at the 8-byte header.
        #[cfg(unix)]
        assert!(matches!(
            load(Path::new("/dev/zero")),
            Err(StoreError::NotAScene { .. })
        ));
        // A header that promises an exabyte is refused by the file's size, not by an allocation.
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("huge.twin");
        let mut bytes = Vec::new();
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        bytes.extend_from_slice(&(1u64 << 60).to_le_bytes());
        bytes.extend_from_slice(&0u32.to_le_bytes());
        std::fs::write(&p, &bytes).expect("write");
        assert!(matches!(load(&p), Err(StoreError::Truncated { .. })));
        // Bincode's debug text never reaches the message.
        let mut s = small_scene();
        s.layers[0].name = "x".into();
        save(&s, &p).expect("save");
        let mut bytes = std::fs::read(&p).expect("read");
        // Turn the head into garbage, then fix the checksum so the decoder sees it.
        for b in &mut bytes[HEADER_LEN + 8..HEADER_LEN + 40] {
            *b = 0xfe;
        }
        let crc = crc32fast::hash(&bytes[HEADER_LEN..]);
        bytes[20..24].copy_from_slice(&crc.to_le_bytes());
        let e = decode(&bytes, &p).expect_err("garbage");
        let text = e.to_string();
        assert!(!text.contains('{') && !text.contains("type_name"), "{text}");
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

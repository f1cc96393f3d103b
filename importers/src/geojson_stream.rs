//! The top-level object of a GeoJSON file walked from a byte stream, its `features` cut out in batches.
//!
//! The file is read in blocks into a buffer; serde_json scans each value in place (a borrowed
//! [`RawValue`] over the buffer, four times faster than scanning through an [`std::io::Read`], which copies
//! every byte of a raw value), and a batch is the buffer itself with the byte ranges of its features: when
//! the buffer runs out, its unread tail moves to a recycled buffer and the full one goes, whole, to the
//! threads that parse the features. Nothing is allocated per feature and memory stays at a few buffers,
//! whatever the size of the file.
//!
//! Only the structure between values is read here (whitespace, `{`, `:`, `,`, `[`, `]`, `}`); every value,
//! key and feature is scanned and checked by serde_json.

use serde_json::value::RawValue;
use std::io::Read;
use std::ops::Range;
use std::sync::mpsc::{Receiver, SyncSender};

/// Bytes read at a time (more when one value is longer).
const BLOCK: usize = 2 << 20;
/// At most this many features per batch (small features would otherwise make batches of hundreds of
/// thousands).
pub(crate) const MAX_BATCH: usize = 4_096;

/// Features cut out of the file: `ranges` of `buf`, numbered from `first` (0-based) in file order.
#[derive(Default)]
pub(crate) struct Batch {
    pub buf: Vec<u8>,
    pub ranges: Vec<Range<usize>>,
    /// The number of features before this batch.
    pub first: usize,
}

impl Batch {
    /// A batch of one feature.
    pub fn one(text: String) -> Self {
        let buf = text.into_bytes();
        Batch {
            ranges: std::iter::once(0..buf.len()).collect(),
            buf,
            first: 0,
        }
    }

    /// The text of each feature.
    pub fn features(&self) -> impl ExactSizeIterator<Item = &[u8]> + '_ {
        self.ranges.iter().map(|r| &self.buf[r.clone()])
    }
}

/// What the walker hands on, in file order.
pub(crate) enum Msg {
    /// A legacy `crs` member (it applies to the features that follow it).
    Crs(serde_json::Value),
    /// Features.
    Batch(Batch),
}

/// What the top-level object held besides its features.
#[derive(Default)]
pub(crate) struct Top {
    pub kind: Option<String>,
    /// Members of a lone Feature or Geometry (small: kept whole).
    pub members: serde_json::Map<String, serde_json::Value>,
    pub had_features: bool,
    /// Features handed on.
    pub features: usize,
}

/// Why walking stopped.
#[derive(Debug)]
pub(crate) enum WalkError {
    /// Reading failed.
    Io(std::io::Error),
    /// The text is not the JSON a GeoJSON object is: what is wrong, and where.
    Syntax(String),
    /// The receiving side stopped (on an error of its own).
    Stopped,
}

/// Walks the top-level object read from `reader`, sending features in batches to `tx`; used buffers come back
/// through `spare`.
pub(crate) fn walk(
    reader: impl Read,
    tx: &SyncSender<Msg>,
    spare: &Receiver<Vec<u8>>,
) -> Result<Top, WalkError> {
    let mut w = Walker {
        reader,
        buf: Vec::new(),
        at: 0,
        end: 0,
        eof: false,
        discarded: 0,
        lines_discarded: 0,
        line_start: 0,
        batch: Vec::new(),
        shipped: 0,
        tx,
        spare,
    };
    let top = w.top()?;
    match w.next_byte()? {
        None => Ok(top),
        Some(_) => Err(w.error_here("data after the end of the GeoJSON document")),
    }
}

struct Walker<'c, R> {
    reader: R,
    /// `buf[at..end]` is read and not yet consumed (`buf` beyond `end` is room for the next read, initialised
    /// once, not for every read).
    buf: Vec<u8>,
    at: usize,
    end: usize,
    eof: bool,
    /// Bytes, newlines before `buf[0]`, and where the line holding `buf[0]` starts (for error positions).
    discarded: u64,
    lines_discarded: u64,
    line_start: u64,
    /// Features found in `buf` and not yet handed on.
    batch: Vec<Range<usize>>,
    shipped: usize,
    tx: &'c SyncSender<Msg>,
    spare: &'c Receiver<Vec<u8>>,
}

impl<R: Read> Walker<'_, R> {
    /// Hands on the features found so far, moving the unread tail to a fresh buffer.
    fn ship(&mut self) -> Result<(), WalkError> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let mut next = self.spare.try_recv().unwrap_or_default();
        let tail = self.end - self.at;
        if next.len() < tail {
            next.resize(tail, 0);
        }
        next[..tail].copy_from_slice(&self.buf[self.at..self.end]);
        self.account(self.at);
        let full = std::mem::replace(&mut self.buf, next);
        self.at = 0;
        self.end = tail;
        let ranges = std::mem::take(&mut self.batch);
        let first = self.shipped;
        self.shipped += ranges.len();
        self.tx
            .send(Msg::Batch(Batch {
                buf: full,
                ranges,
                first,
            }))
            .map_err(|_| WalkError::Stopped)
    }

    /// Counts `buf[..n]` as gone (for error positions).
    fn account(&mut self, n: usize) {
        let gone = &self.buf[..n];
        self.lines_discarded += memchr::memchr_iter(b'\n', gone).count() as u64;
        if let Some(i) = memchr::memrchr(b'\n', gone) {
            self.line_start = self.discarded + i as u64 + 1;
        }
        self.discarded += n as u64;
    }

    /// Reads more: one read of up to a block, or of as much as is pending (so that a value longer than a block
    /// is rescanned a logarithmic number of times). Returns false at the end of the input.
    fn fill(&mut self) -> Result<bool, WalkError> {
        if self.eof {
            return Ok(false);
        }
        self.ship()?;
        if self.at > 0 {
            self.account(self.at);
            self.buf.copy_within(self.at..self.end, 0);
            self.end -= self.at;
            self.at = 0;
        }
        let want = BLOCK.max(self.end);
        if self.buf.len() < self.end + want {
            self.buf.resize(self.end + want, 0);
        }
        let got = loop {
            match self.reader.read(&mut self.buf[self.end..self.end + want]) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(WalkError::Io(e)),
            }
        };
        self.end += got;
        self.eof = got == 0;
        Ok(!self.eof)
    }

    /// The next byte that is not whitespace, not consumed; `None` at the end of the input.
    fn next_byte(&mut self) -> Result<Option<u8>, WalkError> {
        loop {
            match self.buf[self.at..self.end]
                .iter()
                .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
            {
                Some(i) => {
                    self.at += i;
                    return Ok(Some(self.buf[self.at]));
                }
                None => {
                    self.at = self.end;
                    if !self.fill()? {
                        return Ok(None);
                    }
                }
            }
        }
    }

    /// Consumes the next non-whitespace byte, which must be one of `want`; returns it.
    fn expect(&mut self, want: &[u8], what: &str) -> Result<u8, WalkError> {
        match self.next_byte()? {
            Some(b) if want.contains(&b) => {
                self.at += 1;
                Ok(b)
            }
            Some(_) => Err(self.error_here(&format!("expected {what}"))),
            None => Err(self.ends_early()),
        }
    }

    /// Scans the next value with serde_json; returns its range in `buf`.
    fn value(&mut self) -> Result<Range<usize>, WalkError> {
        loop {
            let rest = &self.buf[self.at..self.end];
            let scanned = {
                let mut de = serde_json::Deserializer::from_slice(rest);
                <&RawValue as serde::Deserialize>::deserialize(&mut de).map(|raw| {
                    (
                        raw.get().as_ptr() as usize - rest.as_ptr() as usize,
                        raw.get().len(),
                    )
                })
            };
            match scanned {
                // A value that ends where the buffer does may go on (a number cut by the block boundary).
                Ok((off, len)) if self.at + off + len < self.end || self.eof => {
                    let range = self.at + off..self.at + off + len;
                    self.at = range.end;
                    return Ok(range);
                }
                Ok(_) => {}
                // A number cut by the block boundary ("24." or "1e") is "invalid", not "EOF", to serde_json:
                // an error on the last byte read may go away with more input.
                Err(e) if !self.eof && (e.is_eof() || error_offset(rest, &e) + 1 >= rest.len()) => {
                }
                Err(e) if e.is_eof() => return Err(self.ends_early()),
                Err(e) => return Err(self.error_in_value(&e)),
            }
            // At the end of the input, the value is scanned once more knowing that nothing follows.
            self.fill()?;
        }
    }

    /// The top-level object.
    fn top(&mut self) -> Result<Top, WalkError> {
        let mut top = Top::default();
        if self.next_byte()?.is_none() {
            return Err(WalkError::Syntax("the file is empty".into()));
        }
        self.expect(b"{", "a GeoJSON object `{`")?;
        if self.next_byte()? == Some(b'}') {
            self.at += 1;
            return Ok(top);
        }
        loop {
            if self.next_byte()? != Some(b'"') {
                return Err(self.error_here("expected a member name"));
            }
            let key = self.value()?;
            let key: String = self.parse(key)?;
            self.expect(b":", "`:`")?;
            match key.as_str() {
                "features" => {
                    top.had_features = true;
                    self.features()?;
                }
                "type" => {
                    let r = self.value()?;
                    top.kind = Some(self.parse(r)?);
                }
                "crs" => {
                    let r = self.value()?;
                    let v = self.parse(r)?;
                    self.ship()?;
                    self.tx.send(Msg::Crs(v)).map_err(|_| WalkError::Stopped)?;
                }
                _ => {
                    let r = self.value()?;
                    let v = self.parse(r)?;
                    top.members.insert(key, v);
                }
            }
            if self.expect(b",}", "`,` or `}`")? == b'}' {
                break;
            }
        }
        self.ship()?;
        top.features = self.shipped;
        Ok(top)
    }

    /// The `features` array.
    fn features(&mut self) -> Result<(), WalkError> {
        self.expect(b"[", "an array of features `[`")?;
        if self.next_byte()? == Some(b']') {
            self.at += 1;
            return Ok(());
        }
        loop {
            if self.next_byte()? != Some(b'{') {
                return Err(self.error_here("expected a feature object `{`"));
            }
            let r = self.value()?;
            self.batch.push(r);
            if self.batch.len() == MAX_BATCH {
                self.ship()?;
            }
            if self.expect(b",]", "`,` or `]`")? == b']' {
                return Ok(());
            }
        }
    }

    /// Parses a (small) value scanned before.
    fn parse<T: serde::de::DeserializeOwned>(&self, r: Range<usize>) -> Result<T, WalkError> {
        serde_json::from_slice(&self.buf[r.clone()]).map_err(|e| {
            let (line, column) = self.position(r.start);
            WalkError::Syntax(format!(
                "{} at line {line}, column {column}",
                strip_position(&e)
            ))
        })
    }

    /// Line and column (1-based) of `buf[i]`.
    fn position(&self, i: usize) -> (u64, u64) {
        let before = &self.buf[..i];
        let line = self.lines_discarded + memchr::memchr_iter(b'\n', before).count() as u64 + 1;
        let column = match memchr::memrchr(b'\n', before) {
            Some(j) => (i - j) as u64,
            None => self.discarded + i as u64 - self.line_start + 1,
        };
        (line, column)
    }

    fn error_here(&self, what: &str) -> WalkError {
        let (line, column) = self.position(self.at.min(self.end));
        WalkError::Syntax(format!(
            "{what} at line {line}, column {column} (after {} features)",
            self.shipped + self.batch.len()
        ))
    }

    /// A serde_json error in the value at `at`: its position is relative to the value's start.
    fn error_in_value(&self, e: &serde_json::Error) -> WalkError {
        let (line, column) = self.position(self.at);
        let (line, column) = if e.line() <= 1 {
            (line, column + e.column().saturating_sub(1) as u64)
        } else {
            (line + e.line() as u64 - 1, e.column() as u64)
        };
        WalkError::Syntax(format!(
            "{} at line {line}, column {column} (after {} features)",
            strip_position(e),
            self.shipped + self.batch.len()
        ))
    }

    fn ends_early(&self) -> WalkError {
        WalkError::Syntax(format!(
            "the file ends in the middle of the document (after {} features): truncated?",
            self.shipped + self.batch.len()
        ))
    }
}

/// The byte offset in `text` of the character serde_json stopped at (its line and column are 1-based).
fn error_offset(text: &[u8], e: &serde_json::Error) -> usize {
    let line_start = match e.line() {
        0 | 1 => 0,
        n => memchr::memchr_iter(b'\n', text)
            .nth(n - 2)
            .map_or(text.len(), |i| i + 1),
    };
    line_start + e.column().saturating_sub(1)
}

/// serde_json's message without its own position (which is relative to the value, not the file).
fn strip_position(e: &serde_json::Error) -> String {
    let s = e.to_string();
    match s.rsplit_once(" at line ") {
        Some((msg, _)) => msg.to_owned(),
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Walks `text` read `step` bytes at a time; returns the top, the features' texts and the crs members.
    fn walk_text(text: &str, step: usize) -> Result<(Top, Vec<String>), WalkError> {
        struct Trickle<'a>(&'a [u8], usize);
        impl Read for Trickle<'_> {
            fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
                let n = self.1.min(out.len()).min(self.0.len());
                out[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let (tx, rx) = std::sync::mpsc::sync_channel(1000);
        let (_spare_tx, spare) = std::sync::mpsc::channel();
        let top = walk(Trickle(text.as_bytes(), step), &tx, &spare)?;
        drop(tx);
        let (mut out, mut features) = (Vec::new(), 0);
        for m in rx {
            match m {
                Msg::Batch(b) => {
                    assert_eq!(b.first, features);
                    features += b.ranges.len();
                    out.extend(
                        b.features()
                            .map(|f| String::from_utf8_lossy(f).into_owned()),
                    );
                }
                Msg::Crs(v) => out.push(format!("crs {v}")),
            }
        }
        Ok((top, out))
    }

    #[test]
    fn features_are_cut_out_whatever_the_read_size() {
        let text = "\n{ \"bbox\": [1, 2.5e3, 3, 4.25e-1], \"type\" : \"FeatureCollection\",\r\n \"crs\": {\"a\": 1}, \"features\": [ {\"a\": \"}]\\\"\"} ,\n{\"b\": [1,2,{}]}, {} ], \"n\": 123 }\n ";
        for step in [1, 2, 3, 7, 64, 1 << 20] {
            let (top, out) = walk_text(text, step).expect("walks");
            assert_eq!(top.kind.as_deref(), Some("FeatureCollection"));
            assert_eq!(
                top.members["n"], 123,
                "a number cut by a read is read whole"
            );
            assert_eq!(top.members["bbox"][1], 2500.0);
            assert_eq!(top.members["bbox"][3], 0.425, "step {step}");
            assert_eq!(top.features, 3);
            assert_eq!(
                out,
                [
                    "crs {\"a\":1}",
                    "{\"a\": \"}]\\\"\"}",
                    "{\"b\": [1,2,{}]}",
                    "{}"
                ],
                "step {step}"
            );
        }
    }

    #[test]
    fn malformed_structure_is_located() {
        let err = |text: &str| match walk_text(text, 5) {
            Err(WalkError::Syntax(s)) => s,
            Err(e) => panic!("{e:?}"),
            Ok(_) => panic!("{text} walked"),
        };
        assert!(err("").contains("empty"));
        assert!(err("[1]").contains("expected a GeoJSON object"));
        let e = err("{\"features\": [{}, {},]}");
        assert!(
            e.contains("expected a feature object") && e.contains("after 2 features"),
            "{e}"
        );
        let e = err("{\"type\": \"FeatureCollection\",\n  \"features\": [{\"a\": tru}]}");
        assert!(e.contains("line 2, column 25"), "{e}");
        let e = err("{\"features\": [{\"a\": 1}, {\"b\": 2");
        assert!(
            e.contains("ends in the middle") && e.contains("after 1 features"),
            "{e}"
        );
        let e = err("{\"type\": \"FeatureCollection\"}\n\n  x");
        assert!(
            e.contains("after the end") && e.contains("line 3, column 3"),
            "{e}"
        );
        assert!(err("{\"type\" \"x\"}").contains("expected `:`"));
    }
}

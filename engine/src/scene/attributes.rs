//! Feature attributes: typed values under keys interned per layer, stored compactly per feature.
//!
//! Glossary: a *value* ([`Value`]) is what an importer reads; a feature's [`Attributes`] keep their values
//! encoded in one byte string and hand them out as [`ValueRef`]s borrowed from it.

use serde::de::{SeqAccess, Visitor};
use serde::ser::SerializeSeq;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// One attribute value, as read from the source file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Value {
    /// Explicitly empty (a NULL field).
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// Text.
    Text(String),
}

impl Value {
    /// The value borrowed.
    pub fn as_ref(&self) -> ValueRef<'_> {
        match self {
            Value::Null => ValueRef::Null,
            Value::Bool(b) => ValueRef::Bool(*b),
            Value::Int(i) => ValueRef::Int(*i),
            Value::Float(f) => ValueRef::Float(*f),
            Value::Text(s) => ValueRef::Text(s),
        }
    }

    /// The value as a number, parsing text such as `"12.5"` or `"12 m"` leniently (OSM tags are text).
    pub fn as_f64(&self) -> Option<f64> {
        self.as_ref().as_f64()
    }

    /// The value as text, if it is text.
    pub fn as_str(&self) -> Option<&str> {
        self.as_ref().as_str()
    }

    /// The value as plain JSON.
    pub fn to_json(&self) -> serde_json::Value {
        self.as_ref().to_json()
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.as_ref().fmt(f)
    }
}

/// An attribute value borrowed from a feature's [`Attributes`]; encoded as [`Value`] is (same variants, same
/// order).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum ValueRef<'a> {
    /// Explicitly empty (a NULL field).
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// Text.
    Text(&'a str),
}

impl<'a> ValueRef<'a> {
    /// The value as a number, parsing text such as `"12.5"` or `"12 m"` leniently (OSM tags are text).
    pub fn as_f64(self) -> Option<f64> {
        match self {
            ValueRef::Int(i) => Some(i as f64),
            ValueRef::Float(f) if f.is_finite() => Some(f),
            ValueRef::Text(s) => parse_number_prefix(s),
            _ => None,
        }
    }

    /// The value as text, if it is text.
    pub fn as_str(self) -> Option<&'a str> {
        match self {
            ValueRef::Text(s) => Some(s),
            _ => None,
        }
    }

    /// The value as plain JSON.
    pub fn to_json(self) -> serde_json::Value {
        match self {
            ValueRef::Null => serde_json::Value::Null,
            ValueRef::Bool(b) => b.into(),
            ValueRef::Int(i) => i.into(),
            ValueRef::Float(f) => serde_json::Number::from_f64(f)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
            ValueRef::Text(s) => s.into(),
        }
    }

    /// An owned copy.
    pub fn to_value(self) -> Value {
        match self {
            ValueRef::Null => Value::Null,
            ValueRef::Bool(b) => Value::Bool(b),
            ValueRef::Int(i) => Value::Int(i),
            ValueRef::Float(f) => Value::Float(f),
            ValueRef::Text(s) => Value::Text(s.to_owned()),
        }
    }
}

impl fmt::Display for ValueRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValueRef::Null => write!(f, "null"),
            ValueRef::Bool(b) => write!(f, "{b}"),
            ValueRef::Int(i) => write!(f, "{i}"),
            ValueRef::Float(x) => write!(f, "{x}"),
            ValueRef::Text(s) => write!(f, "{s}"),
        }
    }
}

/// Parses the leading number of a text such as `"12"`, `"12.5 m"` or `"7;8"` (first of a list).
/// Returns `None` for text that does not start with a finite number.
pub fn parse_number_prefix(s: &str) -> Option<f64> {
    let s = s.trim();
    let end = s
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || c == '.' || ((c == '-' || c == '+') && i == 0)))
        .map_or(s.len(), |(i, _)| i);
    let v: f64 = s[..end].parse().ok()?;
    v.is_finite().then_some(v)
}

/// Index of an attribute key in its layer's key table ([`crate::Layer::keys`]).
pub type KeyIndex = u32;

/// A feature's attributes: `(key index, value)` pairs, sorted by key index, keys interned in the layer.
///
/// # Memory
/// The pairs are kept as one byte string, the scene file's own encoding of them (bincode's standard
/// configuration: a count, then each key and value as varints and text): a building with seven attributes
/// takes about 60 bytes instead of 250 in a vector of values (32 bytes a pair, a heap string per text). Values
/// are decoded when read, borrowed as [`ValueRef`]; a lookup scans the pairs (features have few).
#[derive(Clone, Default, PartialEq)]
pub struct Attributes {
    bytes: Box<[u8]>,
}

fn pair_config() -> bincode::config::Configuration {
    bincode::config::standard()
}

impl Attributes {
    /// Attributes from pairs in any order; of pairs with the same key, the first is kept.
    pub fn new(mut pairs: Vec<(KeyIndex, Value)>) -> Self {
        pairs.sort_by_key(|(k, _)| *k);
        pairs.dedup_by_key(|(k, _)| *k);
        let mut bytes = Vec::with_capacity(1 + pairs.len() * 10);
        // Writing into memory cannot fail, and every value encodes.
        let _ = bincode::serde::encode_into_std_write(&pairs, &mut bytes, pair_config());
        Attributes {
            bytes: bytes.into_boxed_slice(),
        }
    }

    /// The pairs as the scene file encodes them (bincode's standard configuration: the count, then each pair):
    /// the store writes these bytes as they are.
    pub(crate) fn encoded(&self) -> &[u8] {
        &self.bytes
    }

    /// The number of pairs and where the first one starts.
    fn head(&self) -> (usize, usize) {
        bincode::serde::borrow_decode_from_slice::<u64, _>(&self.bytes, pair_config())
            .map_or((0, self.bytes.len()), |(n, at)| (n as usize, at))
    }

    /// The pairs, in key order.
    pub fn iter(&self) -> AttrIter<'_> {
        let (left, at) = self.head();
        AttrIter {
            rest: self.bytes.get(at..).unwrap_or_default(),
            left,
        }
    }

    /// The value under `key`.
    pub fn get(&self, key: KeyIndex) -> Option<ValueRef<'_>> {
        self.iter()
            .take_while(|(k, _)| *k <= key)
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v)
    }

    /// The number of pairs.
    pub fn len(&self) -> usize {
        self.head().0
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Checks what a decoded scene file gave: every pair decodes, keys ascend and are below `keys`, nothing
    /// follows the last pair.
    pub(crate) fn check(&self, keys: usize) -> Result<(), &'static str> {
        let (n, at) =
            bincode::serde::borrow_decode_from_slice::<u64, _>(&self.bytes, pair_config())
                .map_err(|_| "attributes that do not decode")?;
        let mut rest = self
            .bytes
            .get(at..)
            .ok_or("attributes that do not decode")?;
        let mut last: Option<KeyIndex> = None;
        for _ in 0..n {
            let ((k, _), used) = bincode::serde::borrow_decode_from_slice::<
                (KeyIndex, ValueRef<'_>),
                _,
            >(rest, pair_config())
            .map_err(|_| "attributes that do not decode")?;
            if k as usize >= keys {
                return Err("an attribute key outside the key table");
            }
            if last.is_some_and(|l| l >= k) {
                return Err("attribute keys out of order");
            }
            last = Some(k);
            rest = &rest[used..];
        }
        if rest.is_empty() {
            Ok(())
        } else {
            Err("attributes that do not decode")
        }
    }
}

/// The pairs of an [`Attributes`], decoded one by one.
pub struct AttrIter<'a> {
    rest: &'a [u8],
    left: usize,
}

impl<'a> Iterator for AttrIter<'a> {
    type Item = (KeyIndex, ValueRef<'a>);
    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        match bincode::serde::borrow_decode_from_slice::<(KeyIndex, ValueRef<'a>), _>(
            self.rest,
            pair_config(),
        ) {
            Ok((pair, used)) => {
                self.rest = &self.rest[used..];
                self.left -= 1;
                Some(pair)
            }
            // Only a scene that failed its integrity check holds such bytes.
            Err(_) => {
                self.left = 0;
                None
            }
        }
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.left))
    }
}

impl fmt::Debug for Attributes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// A value as decoded from a scene file: its text borrowed from the file's bytes where the decoder allows.
#[derive(Deserialize)]
enum ValueCow<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(#[serde(borrow)] std::borrow::Cow<'a, str>),
}

impl ValueCow<'_> {
    fn as_ref(&self) -> ValueRef<'_> {
        match self {
            ValueCow::Null => ValueRef::Null,
            ValueCow::Bool(b) => ValueRef::Bool(*b),
            ValueCow::Int(i) => ValueRef::Int(*i),
            ValueCow::Float(f) => ValueRef::Float(*f),
            ValueCow::Text(s) => ValueRef::Text(s),
        }
    }
}

/// Written as the sequence of pairs it holds, as a vector of pairs is: the scene file format does not change.
impl Serialize for Attributes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.len()))?;
        for pair in self.iter() {
            seq.serialize_element(&pair)?;
        }
        seq.end()
    }
}

impl<'de> Deserialize<'de> for Attributes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Attributes;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a sequence of (key, value) pairs")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Attributes, A::Error> {
                // Decoded as written (sorted and unique keys are the integrity check's to verify), each pair
                // re-encoded as it comes; texts are borrowed when the input allows it.
                let mut body = Vec::new();
                let mut count = 0u64;
                while let Some((k, v)) = seq.next_element::<(KeyIndex, ValueCow<'de>)>()? {
                    let _ = bincode::serde::encode_into_std_write(
                        (k, v.as_ref()),
                        &mut body,
                        pair_config(),
                    );
                    count += 1;
                }
                let mut bytes = Vec::with_capacity(body.len() + 9);
                let _ = bincode::serde::encode_into_std_write(count, &mut bytes, pair_config());
                bytes.extend_from_slice(&body);
                Ok(Attributes {
                    bytes: bytes.into_boxed_slice(),
                })
            }
        }
        d.deserialize_seq(V)
    }
}

/// The key table of a layer: interns attribute names so a million features do not each own their key strings.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct KeyTable {
    keys: Vec<String>,
    #[serde(skip)]
    lookup: std::collections::HashMap<String, KeyIndex>,
}

impl KeyTable {
    /// The index of `key`, adding it if new.
    pub fn intern(&mut self, key: &str) -> KeyIndex {
        if self.lookup.len() != self.keys.len() {
            self.rebuild_lookup();
        }
        if let Some(&i) = self.lookup.get(key) {
            return i;
        }
        let i = self.keys.len() as KeyIndex;
        self.keys.push(key.to_owned());
        self.lookup.insert(key.to_owned(), i);
        i
    }

    /// The index of `key`, if present.
    pub fn get(&self, key: &str) -> Option<KeyIndex> {
        if self.lookup.len() == self.keys.len() {
            self.lookup.get(key).copied()
        } else {
            self.keys
                .iter()
                .position(|k| k == key)
                .map(|i| i as KeyIndex)
        }
    }

    /// The name of key `i`.
    pub fn name(&self, i: KeyIndex) -> &str {
        self.keys.get(i as usize).map_or("?", String::as_str)
    }

    /// All key names, in index order.
    pub fn names(&self) -> &[String] {
        &self.keys
    }

    fn rebuild_lookup(&mut self) {
        self.lookup = self
            .keys
            .iter()
            .enumerate()
            .map(|(i, k)| (k.clone(), i as KeyIndex))
            .collect();
    }

    /// Rebuilds the lookup after deserialisation.
    pub(crate) fn after_load(&mut self) {
        self.rebuild_lookup();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_prefix() {
        assert_eq!(parse_number_prefix("12"), Some(12.0));
        assert_eq!(parse_number_prefix(" 12.5 m"), Some(12.5));
        assert_eq!(parse_number_prefix("7;8"), Some(7.0));
        assert_eq!(parse_number_prefix("-3"), Some(-3.0));
        assert_eq!(parse_number_prefix("tall"), None);
        assert_eq!(parse_number_prefix(""), None);
    }

    #[test]
    fn attributes_are_compact_and_encode_as_a_vector_of_pairs() {
        let pairs = vec![
            (5, Value::Text("residential".into())),
            (1, Value::Int(-7)),
            (3, Value::Float(2.5)),
            (1, Value::Int(99)),
            (0, Value::Null),
            (9, Value::Bool(true)),
        ];
        let a = Attributes::new(pairs.clone());
        let got: Vec<(KeyIndex, Value)> = a.iter().map(|(k, v)| (k, v.to_value())).collect();
        let mut want = pairs.clone();
        want.sort_by_key(|(k, _)| *k);
        want.dedup_by_key(|(k, _)| *k);
        assert_eq!(got, want, "sorted by key, the first of a repeated key kept");
        assert_eq!(a.len(), 5);
        assert_eq!(a.get(5), Some(ValueRef::Text("residential")));
        assert_eq!(a.get(1).and_then(ValueRef::as_f64), Some(-7.0));
        assert_eq!(a.get(4), None);
        assert_eq!(a.get(10), None);
        assert!(a.check(10).is_ok());
        assert_eq!(a.check(9), Err("an attribute key outside the key table"));
        // The scene file format is unchanged: the same bytes as the vector of pairs it replaced.
        let cfg = bincode::config::standard();
        let as_vec = bincode::serde::encode_to_vec(&want, cfg).expect("encodes");
        assert_eq!(
            bincode::serde::encode_to_vec(&a, cfg).expect("encodes"),
            as_vec
        );
        let (back, _): (Attributes, usize) =
            bincode::serde::decode_from_slice(&as_vec, cfg).expect("decodes");
        assert_eq!(back, a);
        let (borrowed, _): (Attributes, usize) =
            bincode::serde::borrow_decode_from_slice(&as_vec, cfg).expect("decodes in place");
        assert_eq!(borrowed, a);
        assert!(a.bytes.len() < 40, "{} bytes", a.bytes.len());
        assert!(Attributes::default().is_empty());
        assert_eq!(Attributes::default().iter().count(), 0);
        // Out of order in a file: decoded as written, refused by the check.
        let swapped =
            bincode::serde::encode_to_vec(vec![(2u32, Value::Int(1)), (1u32, Value::Int(2))], cfg)
                .expect("encodes");
        let (bad, _): (Attributes, usize) =
            bincode::serde::decode_from_slice(&swapped, cfg).expect("decodes");
        assert_eq!(bad.check(5), Err("attribute keys out of order"));
    }

    #[test]
    fn interning_is_stable() {
        let mut t = KeyTable::default();
        let a = t.intern("height");
        let b = t.intern("name");
        assert_eq!(t.intern("height"), a);
        assert_ne!(a, b);
        assert_eq!(t.name(b), "name");
        assert_eq!(t.get("name"), Some(b));
        assert_eq!(t.get("missing"), None);
    }
}

//! Feature attributes: typed values under keys interned per layer.

use serde::{Deserialize, Serialize};
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
    /// The value as a number, parsing text such as `"12.5"` or `"12 m"` leniently (OSM tags are text).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) if f.is_finite() => Some(*f),
            Value::Text(s) => parse_number_prefix(s),
            _ => None,
        }
    }

    /// The value as text, if it is text.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }

    /// The value as plain JSON.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => (*b).into(),
            Value::Int(i) => (*i).into(),
            Value::Float(f) => serde_json::Number::from_f64(*f)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
            Value::Text(s) => s.clone().into(),
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => write!(f, "null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{x}"),
            Value::Text(s) => write!(f, "{s}"),
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
pub type Attributes = Vec<(KeyIndex, Value)>;

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

//! Typed identifiers.
//!
//! A [`FeatureId`] is unique within a scene and never reused: the scene hands them out in import order from a
//! counter that is saved with it, so the same imports in the same order give the same ids, and appending a layer
//! never renumbers existing features. Simulation state and live sensor observations key on it.
//! [`NodeId`] and [`EdgeId`] index a layer's [`crate::Network`]; they are stable for a saved scene. A [`LinkId`]
//! is an edge traversed in one direction: `2 × edge` forwards (from → to), `2 × edge + 1` backwards.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A feature's scene-wide, stable identifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct FeatureId(pub u64);

/// A node of a layer's network graph (an index into [`crate::Network::nodes`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct NodeId(pub u32);

/// An edge of a layer's network graph (an index into [`crate::Network::edges`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct EdgeId(pub u32);

/// A directed link: edge `e` forwards is `2e`, backwards `2e + 1`. Every edge has both ids; whether traffic may use
/// a direction is [`crate::Links::allowed`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct LinkId(pub u32);

impl LinkId {
    /// The link of `edge` in the given direction.
    pub fn new(edge: EdgeId, backward: bool) -> Self {
        LinkId(edge.0 * 2 + u32::from(backward))
    }

    /// The edge it runs along.
    pub fn edge(self) -> EdgeId {
        EdgeId(self.0 / 2)
    }

    /// Whether it runs against the edge's direction (from `to` to `from`).
    pub fn is_backward(self) -> bool {
        self.0 % 2 == 1
    }

    /// The same edge in the other direction.
    pub fn reverse(self) -> Self {
        LinkId(self.0 ^ 1)
    }

    /// As an index into per-link arrays.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for FeatureId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "n{}", self.0)
    }
}

impl fmt::Display for EdgeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "e{}", self.0)
    }
}

impl fmt::Display for LinkId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "e{}{}",
            self.0 / 2,
            if self.is_backward() { "-" } else { "+" }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_ids() {
        let f = LinkId::new(EdgeId(7), false);
        let b = LinkId::new(EdgeId(7), true);
        assert_eq!((f.0, b.0), (14, 15));
        assert_eq!(f.reverse(), b);
        assert_eq!(b.edge(), EdgeId(7));
        assert!(b.is_backward() && !f.is_backward());
        assert_eq!(b.to_string(), "e7-");
    }
}

//! Typed identifiers.
//!
//! A [`FeatureId`] is unique within a scene and never reused: the scene hands them out in import order from a
//! counter that is saved with it, so the same imports in the same order give the same ids, and appending a layer
//! never renumbers existing features. Simulation state and live sensor observations key on it.
//! [`NodeId`] and [`EdgeId`] index a layer's [`crate::Network`]; they are stable for a saved scene.

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

//! Water hydraulics after EPANET 2.2: the network model ([`WaterNetwork`]) and its extended-period solution by
//! the global gradient algorithm.
//!
//! Status: being written.

use serde::{Deserialize, Serialize};

/// An EPANET water network (placeholder until the model lands).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WaterNetwork {
    /// Title.
    pub title: String,
}

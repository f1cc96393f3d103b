//! Geometry checks shared by all importers: validation, safe repairs, and the reasons features are skipped.

mod validate;

pub use validate::{clean_geometry, polygon_from_rings, Cleaned, SkipReason};

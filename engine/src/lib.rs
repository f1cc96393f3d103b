//! # citytwin engine
//!
//! The city model every other part of citytwin works on: a [`Scene`] of [`Layer`]s in one local projected frame
//! ([`SceneFrame`]), with stable [`FeatureId`]s, building volumes, terrain grids and network graphs; the spatial
//! index and queries ([`spatial`]); coordinate reference systems through PROJ ([`crs`]); the binary scene store
//! ([`store`]); geometry validation shared by importers ([`geometry`]); and a seeded synthetic city
//! ([`generate`]).
//!
//! This crate builds and tests headless: it never depends on wgpu, winit or egui.
//!
//! # Glossary
//! - **scene**: one city model; **layer**: features of one kind from one source; **feature**: one object.
//! - **frame**: the scene's projected CRS and origin; all geometry is f64 metres relative to the origin.
//! - **buildings / framework / infrastructure**: the three layer kinds (volumes; terrain, boundaries, land use;
//!   networks).
//! - **network**: a graph of nodes and edges; each edge is one line feature (a road segment between junctions,
//!   a power line span between towers or junctions, a pipe).
//! - **LOD1 / LOD2**: building as an extruded footprint / with roof shapes.
//! - **DEM**: digital elevation model, held as a [`Terrain`] grid.
//!
//! # Examples
//! ```
//! use citytwin_engine::{generate, spatial};
//! let scene = generate::city(100, 1);
//! let buildings = scene.layer("buildings").expect("generated");
//! let near = spatial::nearest(buildings, [50.0, 50.0], 3);
//! assert_eq!(near.len(), 3);
//! assert!(near[0].distance <= near[1].distance);
//! ```

pub mod crs;
pub mod generate;
pub mod geometry;
mod ids;
mod scene;
pub mod sim;
pub mod spatial;
pub mod store;
pub mod time;
pub mod timeseries;

pub use ids::{EdgeId, FeatureId, LinkId, NodeId};
pub use scene::*;

/// An error and its causes on one line, `outer: cause: root cause`, as the CLI prints them. Error messages in
/// this workspace never repeat their cause (it is their `source`), so a message shown without this loses it.
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

//! The renderer: the GPU device, long-lived pipelines, and a scene's GPU resources (tiles, colour table).
//!
//! Entry types: [`GpuContext`] (instance, adapter, device, queue), [`MeshPipeline`] (created once),
//! [`GpuScene`] (buffers for one meshed scene). Per-frame work is in [`crate::passes`].

mod context;
mod gpu_scene;
mod pipeline;

pub use context::GpuContext;
pub use gpu_scene::{GpuScene, GpuTile, Lighting};
pub use pipeline::{FrameUniform, MeshPipeline, COLOR_TABLE_WIDTH, DEPTH_FORMAT, MESH_WGSL};

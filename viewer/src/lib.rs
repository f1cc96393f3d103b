//! # citytwin viewer
//!
//! One renderer for the desktop viewer and for headless planning-review screenshots. The CPU side meshes a
//! [`citytwin_engine::Scene`] into per-layer tiles ([`mesh`]); the GPU side ([`renderer`]) keeps long-lived
//! pipelines apart from a scene's buffers and per-feature colour table; [`passes`] draw a frame and read it
//! back; [`HeadlessRenderer`] ties them together for PNG output without a window (Mesa lavapipe on machines
//! without a GPU).
//!
//! # Glossary
//! - **slot**: a feature's index in the GPU colour table (slot 0 is the ground plane).
//! - **tile**: the merged geometry of one layer in a 500 m square; the unit of upload, culling and drawing.
//! - **camera-relative**: vertices are f32 offsets from their tile origin, shifted by `origin − eye` per tile.
//! - **colour-by**: what decides feature colours (height, use, an attribute); it rewrites only the colour table.
//! - **MSAA**: multisample antialiasing (4 samples where the adapter allows).

pub mod camera;
pub mod colour;
pub mod mesh;
pub mod passes;
pub mod renderer;

pub use camera::OrbitCamera;
pub use colour::{ColorBy, Legend};

use citytwin_engine::Scene;
use renderer::{GpuContext, GpuScene, Lighting, MeshPipeline};
use thiserror::Error;

/// Rendering errors.
#[derive(Debug, Error)]
pub enum RenderError {
    /// No usable graphics adapter (no GPU and no Mesa lavapipe/llvmpipe).
    #[error("no usable graphics adapter: {0} (on a machine without a GPU install Mesa's Vulkan driver: apt install mesa-vulkan-drivers)")]
    NoAdapter(String),
    /// A layer name that is not in the scene.
    #[error("the scene has no layer named `{name}` (it has: {available})")]
    UnknownLayer {
        /// Asked for.
        name: String,
        /// Present.
        available: String,
    },
    /// The colour-by cannot be applied.
    #[error(transparent)]
    Color(#[from] colour::ColorError),
    /// A GPU operation failed.
    #[error("GPU: {0}")]
    Gpu(String),
    /// A bad image size.
    #[error("image size {0}×{1} is outside 1..=8192")]
    Size(u32, u32),
}

/// A scene meshed and uploaded, ready for frames.
#[derive(Debug)]
pub struct PreparedScene {
    /// The CPU meshes.
    pub mesh: mesh::SceneMesh,
    /// The GPU resources.
    pub gpu: GpuScene,
    /// Per-layer visibility.
    pub visible: Vec<bool>,
    /// The legend of the current colour-by.
    pub legend: Option<Legend>,
}

/// Renders scenes to images without a window.
#[derive(Debug)]
pub struct HeadlessRenderer {
    /// Device and queue.
    pub ctx: GpuContext,
    /// The mesh pipeline.
    pub pipe: MeshPipeline,
    /// Lighting.
    pub light: Lighting,
}

/// Output format of headless frames.
pub const HEADLESS_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rgba8UnormSrgb;

impl HeadlessRenderer {
    /// Creates the device and pipelines (4× MSAA where supported).
    ///
    /// # Errors
    /// [`RenderError::NoAdapter`].
    pub fn new() -> Result<Self, RenderError> {
        let ctx = GpuContext::headless()?;
        let flags = ctx
            .adapter
            .get_texture_format_features(HEADLESS_FORMAT)
            .flags;
        let samples = if flags.sample_count_supported(4) {
            4
        } else {
            1
        };
        let pipe = MeshPipeline::new(&ctx.device, HEADLESS_FORMAT, samples);
        Ok(HeadlessRenderer {
            ctx,
            pipe,
            light: Lighting::default(),
        })
    }

    /// Meshes and uploads `scene`, all layers visible, coloured by layer.
    pub fn prepare(&self, scene: &Scene) -> PreparedScene {
        let mesh = mesh::build(scene);
        let visible = vec![true; scene.layers.len()];
        let (colors, legend) = match colour::compute(scene, &mesh, &ColorBy::Layer, &visible) {
            Ok(c) => c,
            Err(_) => (vec![colour::GROUND_COLOR; mesh.slot_count()], None),
        };
        let gpu = GpuScene::new(
            &self.ctx.device,
            &self.ctx.queue,
            &self.pipe,
            &mesh,
            &colors,
        );
        PreparedScene {
            mesh,
            gpu,
            visible,
            legend,
        }
    }

    /// Shows only the named layers (all when `None`).
    ///
    /// # Errors
    /// [`RenderError::UnknownLayer`].
    pub fn set_layers(
        &self,
        scene: &Scene,
        prepared: &mut PreparedScene,
        names: Option<&[String]>,
    ) -> Result<(), RenderError> {
        prepared.visible = match names {
            None => vec![true; scene.layers.len()],
            Some(names) => {
                let mut v = vec![false; scene.layers.len()];
                for n in names {
                    let i = scene
                        .layers
                        .iter()
                        .position(|l| &l.name == n)
                        .ok_or_else(|| RenderError::UnknownLayer {
                            name: n.clone(),
                            available: scene.layer_names(),
                        })?;
                    v[i] = true;
                }
                v
            }
        };
        Ok(())
    }

    /// Recolours by `by` (rewrites the colour table only).
    ///
    /// # Errors
    /// [`RenderError::Color`] for an attribute no visible feature has.
    pub fn set_color_by(
        &self,
        scene: &Scene,
        prepared: &mut PreparedScene,
        by: &ColorBy,
    ) -> Result<(), RenderError> {
        let (colors, legend) = colour::compute(scene, &prepared.mesh, by, &prepared.visible)?;
        prepared.gpu.set_colors(&self.ctx.queue, &colors);
        prepared.legend = legend;
        Ok(())
    }

    /// A camera showing everything visible.
    pub fn fit_camera(&self, prepared: &PreparedScene, size: (u32, u32)) -> OrbitCamera {
        let mut b = mesh::EMPTY_BOUNDS;
        for lm in prepared
            .mesh
            .layers
            .iter()
            .filter(|lm| prepared.visible.get(lm.layer).copied().unwrap_or(true))
        {
            for t in &lm.tiles {
                mesh::grow(&mut b, &t.bounds);
            }
        }
        if b[0] > b[3] {
            b = prepared.mesh.bounds;
        }
        OrbitCamera::fit(b, size.0 as f64 / size.1 as f64)
    }

    /// Renders one frame of `size` pixels from `camera`.
    ///
    /// # Errors
    /// [`RenderError::Size`], [`RenderError::Gpu`].
    pub fn frame(
        &self,
        prepared: &PreparedScene,
        camera: &OrbitCamera,
        size: (u32, u32),
    ) -> Result<image::RgbaImage, RenderError> {
        if !(1..=8192).contains(&size.0) || !(1..=8192).contains(&size.1) {
            return Err(RenderError::Size(size.0, size.1));
        }
        let target = passes::Target::new(&self.ctx.device, &self.pipe, size);
        let visible_layers = |l: usize| prepared.visible.get(l).copied().unwrap_or(true);
        let tiles = prepared.gpu.prepare(
            &self.ctx.queue,
            camera,
            size.0 as f64 / size.1 as f64,
            &self.light,
            &visible_layers,
            0,
        );
        let mut enc = self.ctx.device.create_command_encoder(&Default::default());
        passes::main_pass(
            &mut enc,
            &target,
            &self.pipe,
            &prepared.gpu,
            &tiles,
            self.light.sky,
        );
        self.ctx.queue.submit([enc.finish()]);
        passes::read_back(&self.ctx.device, &self.ctx.queue, &target.color, size)
    }
}

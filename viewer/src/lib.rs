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

pub mod app;
pub mod camera;
pub mod colour;
pub mod mesh;
pub mod passes;
pub mod renderer;
pub mod run;
mod ui;

pub use camera::OrbitCamera;
pub use colour::{ColorBy, Legend};
pub use run::{Quantity, RunView};

use citytwin_engine::time::SimTime;
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
    /// The scene or run could not be loaded into the window (the message names the file).
    #[error("{0}")]
    Load(String),
    /// The simulation run cannot be shown.
    #[error(transparent)]
    Run(#[from] run::RunError),
}

/// A scene meshed and uploaded, ready for frames: what the desktop viewer and headless renders share.
#[derive(Debug)]
pub struct PreparedScene {
    /// The CPU meshes.
    pub mesh: mesh::SceneMesh,
    /// The GPU resources.
    pub gpu: GpuScene,
    /// Per-layer visibility.
    pub visible: Vec<bool>,
    /// Per-layer opacity, 0..=1.
    pub opacity: Vec<f32>,
    /// The current colour-by.
    pub color_by: ColorBy,
    /// The legend of the current colour-by.
    pub legend: Option<Legend>,
    /// The simulation run shown on the scene, if any.
    pub run: Option<RunView>,
    /// The moment of the run shown.
    pub time: SimTime,
}

impl PreparedScene {
    /// Meshes and uploads `scene`, all layers visible and opaque, coloured by layer.
    pub fn new(
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        pipe: &MeshPipeline,
        scene: &Scene,
    ) -> Self {
        Self::from_mesh(device, queue, pipe, scene, mesh::build(scene))
    }

    /// Uploads an already built mesh of `scene` (meshing can run on another thread).
    pub fn from_mesh(
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        pipe: &MeshPipeline,
        scene: &Scene,
        mesh: mesh::SceneMesh,
    ) -> Self {
        let visible = vec![true; scene.layers.len()];
        let (colors, legend) = match colour::compute(scene, &mesh, &ColorBy::Layer, &visible, None)
        {
            Ok(c) => c,
            Err(_) => (vec![colour::GROUND_COLOR; mesh.slot_count()], None),
        };
        let gpu = GpuScene::new(device, queue, pipe, &mesh, &colors);
        let opacity = vec![1.0; scene.layers.len()];
        PreparedScene {
            mesh,
            gpu,
            visible,
            opacity,
            color_by: ColorBy::Layer,
            legend,
            run: None,
            time: SimTime(0),
        }
    }

    /// Shows `run` (already prepared for this scene's mesh), at its start.
    pub fn set_run(&mut self, run: Option<RunView>) {
        if let Some(r) = &run {
            self.time = r.start;
        }
        self.run = run;
    }

    /// Moves to moment `t` of the run; recolours when the colour-by is simulated and the step changed. Returns
    /// whether the colours changed.
    ///
    /// # Errors
    /// [`RenderError::Color`] when the colour-by cannot be applied.
    pub fn set_time(
        &mut self,
        queue: &wgpu::Queue,
        scene: &Scene,
        t: SimTime,
    ) -> Result<bool, RenderError> {
        let before = self.time;
        self.time = t;
        let ColorBy::Simulated(q) = self.color_by else {
            return Ok(false);
        };
        let changed = self
            .run
            .as_ref()
            .and_then(|r| r.series.get(&q))
            .is_some_and(|s| s.step_at(before) != s.step_at(t));
        if changed {
            let by = self.color_by.clone();
            self.set_color_by(queue, scene, &by)?;
        }
        Ok(changed)
    }

    /// Shows only the named layers (all when `None`).
    ///
    /// # Errors
    /// [`RenderError::UnknownLayer`].
    pub fn set_layers(
        &mut self,
        scene: &Scene,
        names: Option<&[String]>,
    ) -> Result<(), RenderError> {
        self.visible = match names {
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

    /// Recolours by `by`, applying layer opacities (rewrites the colour table only).
    ///
    /// # Errors
    /// [`RenderError::Color`] for an attribute no visible feature has.
    pub fn set_color_by(
        &mut self,
        queue: &wgpu::Queue,
        scene: &Scene,
        by: &ColorBy,
    ) -> Result<(), RenderError> {
        let sim = self.run.as_ref().map(|r| (r, self.time));
        let (mut colors, legend) = colour::compute(scene, &self.mesh, by, &self.visible, sim)?;
        for (i, c) in colors.iter_mut().enumerate().skip(1) {
            let layer = self.mesh.slots[i - 1].layer;
            let a = self
                .opacity
                .get(layer)
                .copied()
                .unwrap_or(1.0)
                .clamp(0.0, 1.0);
            c[3] = (a * 255.0).round() as u8;
        }
        self.gpu.set_colors(queue, &colors);
        self.color_by = by.clone();
        self.legend = legend;
        Ok(())
    }

    /// A camera showing everything visible.
    pub fn fit_camera(&self, size: (u32, u32)) -> OrbitCamera {
        let mut b = mesh::EMPTY_BOUNDS;
        for lm in self
            .mesh
            .layers
            .iter()
            .filter(|lm| self.visible.get(lm.layer).copied().unwrap_or(true))
        {
            for t in &lm.tiles {
                mesh::grow(&mut b, &t.bounds);
            }
        }
        if b[0] > b[3] {
            b = self.mesh.bounds;
        }
        OrbitCamera::fit(b, size.0 as f64 / size.1.max(1) as f64)
    }

    /// Renders a frame into `target` (submitted to the queue), highlighting `highlight_slot` (0: none).
    pub fn render(
        &self,
        gpu: &FrameContext<'_>,
        camera: &OrbitCamera,
        target: &passes::Target,
        highlight_slot: u32,
    ) {
        let FrameContext {
            device,
            queue,
            pipe,
            light,
        } = *gpu;
        let size = target.size;
        let visible_layers = |l: usize| self.visible.get(l).copied().unwrap_or(true);
        let tiles = self.gpu.prepare(
            queue,
            camera,
            size.0 as f64 / size.1.max(1) as f64,
            light,
            &visible_layers,
            highlight_slot,
        );
        let mut enc = device.create_command_encoder(&Default::default());
        passes::main_pass(&mut enc, target, pipe, &self.gpu, &tiles, light.sky);
        queue.submit([enc.finish()]);
    }
}

/// What drawing a frame needs from the device side.
#[derive(Clone, Copy, Debug)]
pub struct FrameContext<'a> {
    /// The device.
    pub device: &'a wgpu::Device,
    /// Its queue.
    pub queue: &'a wgpu::Queue,
    /// The mesh pipeline.
    pub pipe: &'a MeshPipeline,
    /// Lighting.
    pub light: &'a Lighting,
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

/// Colour format of rendered frames (headless and the viewer's 3D view).
pub const FRAME_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rgba8UnormSrgb;

/// The MSAA sample count an adapter supports for [`FRAME_FORMAT`] (4, else 1).
pub fn msaa_samples(adapter: &wgpu::Adapter) -> u32 {
    let flags = adapter.get_texture_format_features(FRAME_FORMAT).flags;
    if flags.sample_count_supported(4) {
        4
    } else {
        1
    }
}

impl HeadlessRenderer {
    /// Creates the device and pipelines (4× MSAA where supported).
    ///
    /// # Errors
    /// [`RenderError::NoAdapter`].
    pub fn new() -> Result<Self, RenderError> {
        let ctx = GpuContext::headless()?;
        let pipe = MeshPipeline::new(&ctx.device, FRAME_FORMAT, msaa_samples(&ctx.adapter));
        Ok(HeadlessRenderer {
            ctx,
            pipe,
            light: Lighting::default(),
        })
    }

    /// Meshes and uploads `scene`.
    pub fn prepare(&self, scene: &Scene) -> PreparedScene {
        PreparedScene::new(&self.ctx.device, &self.ctx.queue, &self.pipe, scene)
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
        prepared.set_layers(scene, names)
    }

    /// Recolours by `by`.
    ///
    /// # Errors
    /// [`RenderError::Color`].
    pub fn set_color_by(
        &self,
        scene: &Scene,
        prepared: &mut PreparedScene,
        by: &ColorBy,
    ) -> Result<(), RenderError> {
        prepared.set_color_by(&self.ctx.queue, scene, by)
    }

    /// A camera showing everything visible.
    pub fn fit_camera(&self, prepared: &PreparedScene, size: (u32, u32)) -> OrbitCamera {
        prepared.fit_camera(size)
    }

    /// Loads the simulation run at `path` onto the prepared scene.
    ///
    /// # Errors
    /// [`RenderError::Run`]: not a run, or a run of another scene.
    pub fn load_run(
        &self,
        scene: &Scene,
        prepared: &mut PreparedScene,
        path: &std::path::Path,
    ) -> Result<(), RenderError> {
        let run = RunView::load(path, scene, &prepared.mesh)?;
        prepared.set_run(Some(run));
        Ok(())
    }

    /// Moves the run shown to moment `t` (recolouring a simulated colour-by).
    ///
    /// # Errors
    /// [`RenderError::Color`].
    pub fn set_time(
        &self,
        scene: &Scene,
        prepared: &mut PreparedScene,
        t: SimTime,
    ) -> Result<(), RenderError> {
        prepared.set_time(&self.ctx.queue, scene, t).map(|_| ())
    }

    /// Renders one frame of `size` pixels from `camera` and reads it back.
    ///
    /// # Errors
    /// [`RenderError::Size`], [`RenderError::Gpu`].
    pub fn frame(
        &self,
        prepared: &PreparedScene,
        camera: &OrbitCamera,
        size: (u32, u32),
    ) -> Result<image::RgbaImage, RenderError> {
        self.render_and_read(prepared, camera, size, None)
    }

    /// Like [`Self::frame`], with the legend of the current colour-by and `caption` drawn over the image (what a
    /// planning-review screenshot shows).
    ///
    /// # Errors
    /// As [`Self::frame`].
    pub fn frame_annotated(
        &self,
        prepared: &PreparedScene,
        camera: &OrbitCamera,
        size: (u32, u32),
        caption: &str,
    ) -> Result<image::RgbaImage, RenderError> {
        self.render_and_read(prepared, camera, size, Some(caption))
    }

    fn render_and_read(
        &self,
        prepared: &PreparedScene,
        camera: &OrbitCamera,
        size: (u32, u32),
        caption: Option<&str>,
    ) -> Result<image::RgbaImage, RenderError> {
        if !(1..=8192).contains(&size.0) || !(1..=8192).contains(&size.1) {
            return Err(RenderError::Size(size.0, size.1));
        }
        let (device, queue) = (&self.ctx.device, &self.ctx.queue);
        let target = passes::Target::new(device, &self.pipe, size, false);
        let gpu = FrameContext {
            device,
            queue,
            pipe: &self.pipe,
            light: &self.light,
        };
        prepared.render(&gpu, camera, &target, 0);
        if let Some(caption) = caption {
            passes::draw_overlay(device, queue, &target, prepared.legend.as_ref(), caption);
        }
        passes::read_back(device, queue, &target.color, size)
    }
}

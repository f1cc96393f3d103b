//! The desktop viewer: an eframe (winit + wgpu) window with the 3D view in the middle and egui panels around it.
//!
//! The scene loads and meshes on a background thread while the window shows progress; the 3D view renders
//! into an offscreen MSAA target (the same passes as headless rendering) shown as an egui image. The viewer
//! reads the scene and never writes the simulation; it writes the scene file only to save bookmarks.

pub(crate) mod interaction;

use crate::camera::OrbitCamera;
use crate::mesh::{self, SceneMesh};
use crate::passes::{self, Target};
use crate::renderer::{Lighting, MeshPipeline};
use crate::{
    msaa_samples, ColorBy, FrameContext, PreparedScene, Quantity, RenderError, RunView,
    FRAME_FORMAT,
};
use citytwin_engine::{FeatureId, Scene};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, Receiver};
use std::sync::{Arc, Mutex};

/// Options of `citytwin view`.
#[derive(Clone, Debug, Default)]
pub struct ViewOptions {
    /// Close the window after this many frames once the scene is shown (for tests and smoke checks).
    pub exit_after_frames: Option<u64>,
    /// A simulation run of the scene to play on the time slider.
    pub run: Option<PathBuf>,
}

/// Which tool a click uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tool {
    Select,
    Distance,
    Area,
}

/// Everything about a loaded scene in the window.
pub(crate) struct Loaded {
    pub scene: Scene,
    pub prepared: PreparedScene,
    pub camera: OrbitCamera,
    pub home: OrbitCamera,
    pub target: Option<(Target, egui::TextureId)>,
    pub dirty: bool,
    pub selected: Option<FeatureId>,
    pub tool: Tool,
    pub measure: Vec<[f64; 3]>,
    pub search: String,
    pub search_results: Vec<FeatureId>,
    pub bookmark_name: String,
    pub color_by_text: String,
    pub status: String,
    pub shots: u32,
    pub playing: bool,
    pub play_speed: u32,
}

impl Loaded {
    /// Renders the current view, with the selection highlighted, into `target`.
    fn draw(
        &self,
        rs: &egui_wgpu::RenderState,
        pipe: &MeshPipeline,
        light: &Lighting,
        target: &Target,
    ) {
        let slot = self
            .selected
            .and_then(|id| self.prepared.mesh.slot_of_feature(&self.scene, id))
            .unwrap_or(0);
        let gpu = FrameContext {
            device: &rs.device,
            queue: &rs.queue,
            pipe,
            light,
        };
        self.prepared.render(&gpu, &self.camera, target, slot);
    }
}

/// What the loading thread hands over.
type LoadResult = Result<(Scene, SceneMesh, Option<RunView>), String>;

enum State {
    Loading {
        rx: Receiver<LoadResult>,
        stage: Arc<Mutex<String>>,
    },
    Ready(Box<Loaded>),
    Failed(String),
}

/// The eframe application.
pub struct ViewerApp {
    path: PathBuf,
    state: State,
    pipe: MeshPipeline,
    light: Lighting,
    opts: ViewOptions,
    frames_shown: u64,
    /// Set when the window closes because of an error, for the exit code.
    failure: Arc<Mutex<Option<String>>>,
}

fn start_loading(path: &Path, run: Option<PathBuf>, ctx: &egui::Context) -> State {
    let (tx, rx) = channel();
    let stage = Arc::new(Mutex::new("reading the scene file".to_owned()));
    let (path, stage2, ctx) = (path.to_owned(), stage.clone(), ctx.clone());
    std::thread::spawn(move || {
        let set = |s: String| {
            if let Ok(mut x) = stage2.lock() {
                *x = s;
            }
            ctx.request_repaint();
        };
        let result = citytwin_engine::store::load(&path)
            .map_err(|e| citytwin_engine::error_chain(&e))
            .and_then(|scene| {
                set(format!("meshing {} features", scene.feature_count()));
                let m = mesh::build(&scene);
                let r = match &run {
                    Some(dir) => {
                        set(format!("reading the run {}", dir.display()));
                        Some(
                            RunView::load(dir, &scene, &m)
                                .map_err(|e| citytwin_engine::error_chain(&e))?,
                        )
                    }
                    None => None,
                };
                Ok((scene, m, r))
            });
        let _ = tx.send(result);
        ctx.request_repaint();
    });
    State::Loading { rx, stage }
}

impl ViewerApp {
    fn new(
        cc: &eframe::CreationContext<'_>,
        path: PathBuf,
        opts: ViewOptions,
        failure: Arc<Mutex<Option<String>>>,
    ) -> Result<Self, String> {
        let rs = cc
            .wgpu_render_state
            .as_ref()
            .ok_or("the window has no wgpu renderer")?;
        let pipe = MeshPipeline::new(&rs.device, FRAME_FORMAT, msaa_samples(&rs.adapter));
        let state = start_loading(&path, opts.run.clone(), &cc.egui_ctx);
        Ok(ViewerApp {
            path,
            state,
            pipe,
            light: Lighting::default(),
            opts,
            frames_shown: 0,
            failure,
        })
    }

    fn poll_loading(&mut self, rs: &egui_wgpu::RenderState) {
        let State::Loading { rx, .. } = &self.state else {
            return;
        };
        let Ok(result) = rx.try_recv() else { return };
        self.state = match result {
            Err(e) => State::Failed(e),
            Ok((scene, mesh, run)) => {
                let mut prepared =
                    PreparedScene::from_mesh(&rs.device, &rs.queue, &self.pipe, &scene, mesh);
                let first = run.as_ref().and_then(|r| {
                    [Quantity::LinkVolume, Quantity::Occupancy]
                        .into_iter()
                        .find(|q| r.series.contains_key(q))
                });
                prepared.set_run(run);
                let mut status = String::new();
                if let Some(q) = first {
                    if let Err(e) = prepared.set_color_by(&rs.queue, &scene, &ColorBy::Simulated(q))
                    {
                        status = citytwin_engine::error_chain(&e);
                    }
                }
                let home = prepared.fit_camera((1280, 800));
                State::Ready(Box::new(Loaded {
                    color_by_text: String::new(),
                    scene,
                    prepared,
                    camera: home,
                    home,
                    target: None,
                    dirty: true,
                    selected: None,
                    tool: Tool::Select,
                    measure: Vec::new(),
                    search: String::new(),
                    search_results: Vec::new(),
                    bookmark_name: String::new(),
                    status,
                    shots: 0,
                    playing: false,
                    play_speed: 900,
                }))
            }
        };
    }

    /// Draws the 3D view into `rect`, re-rendering when something changed.
    fn view_3d(&mut self, ui: &mut egui::Ui, rs: &egui_wgpu::RenderState) {
        let State::Ready(l) = &mut self.state else {
            return;
        };
        let rect = ui.available_rect_before_wrap();
        let ppp = ui.ctx().pixels_per_point();
        let size = (
            (rect.width() * ppp).round().max(1.0) as u32,
            (rect.height() * ppp).round().max(1.0) as u32,
        );
        let resized = l.target.as_ref().is_none_or(|(t, _)| t.size != size);
        if resized {
            // egui samples the frame as the gamma-encoded image it is: a non-sRGB view of it, where the adapter
            // allows views in other formats (not on GL, where the colours then come out a little dark).
            let linear = rs
                .adapter
                .get_downlevel_capabilities()
                .flags
                .contains(wgpu::DownlevelFlags::VIEW_FORMATS);
            let t = Target::new(&rs.device, &self.pipe, size, linear);
            let view = t.color.create_view(&wgpu::TextureViewDescriptor {
                format: Some(if linear {
                    FRAME_FORMAT.remove_srgb_suffix()
                } else {
                    FRAME_FORMAT
                }),
                ..Default::default()
            });
            let mut r = rs.renderer.write();
            let id = match l.target.take() {
                Some((_, id)) => {
                    r.update_egui_texture_from_wgpu_texture(
                        &rs.device,
                        &view,
                        wgpu::FilterMode::Linear,
                        id,
                    );
                    id
                }
                None => r.register_native_texture(&rs.device, &view, wgpu::FilterMode::Linear),
            };
            l.target = Some((t, id));
            l.dirty = true;
        }
        let response = ui.put(
            rect,
            egui::Image::new((
                l.target
                    .as_ref()
                    .map_or(egui::TextureId::default(), |t| t.1),
                rect.size(),
            ))
            .sense(egui::Sense::click_and_drag()),
        );
        interaction::handle(l, ui, &response, rect);
        if l.dirty {
            if let Some((t, _)) = &l.target {
                l.draw(rs, &self.pipe, &self.light, t);
            }
            l.dirty = false;
        }
        interaction::paint_overlays(l, ui, rect);
        crate::ui::legend(l, ui, rect);
    }

    fn screenshot(&self, rs: &egui_wgpu::RenderState) -> Result<PathBuf, RenderError> {
        let State::Ready(l) = &self.state else {
            return Err(RenderError::Gpu("no scene".into()));
        };
        let size = l.target.as_ref().map_or((1920, 1080), |t| t.0.size);
        let target = Target::new(&rs.device, &self.pipe, size, false);
        l.draw(rs, &self.pipe, &self.light, &target);
        let img = passes::read_back(&rs.device, &rs.queue, &target.color, size)?;
        let stem = self
            .path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "scene".into());
        let out = PathBuf::from(format!("{stem}-view-{}.png", l.shots + 1));
        img.save(&out)
            .map_err(|e| RenderError::Gpu(format!("{}: {e}", out.display())))?;
        Ok(out)
    }
}

impl eframe::App for ViewerApp {
    fn ui(&mut self, ui: &mut egui::Ui, frame: &mut eframe::Frame) {
        let Some(rs) = frame.wgpu_render_state().cloned() else {
            return;
        };
        self.poll_loading(&rs);
        let ctx = ui.ctx().clone();
        match &mut self.state {
            State::Loading { stage, .. } => {
                let text = stage.lock().map(|s| s.clone()).unwrap_or_default();
                egui::CentralPanel::default().show(ui, |ui| {
                    ui.centered_and_justified(|ui| {
                        ui.vertical_centered(|ui| {
                            ui.label(format!("Loading {}", self.path.display()));
                            let frac = if text.starts_with("meshing") {
                                0.6
                            } else {
                                0.2
                            };
                            ui.add(
                                egui::ProgressBar::new(frac)
                                    .animate(true)
                                    .desired_width(360.0)
                                    .text(format!("{text}…")),
                            );
                        });
                    });
                });
                ctx.request_repaint_after(std::time::Duration::from_millis(50));
                return;
            }
            State::Failed(e) => {
                let msg = format!("{}: {e}", self.path.display());
                egui::CentralPanel::default().show(ui, |ui| {
                    ui.colored_label(egui::Color32::RED, &msg);
                });
                if self.opts.exit_after_frames.is_some() {
                    if let Ok(mut f) = self.failure.lock() {
                        *f = Some(msg);
                    }
                    ctx.send_viewport_cmd(egui::ViewportCommand::Close);
                }
                return;
            }
            State::Ready(_) => {}
        }
        let mut want_shot = false;
        if let State::Ready(l) = &mut self.state {
            crate::ui::side_panel(l, ui, &self.path, &mut want_shot, &rs.queue);
            crate::ui::bottom_panel(l, ui, &rs.queue);
        }
        if want_shot {
            let result = self.screenshot(&rs);
            if let State::Ready(l) = &mut self.state {
                l.status = match result {
                    Ok(p) => {
                        l.shots += 1;
                        format!("screenshot saved: {}", p.display())
                    }
                    Err(e) => format!("screenshot failed: {e}"),
                };
            }
        }
        egui::CentralPanel::default()
            .frame(egui::Frame::NONE)
            .show(ui, |ui| self.view_3d(ui, &rs));
        self.frames_shown += 1;
        if let Some(n) = self.opts.exit_after_frames {
            if self.frames_shown >= n {
                ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            } else {
                ctx.request_repaint();
            }
        }
    }
}

/// Opens the viewer window on `path` and runs until it is closed.
///
/// # Errors
/// [`RenderError::NoAdapter`] when no window or graphics adapter can be created; [`RenderError::Load`] when the
/// scene fails to load (with `exit_after_frames`) or the window fails.
pub fn run(path: &Path, opts: ViewOptions) -> Result<(), RenderError> {
    let failure = Arc::new(Mutex::new(None));
    let native = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title(format!("citytwin — {}", path.display()))
            .with_inner_size([1280.0, 800.0]),
        renderer: eframe::Renderer::Wgpu,
        multisampling: 0,
        depth_buffer: 0,
        ..Default::default()
    };
    let (p, o, f) = (path.to_owned(), opts, failure.clone());
    eframe::run_native(
        "citytwin",
        native,
        Box::new(move |cc| {
            Ok(Box::new(ViewerApp::new(cc, p, o, f).map_err(
                |e| -> Box<dyn std::error::Error + Send + Sync> { e.into() },
            )?))
        }),
    )
    .map_err(|e| RenderError::NoAdapter(format!("cannot open the viewer window: {e}")))?;
    if let Some(msg) = failure.lock().ok().and_then(|mut f| f.take()) {
        return Err(RenderError::Load(msg));
    }
    Ok(())
}

/// Re-applies the colour-by after a visibility or opacity change, reporting errors in the status line.
pub(crate) fn recolor(l: &mut Loaded, queue: &wgpu::Queue, by: ColorBy) {
    match l.prepared.set_color_by(queue, &l.scene, &by) {
        Ok(()) => l.status.clear(),
        Err(e) => l.status = citytwin_engine::error_chain(&e),
    }
    l.dirty = true;
}

//! Mouse and keyboard: orbit, pan, zoom, tilt; click to pick a feature or place measurement points.

use super::{Loaded, Tool};
use citytwin_engine::spatial::{self, Ray};
use citytwin_engine::FeatureId;
use glam::{DVec3, Vec4};

/// The ray under a screen position, in the local frame.
pub(crate) fn ray_at(l: &Loaded, rect: egui::Rect, pos: egui::Pos2) -> Ray {
    let aspect = (rect.width() / rect.height().max(1.0)) as f64;
    let inv = l.camera.view_proj_relative(aspect).inverse();
    let nx = ((pos.x - rect.min.x) / rect.width()) * 2.0 - 1.0;
    let ny = 1.0 - ((pos.y - rect.min.y) / rect.height()) * 2.0;
    let p = inv * Vec4::new(nx, ny, 0.5, 1.0);
    let dir =
        DVec3::new((p.x / p.w) as f64, (p.y / p.w) as f64, (p.z / p.w) as f64).normalize_or_zero();
    Ray {
        origin: l.camera.eye().into(),
        direction: dir.into(),
    }
}

/// Where a ray meets the ground (the terrain where there is one, else elevation 0).
pub(crate) fn ground_hit(l: &Loaded, ray: &Ray) -> Option<[f64; 3]> {
    let [ox, oy, oz] = ray.origin;
    let [dx, dy, dz] = ray.direction;
    if dz >= -1e-9 {
        return None;
    }
    let mut z = 0.0;
    let mut p = [0.0; 3];
    // Two refinements against the terrain are plenty for picking and measuring.
    for _ in 0..3 {
        let t = (z - oz) / dz;
        p = [ox + t * dx, oy + t * dy, z];
        z = l
            .scene
            .terrain()
            .and_then(|t| t.sample(p[0], p[1]))
            .unwrap_or(0.0);
    }
    Some(p)
}

/// The first visible feature under a ray.
pub(crate) fn pick(l: &Loaded, ray: Ray) -> Option<FeatureId> {
    let mut best: Option<(f64, FeatureId)> = None;
    for (li, layer) in l.scene.layers.iter().enumerate() {
        if !l.prepared.visible.get(li).copied().unwrap_or(true) || layer.terrain.is_some() {
            continue;
        }
        if let Some(hit) = spatial::ray_pick(layer, ray, 1e7) {
            // Buildings win ties with the flat features under them.
            let t = hit.t
                - if hit.feature.building.is_some() {
                    0.01
                } else {
                    0.0
                };
            if best.is_none_or(|b| t < b.0) {
                best = Some((t, hit.feature.id));
            }
        }
    }
    best.map(|b| b.1)
}

/// Flies the camera to a feature and selects it.
pub(crate) fn fly_to(l: &mut Loaded, id: FeatureId) {
    let Some((_, f)) = l.scene.feature(id) else {
        return;
    };
    if let Some(b) = f.bbox() {
        let top = f
            .building
            .as_ref()
            .map_or(0.0, |b| b.base_elevation + b.height);
        let diag = ((b[2] - b[0]).powi(2) + (b[3] - b[1]).powi(2)).sqrt();
        l.camera.target = [(b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0, top / 2.0];
        l.camera.distance = (diag * 2.5).max(80.0);
        l.camera.pitch_deg = l.camera.pitch_deg.clamp(30.0, 60.0);
        l.selected = Some(id);
        l.dirty = true;
    }
}

/// Camera controls and clicks on the 3D view.
pub(crate) fn handle(l: &mut Loaded, ui: &egui::Ui, response: &egui::Response, rect: egui::Rect) {
    let (shift, keys_dt) = ui.input(|i| (i.modifiers.shift, i.stable_dt.min(0.1) as f64));
    let before = l.camera;
    let d = response.drag_delta();
    if response.dragged_by(egui::PointerButton::Secondary)
        || (response.dragged_by(egui::PointerButton::Primary) && shift)
    {
        pan(l, -d.x as f64, d.y as f64, rect);
    } else if response.dragged_by(egui::PointerButton::Primary)
        || response.dragged_by(egui::PointerButton::Middle)
    {
        l.camera.heading_deg = (l.camera.heading_deg - d.x as f64 * 0.3).rem_euclid(360.0);
        l.camera.pitch_deg = (l.camera.pitch_deg + d.y as f64 * 0.3).clamp(5.0, 89.5);
    }
    if response.hovered() {
        let scroll = ui.input(|i| i.smooth_scroll_delta.y) as f64;
        if scroll != 0.0 {
            l.camera.distance = (l.camera.distance * (-scroll * 0.002).exp()).clamp(5.0, 2e6);
        }
    }
    // Keyboard, unless a text field has focus.
    if !ui.ctx().egui_wants_keyboard_input() {
        let step = 400.0 * keys_dt;
        ui.input(|i| {
            use egui::Key;
            let down = |k: Key| i.key_down(k);
            let (mut px, mut py) = (0.0, 0.0);
            if down(Key::ArrowLeft) || down(Key::A) {
                px -= step;
            }
            if down(Key::ArrowRight) || down(Key::D) {
                px += step;
            }
            if down(Key::ArrowUp) || down(Key::W) {
                py += step;
            }
            if down(Key::ArrowDown) || down(Key::S) {
                py -= step;
            }
            if px != 0.0 || py != 0.0 {
                pan(l, px, py, rect);
            }
            if down(Key::Q) {
                l.camera.heading_deg = (l.camera.heading_deg - 60.0 * keys_dt).rem_euclid(360.0);
            }
            if down(Key::E) {
                l.camera.heading_deg = (l.camera.heading_deg + 60.0 * keys_dt).rem_euclid(360.0);
            }
            if down(Key::R) {
                l.camera.pitch_deg = (l.camera.pitch_deg + 40.0 * keys_dt).clamp(5.0, 89.5);
            }
            if down(Key::F) {
                l.camera.pitch_deg = (l.camera.pitch_deg - 40.0 * keys_dt).clamp(5.0, 89.5);
            }
            if down(Key::Plus) || down(Key::Equals) {
                l.camera.distance = (l.camera.distance * (1.0 - keys_dt)).max(5.0);
            }
            if down(Key::Minus) {
                l.camera.distance = (l.camera.distance * (1.0 + keys_dt)).min(2e6);
            }
            if i.key_pressed(Key::Home) {
                l.camera = l.home;
            }
        });
    }
    if response.clicked() {
        if let Some(pos) = response.interact_pointer_pos() {
            let ray = ray_at(l, rect, pos);
            match l.tool {
                Tool::Select => {
                    l.selected = pick(l, ray);
                    l.dirty = true;
                }
                Tool::Distance | Tool::Area => {
                    if let Some(p) = ground_hit(l, &ray) {
                        l.measure.push(p);
                    }
                }
            }
        }
    }
    if l.camera != before {
        l.dirty = true;
        ui.ctx().request_repaint();
    }
}

/// Moves the target by screen pixels, scaled so the ground follows the pointer.
fn pan(l: &mut Loaded, dx_px: f64, dy_px: f64, rect: egui::Rect) {
    let scale = l.camera.distance * 2.0 * (l.camera.fov_y_deg.to_radians() / 2.0).tan()
        / rect.height().max(1.0) as f64;
    let h = l.camera.heading_deg.to_radians();
    let (right, forward) = ([h.cos(), -h.sin()], [h.sin(), h.cos()]);
    l.camera.target[0] += (right[0] * dx_px + forward[0] * dy_px) * scale;
    l.camera.target[1] += (right[1] * dx_px + forward[1] * dy_px) * scale;
}

/// Screen position of a local-frame point, if in front of the camera.
fn project(l: &Loaded, rect: egui::Rect, p: [f64; 3]) -> Option<egui::Pos2> {
    let aspect = (rect.width() / rect.height().max(1.0)) as f64;
    let rel = DVec3::from(p) - l.camera.eye();
    let c = l.camera.view_proj_relative(aspect)
        * Vec4::new(rel.x as f32, rel.y as f32, rel.z as f32, 1.0);
    if c.w <= 0.0 {
        return None;
    }
    Some(egui::pos2(
        rect.min.x + (c.x / c.w + 1.0) * 0.5 * rect.width(),
        rect.min.y + (1.0 - c.y / c.w) * 0.5 * rect.height(),
    ))
}

/// Measurement lines and points drawn over the 3D view.
pub(crate) fn paint_overlays(l: &Loaded, ui: &egui::Ui, rect: egui::Rect) {
    if l.measure.is_empty() {
        return;
    }
    let painter = ui.painter_at(rect);
    let pts: Vec<egui::Pos2> = l
        .measure
        .iter()
        .filter_map(|p| project(l, rect, *p))
        .collect();
    let stroke = egui::Stroke::new(2.5, egui::Color32::from_rgb(255, 60, 140));
    let mut line = pts.clone();
    if l.tool == Tool::Area && pts.len() > 2 {
        line.push(pts[0]);
    }
    painter.add(egui::Shape::line(line, stroke));
    for p in pts {
        painter.circle_filled(p, 4.0, egui::Color32::WHITE);
    }
}

//! The legend (and a caption) drawn over a rendered frame with egui, for review screenshots: the same widgets
//! the viewer window shows, rendered offscreen by egui-wgpu.

use crate::colour::Legend;
use crate::passes::Target;

fn swatch(ui: &mut egui::Ui, c: [u8; 4]) {
    let (r, _) = ui.allocate_exact_size(egui::vec2(14.0, 14.0), egui::Sense::hover());
    ui.painter()
        .rect_filled(r, 2.0, egui::Color32::from_rgb(c[0], c[1], c[2]));
}

/// The rows of a legend, as the viewer and screenshots show them.
pub fn legend_contents(ui: &mut egui::Ui, legend: &Legend) {
    ui.strong(&legend.title);
    for e in &legend.entries {
        ui.horizontal(|ui| {
            swatch(ui, e.color);
            ui.label(&e.label);
        });
    }
}

/// Draws `legend` in the lower-right corner and `caption` in the lower-left corner of `target`.
pub fn draw_overlay(
    device: &wgpu::Device,
    queue: &wgpu::Queue,
    target: &Target,
    legend: Option<&Legend>,
    caption: &str,
) {
    let (w, h) = target.size;
    // Scale the overlay with the image: 1 point per pixel at 720 lines.
    let ppp = (h as f32 / 720.0).clamp(0.75, 4.0);
    let ctx = egui::Context::default();
    ctx.set_pixels_per_point(ppp);
    ctx.set_visuals(egui::Visuals::light());
    let input = || egui::RawInput {
        screen_rect: Some(egui::Rect::from_min_size(
            egui::Pos2::ZERO,
            egui::vec2(w as f32 / ppp, h as f32 / ppp),
        )),
        ..Default::default()
    };
    let mut deltas = Vec::new();
    let mut last = None;
    // egui sizes new areas in an invisible first pass and settles anchored positions in the next; draw the third.
    for _ in 0..3 {
        let mut out = ctx.run_ui(input(), |ui| {
            if let Some(l) = legend {
                egui::Area::new(egui::Id::unique("legend"))
                    .fade_in(false)
                    .anchor(egui::Align2::RIGHT_BOTTOM, egui::vec2(-12.0, -12.0))
                    .show(ui.ctx(), |ui| {
                        egui::Frame::popup(ui.style()).show(ui, |ui| legend_contents(ui, l));
                    });
            }
            if !caption.is_empty() {
                egui::Area::new(egui::Id::unique("caption"))
                    .fade_in(false)
                    .anchor(egui::Align2::LEFT_BOTTOM, egui::vec2(12.0, -12.0))
                    .show(ui.ctx(), |ui| {
                        egui::Frame::popup(ui.style()).show(ui, |ui| ui.small(caption));
                    });
            }
        });
        deltas.push(std::mem::take(&mut out.textures_delta));
        last = Some(out);
    }
    let Some(out) = last else { return };
    // Applied below; epaint insists deltas are consumed explicitly.
    let mut deltas = deltas;
    let prims = ctx.tessellate(out.shapes, out.pixels_per_point);
    let mut renderer = egui_wgpu::Renderer::new(
        device,
        target.color.format(),
        egui_wgpu::RendererOptions::default(),
    );
    for d in &deltas {
        for (id, imgs) in &d.set {
            for img in imgs {
                renderer.update_texture(device, queue, *id, img);
            }
        }
    }
    for d in &mut deltas {
        d.clear();
    }
    let screen = egui_wgpu::ScreenDescriptor {
        size_in_pixels: [w, h],
        pixels_per_point: ppp,
    };
    let mut enc = device.create_command_encoder(&Default::default());
    let extra = renderer.update_buffers(device, queue, &mut enc, &prims, &screen);
    let view = target.color.create_view(&Default::default());
    {
        let pass = enc.begin_render_pass(&wgpu::RenderPassDescriptor {
            label: Some("overlay"),
            color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                view: &view,
                depth_slice: None,
                resolve_target: None,
                ops: wgpu::Operations {
                    load: wgpu::LoadOp::Load,
                    store: wgpu::StoreOp::Store,
                },
            })],
            depth_stencil_attachment: None,
            timestamp_writes: None,
            occlusion_query_set: None,
            multiview_mask: None,
        });
        renderer.render(&mut pass.forget_lifetime(), &prims, &screen);
    }
    queue.submit(extra.into_iter().chain([enc.finish()]));
}

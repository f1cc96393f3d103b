//! egui panels of the viewer: layers, selection, search, measure, bookmarks, legend, and the place for the
//! simulation's time slider and KPI charts.

use crate::app::interaction::fly_to;
use crate::app::{recolor, Loaded, Tool};
use crate::run::Quantity;
use crate::ColorBy;
use citytwin_engine::time::SimTime;
use citytwin_engine::{Bookmark, FeatureId, ValueRef};
use geo::{Area, Polygon};
use std::path::Path;

/// The left panel.
pub(crate) fn side_panel(
    l: &mut Loaded,
    ui: &mut egui::Ui,
    path: &Path,
    want_shot: &mut bool,
    queue: &wgpu::Queue,
) {
    egui::Panel::left("citytwin-side").default_size(300.0).resizable(true).show(ui, |ui| {
        egui::ScrollArea::vertical().show(ui, |ui| {
            ui.heading("citytwin");
            ui.label(format!("{} · {} features · {}", path.display(), l.scene.feature_count(), l.scene.frame.crs));
            ui.separator();
            layers(l, ui, queue);
            ui.separator();
            selection(l, ui);
            ui.separator();
            alerts(l, ui, queue);
            search(l, ui);
            ui.separator();
            measure(l, ui);
            ui.separator();
            bookmarks(l, ui, path);
            ui.separator();
            ui.horizontal(|ui| {
                if ui.button("Screenshot").clicked() {
                    *want_shot = true;
                }
                if ui.button("Whole city").on_hover_text("Home").clicked() {
                    l.camera = l.home;
                    l.dirty = true;
                }
            });
            if !l.status.is_empty() {
                ui.label(&l.status);
            }
            ui.separator();
            ui.small("Drag: orbit · Shift/right-drag: pan · Wheel: zoom · WASD/arrows: pan · Q/E: turn · R/F: tilt · Home: reset");
        });
    });
}

fn layers(l: &mut Loaded, ui: &mut egui::Ui, queue: &wgpu::Queue) {
    ui.strong("Layers");
    let mut changed = false;
    for (i, layer) in l.scene.layers.iter().enumerate() {
        ui.horizontal(|ui| {
            changed |= ui
                .checkbox(&mut l.prepared.visible[i], &layer.name)
                .changed();
            ui.weak(format!(
                "{} · {}",
                layer.kind.as_str(),
                layer.features.len()
            ));
        });
        changed |= ui
            .add(egui::Slider::new(&mut l.prepared.opacity[i], 0.0..=1.0).text("opacity"))
            .drag_stopped();
    }
    ui.horizontal(|ui| {
        ui.label("Colour by");
        let current = l.prepared.color_by.clone();
        let mut chosen = current.clone();
        egui::ComboBox::from_id_salt("color-by")
            .selected_text(current.name())
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut chosen, ColorBy::Layer, "layer");
                ui.selectable_value(&mut chosen, ColorBy::Height, "height");
                ui.selectable_value(&mut chosen, ColorBy::Use, "use");
                if let Some(run) = &l.prepared.run {
                    ui.separator();
                    for q in run.series.keys() {
                        ui.selectable_value(&mut chosen, ColorBy::Simulated(*q), q.name());
                    }
                }
            });
        if chosen != current {
            recolor(l, queue, chosen);
        }
    });
    ui.horizontal(|ui| {
        ui.label("attribute");
        let r = ui.text_edit_singleline(&mut l.color_by_text);
        if r.lost_focus()
            && ui.input(|i| i.key_pressed(egui::Key::Enter))
            && !l.color_by_text.trim().is_empty()
        {
            let by = ColorBy::parse(l.color_by_text.trim());
            recolor(l, queue, by);
        }
    });
    if changed {
        let by = l.prepared.color_by.clone();
        recolor(l, queue, by);
    }
}

fn selection(l: &mut Loaded, ui: &mut egui::Ui) {
    ui.strong("Selection");
    let Some((layer, f)) = l.selected.and_then(|id| l.scene.feature(id)) else {
        ui.weak("Click a feature to see its attributes.");
        return;
    };
    ui.label(format!("{} · id {}", layer.name, f.id));
    let id = f.id;
    egui::Grid::new("attributes").striped(true).show(ui, |ui| {
        if let (Some(run), Some(slot)) = (
            &l.prepared.run,
            l.prepared.mesh.slot_of_feature(&l.scene, id),
        ) {
            for (q, s) in &run.series {
                if let Some(v) = s.value(slot, l.prepared.time) {
                    ui.label(format!("{} at {}", q.name(), l.prepared.time));
                    ui.label(q.format(v));
                    ui.end_row();
                }
            }
        }
        if let Some(b) = &f.building {
            ui.label("height");
            ui.label(format!("{:.1} m ({})", b.height, b.height_source.as_str()));
            ui.end_row();
            ui.label("base elevation");
            ui.label(format!("{:.1} m", b.base_elevation));
            ui.end_row();
        }
        for (k, v) in layer.named_attributes(f) {
            ui.label(k);
            ui.label(v.to_string());
            ui.end_row();
        }
    });
    if ui.button("Clear selection").clicked() {
        l.selected = None;
        l.dirty = true;
    }
}

/// The run's utility alerts: when, what, where; a click moves the clock to the alert, flies to the element and
/// colours the scene by the quantity concerned.
fn alerts(l: &mut Loaded, ui: &mut egui::Ui, queue: &wgpu::Queue) {
    let Some(run) = &l.prepared.run else { return };
    if run.alerts.is_empty() {
        return;
    }
    let mut clicked = None;
    egui::CollapsingHeader::new(format!("Alerts ({})", run.alerts.len()))
        .default_open(true)
        .show(ui, |ui| {
            egui::ScrollArea::vertical()
                .id_salt("alerts")
                .max_height(220.0)
                .show(ui, |ui| {
                    for (i, a) in run.alerts.iter().enumerate() {
                        let when = match a.end {
                            Some(e) => format!("{}–{}", a.start, e),
                            None => format!("{}–", a.start),
                        };
                        let r = ui
                            .selectable_label(false, format!("{when}  {}", a.message))
                            .on_hover_text(format!("{} · {} · {}", a.layer, a.kind, a.element));
                        if r.clicked() {
                            clicked = Some(i);
                        }
                    }
                });
        });
    ui.separator();
    let Some(i) = clicked else { return };
    let a = run.alerts[i].clone();
    let q = match a.kind.as_str() {
        "overload" | "outage" => Quantity::LineLoading,
        "no_power" | "undervoltage" | "overvoltage" | "no_solution" | "switch_open"
        | "switch_close" => Quantity::BusVoltage,
        _ => Quantity::WaterPressure,
    };
    let has_q = run.series.contains_key(&q);
    match l.prepared.set_time(queue, &l.scene, a.start) {
        Ok(_) => l.dirty = true,
        Err(e) => l.status = e.to_string(),
    }
    if has_q && l.prepared.color_by != ColorBy::Simulated(q) {
        recolor(l, queue, ColorBy::Simulated(q));
    }
    if let Some(f) = a.feature {
        fly_to(l, FeatureId(f));
    }
    l.status = a.message;
}

fn search(l: &mut Loaded, ui: &mut egui::Ui) {
    ui.strong("Search");
    let r = ui.add(egui::TextEdit::singleline(&mut l.search).hint_text("feature id or name"));
    if r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)) {
        let q = l.search.trim().to_lowercase();
        l.search_results.clear();
        if let Ok(id) = q.parse::<u64>() {
            if l.scene.locate(FeatureId(id)).is_some() {
                l.search_results.push(FeatureId(id));
            }
        }
        if !q.is_empty() {
            'outer: for layer in &l.scene.layers {
                for f in &layer.features {
                    if let Some(ValueRef::Text(n)) = layer.attribute(f, "name") {
                        if n.to_lowercase().contains(&q) {
                            l.search_results.push(f.id);
                            if l.search_results.len() >= 50 {
                                break 'outer;
                            }
                        }
                    }
                }
            }
        }
        if l.search_results.is_empty() {
            l.status = format!("nothing found for “{}”", l.search.trim());
        }
    }
    let results = l.search_results.clone();
    for id in results {
        let Some((layer, f)) = l.scene.feature(id) else {
            continue;
        };
        let name = layer
            .attribute(f, "name")
            .map(|v| v.to_string())
            .unwrap_or_default();
        if ui
            .link(format!("{} {} {}", layer.name, f.id, name))
            .clicked()
        {
            fly_to(l, id);
        }
    }
}

fn measure(l: &mut Loaded, ui: &mut egui::Ui) {
    ui.strong("Tools");
    ui.horizontal(|ui| {
        let before = l.tool;
        ui.selectable_value(&mut l.tool, Tool::Select, "Select");
        ui.selectable_value(&mut l.tool, Tool::Distance, "Distance");
        ui.selectable_value(&mut l.tool, Tool::Area, "Area");
        if l.tool != before {
            l.measure.clear();
        }
    });
    match l.tool {
        Tool::Select => {}
        Tool::Distance => {
            let d: f64 = l
                .measure
                .windows(2)
                .map(|w| ((w[1][0] - w[0][0]).powi(2) + (w[1][1] - w[0][1]).powi(2)).sqrt())
                .sum();
            ui.label(format!(
                "distance: {:.1} m over {} points (click the ground)",
                d,
                l.measure.len()
            ));
        }
        Tool::Area => {
            let a = if l.measure.len() >= 3 {
                let ring: Vec<(f64, f64)> = l.measure.iter().map(|p| (p[0], p[1])).collect();
                Polygon::new(ring.into(), vec![]).unsigned_area()
            } else {
                0.0
            };
            ui.label(format!(
                "area: {:.0} m² ({:.2} ha), {} points",
                a,
                a / 10_000.0,
                l.measure.len()
            ));
        }
    }
    if !l.measure.is_empty() && ui.button("Clear points").clicked() {
        l.measure.clear();
    }
}

fn bookmarks(l: &mut Loaded, ui: &mut egui::Ui, path: &Path) {
    ui.strong("Bookmarks");
    let mut go = None;
    for b in &l.scene.bookmarks {
        if ui.link(&b.name).clicked() {
            go = Some(b.clone());
        }
    }
    if let Some(b) = go {
        l.camera.target = b.target;
        l.camera.distance = b.distance;
        l.camera.heading_deg = b.heading_deg;
        l.camera.pitch_deg = b.pitch_deg;
        l.dirty = true;
    }
    ui.horizontal(|ui| {
        ui.add(
            egui::TextEdit::singleline(&mut l.bookmark_name)
                .hint_text("name")
                .desired_width(140.0),
        );
        if ui.button("Save view").clicked() && !l.bookmark_name.trim().is_empty() {
            l.scene.set_bookmark(Bookmark {
                name: l.bookmark_name.trim().to_owned(),
                target: l.camera.target,
                distance: l.camera.distance,
                heading_deg: l.camera.heading_deg,
                pitch_deg: l.camera.pitch_deg,
            });
            l.status = match citytwin_engine::store::save(&l.scene, path) {
                Ok(()) => format!(
                    "bookmark “{}” saved in {}",
                    l.bookmark_name.trim(),
                    path.display()
                ),
                Err(e) => format!("could not save the bookmark: {e}"),
            };
        }
    });
}

/// Simulated seconds per second of playback.
const PLAY_SPEEDS: [u32; 4] = [60, 300, 900, 3600];

/// The bottom panel: the run's clock (play, pause, time slider) and KPI charts with a cursor at the slider's
/// time; without a run, a hint.
pub(crate) fn bottom_panel(l: &mut Loaded, ui: &mut egui::Ui, queue: &wgpu::Queue) {
    egui::Panel::bottom("citytwin-time").show(ui, |ui| {
        let Some(run) = &l.prepared.run else {
            ui.weak("No simulation run loaded: `citytwin simulate` one, then `citytwin view SCENE --run DIR`.");
            return;
        };
        let (start, end) = (run.start.0, run.end.0);
        let label = run.label();
        let mut t = l.prepared.time.0;
        ui.horizontal(|ui| {
            if ui.button(if l.playing { "Pause" } else { "Play" }).clicked() {
                l.playing = !l.playing;
                if l.playing && t >= end {
                    t = start;
                }
            }
            ui.spacing_mut().slider_width = (ui.available_width() - 260.0).clamp(160.0, 900.0);
            ui.add(
                egui::Slider::new(&mut t, start..=end)
                    .custom_formatter(|v, _| SimTime(v as u32).to_string())
                    .text("time"),
            );
            egui::ComboBox::from_id_salt("play-speed")
                .selected_text(format!("×{}", l.play_speed))
                .show_ui(ui, |ui| {
                    for s in PLAY_SPEEDS {
                        ui.selectable_value(&mut l.play_speed, s, format!("×{s}"));
                    }
                });
            ui.label(format!("run {label}"));
        });
        if l.playing {
            let dt = ui.input(|i| i.stable_dt).min(0.1);
            t = (f64::from(t) + f64::from(l.play_speed) * f64::from(dt)).round() as u32;
            if t >= end {
                t = end;
                l.playing = false;
            }
            ui.ctx().request_repaint();
        }
        let hour = SimTime(t).hours();
        let totals = &run.totals;
        ui.columns(2, |cols| {
            let series = |v: &[f64]| -> egui_plot::PlotPoints<'static> {
                totals
                    .hours
                    .iter()
                    .zip(v)
                    .filter(|(_, y)| y.is_finite())
                    .map(|(x, y)| [*x, *y])
                    .collect()
            };
            egui_plot::Plot::new("kpi-people")
                .height(110.0)
                .allow_drag(false)
                .allow_zoom(false)
                .allow_scroll(false)
                .legend(egui_plot::Legend::default())
                .show(&mut cols[0], |p| {
                    p.line(egui_plot::Line::new("people travelling", series(&totals.on_move)));
                    p.line(egui_plot::Line::new("vehicles on the roads", series(&totals.vehicles)));
                    p.vline(egui_plot::VLine::new("now", hour).stroke((1.5, egui::Color32::RED)));
                });
            egui_plot::Plot::new("kpi-speed")
                .height(110.0)
                .allow_drag(false)
                .allow_zoom(false)
                .allow_scroll(false)
                .legend(egui_plot::Legend::default())
                .show(&mut cols[1], |p| {
                    p.line(egui_plot::Line::new("mean speed (km/h)", series(&totals.speed_kmh)));
                    p.vline(egui_plot::VLine::new("now", hour).stroke((1.5, egui::Color32::RED)));
                });
        });
        if t != l.prepared.time.0 {
            match l.prepared.set_time(queue, &l.scene, SimTime(t)) {
                Ok(true) => l.dirty = true,
                Ok(false) => {}
                Err(e) => l.status = e.to_string(),
            }
        }
    });
}

/// The legend of the current colour scale, in the view's lower-right corner.
pub(crate) fn legend(l: &Loaded, ui: &egui::Ui, rect: egui::Rect) {
    let Some(legend) = &l.prepared.legend else {
        return;
    };
    egui::Area::new(egui::Id::unique("citytwin-legend"))
        .fade_in(false)
        .pivot(egui::Align2::RIGHT_BOTTOM)
        .fixed_pos(rect.max - egui::vec2(12.0, 12.0))
        .show(ui.ctx(), |ui| {
            egui::Frame::popup(ui.style())
                .show(ui, |ui| crate::passes::legend_contents(ui, legend));
        });
}

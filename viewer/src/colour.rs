//! Colour-by: per-feature colours from a scene property, and the legend that explains them.
//!
//! Colours are computed on the CPU into one RGBA value per feature slot and uploaded to the GPU colour table;
//! changing the colour-by never rebuilds geometry. Numbers become a *scalar field*: one value per slot and a
//! domain, mapped onto the sequential scale. For attributes the domain spans the values' 2nd–98th percentile;
//! for simulated quantities ([`ColorBy::Simulated`], from a [`crate::run::RunView`]) it is fixed over the whole
//! run, so moving the time slider only looks values up and colours compare across time. Live observations will
//! feed the same path.

use crate::mesh::SceneMesh;
use crate::run::{Quantity, RunView};
use citytwin_engine::time::SimTime;
use citytwin_engine::{Layer, LayerKind, NetworkKind, Scene, Value, ValueRef};
use std::collections::BTreeMap;

/// What decides a feature's colour.
#[derive(Clone, Debug, PartialEq)]
pub enum ColorBy {
    /// Each layer in its default colour.
    Layer,
    /// Building height, sequential scale.
    Height,
    /// Building use, categorical.
    Use,
    /// Any attribute: numeric → sequential, text → categorical.
    Attribute(String),
    /// A simulated quantity of the loaded run, at the current time.
    Simulated(Quantity),
}

impl ColorBy {
    /// Parses `layer`, `height`, `use`, a simulated quantity (`occupancy`, `link_volume`, `link_flow`,
    /// `link_speed`, `link_density`, `link_vc`) or an attribute name.
    pub fn parse(s: &str) -> Self {
        match s {
            "layer" | "" => ColorBy::Layer,
            "height" => ColorBy::Height,
            "use" => ColorBy::Use,
            other => match Quantity::ALL.iter().find(|q| q.name() == other) {
                Some(q) => ColorBy::Simulated(*q),
                None => ColorBy::Attribute(other.to_owned()),
            },
        }
    }

    /// The name [`Self::parse`] reads.
    pub fn name(&self) -> String {
        match self {
            ColorBy::Layer => "layer".into(),
            ColorBy::Height => "height".into(),
            ColorBy::Use => "use".into(),
            ColorBy::Attribute(a) => a.clone(),
            ColorBy::Simulated(q) => q.name().into(),
        }
    }
}

/// One legend row.
#[derive(Clone, Debug, PartialEq)]
pub struct LegendEntry {
    /// sRGB colour.
    pub color: [u8; 4],
    /// Label.
    pub label: String,
}

/// A legend: a title and its rows, top to bottom.
#[derive(Clone, Debug, PartialEq)]
pub struct Legend {
    /// Title, e.g. `height (m)`.
    pub title: String,
    /// Rows.
    pub entries: Vec<LegendEntry>,
}

/// A sequential scale (perceptually ordered blues → yellows), `t` in 0..=1.
pub fn sequential(t: f64) -> [u8; 4] {
    const STOPS: [[f64; 3]; 6] = [
        [68.0, 1.0, 84.0],
        [65.0, 68.0, 135.0],
        [42.0, 120.0, 142.0],
        [34.0, 168.0, 132.0],
        [122.0, 209.0, 81.0],
        [253.0, 231.0, 37.0],
    ];
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let x = t * (STOPS.len() - 1) as f64;
    let i = (x.floor() as usize).min(STOPS.len() - 2);
    let f = x - i as f64;
    let c = |k: usize| (STOPS[i][k] + f * (STOPS[i + 1][k] - STOPS[i][k])).round() as u8;
    [c(0), c(1), c(2), 255]
}

/// A qualitative palette of 10 distinct colours, then grey for "other".
const CATEGORICAL: [[u8; 4]; 10] = [
    [31, 119, 180, 255],
    [255, 127, 14, 255],
    [44, 160, 44, 255],
    [214, 39, 40, 255],
    [148, 103, 189, 255],
    [140, 86, 75, 255],
    [227, 119, 194, 255],
    [188, 189, 34, 255],
    [23, 190, 207, 255],
    [127, 127, 127, 255],
];
const OTHER: [u8; 4] = [190, 190, 190, 255];
/// The ground plane.
pub const GROUND_COLOR: [u8; 4] = [196, 198, 186, 255];

/// The default colour of a layer's features.
pub fn layer_color(layer: &Layer) -> [u8; 4] {
    match (layer.kind, layer.network.as_ref().map(|n| n.kind)) {
        (LayerKind::Buildings, _) => [225, 215, 198, 255],
        (_, Some(NetworkKind::Road)) => [90, 90, 96, 255],
        (_, Some(NetworkKind::Power)) => [240, 140, 20, 255],
        (_, Some(NetworkKind::Water | NetworkKind::Waterway)) => [40, 120, 220, 255],
        (_, Some(NetworkKind::Gas)) => [230, 200, 30, 255],
        (_, Some(_)) => [120, 80, 60, 255],
        (LayerKind::Framework, None) if layer.terrain.is_some() => [150, 170, 120, 255],
        (LayerKind::Framework, None) => [170, 200, 150, 255],
        (LayerKind::Infrastructure, None) => [150, 150, 160, 255],
    }
}

/// Errors choosing a colour-by.
#[derive(Debug, thiserror::Error)]
pub enum ColorError {
    /// No visible feature has the attribute.
    #[error("no visible feature has the attribute `{0}` (try height, use, layer, or an attribute `citytwin query --json` shows)")]
    UnknownAttribute(String),
    /// A simulated quantity without a run.
    #[error("`{0}` is a simulated quantity: load a run (--run DIR) to colour by it")]
    NoRun(String),
    /// The run lacks the quantity.
    #[error(transparent)]
    Run(#[from] crate::run::RunError),
}

/// Fills `colors` from a scalar field: `values[i]` belongs to slot `slots[i]`; `NaN` leaves the slot as it is.
pub fn fill_scalar(slots: &[u32], values: &[f32], domain: (f32, f32), colors: &mut [[u8; 4]]) {
    let (lo, hi) = (
        f64::from(domain.0),
        f64::from(domain.1).max(f64::from(domain.0) + 1e-9),
    );
    for (&s, &v) in slots.iter().zip(values) {
        if v.is_finite() {
            if let Some(c) = colors.get_mut(s as usize) {
                *c = sequential((f64::from(v) - lo) / (hi - lo));
            }
        }
    }
}

/// The legend of a sequential scale over `domain`, top to bottom in five steps, with `decimals` digits; `open_top`
/// marks the top value as a floor (values above the domain take its colour).
fn scalar_legend(domain: (f32, f32), title: String, decimals: usize, open_top: bool) -> Legend {
    let (lo, hi) = (
        f64::from(domain.0),
        f64::from(domain.1).max(f64::from(domain.0) + 1e-9),
    );
    let entries = (0..5)
        .rev()
        .map(|i| {
            let t = i as f64 / 4.0;
            LegendEntry {
                color: sequential(t),
                label: format!(
                    "{}{:.*}",
                    if open_top && i == 4 { "≥ " } else { "" },
                    decimals,
                    lo + t * (hi - lo)
                ),
            }
        })
        .collect();
    Legend { title, entries }
}

fn numeric_scale(values: &[(usize, f64)], colors: &mut [[u8; 4]], title: String) -> Legend {
    let mut sorted: Vec<f64> = values.iter().map(|v| v.1).collect();
    sorted.sort_by(f64::total_cmp);
    // 2nd–98th percentile, so a few outliers do not flatten the scale.
    let lo = sorted[((sorted.len() - 1) as f64 * 0.02) as usize];
    let hi = sorted[((sorted.len() - 1) as f64 * 0.98) as usize].max(lo + 1e-9);
    let slots: Vec<u32> = values.iter().map(|v| v.0 as u32).collect();
    let vals: Vec<f32> = values.iter().map(|v| v.1 as f32).collect();
    let domain = (lo as f32, hi as f32);
    fill_scalar(&slots, &vals, domain, colors);
    scalar_legend(domain, title, 1, false)
}

fn categorical_scale(values: &[(usize, String)], colors: &mut [[u8; 4]], title: String) -> Legend {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for (_, v) in values {
        *counts.entry(v.as_str()).or_default() += 1;
    }
    let mut ranked: Vec<(&str, usize)> = counts.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let top: Vec<&str> = ranked.iter().take(CATEGORICAL.len()).map(|r| r.0).collect();
    for (slot, v) in values {
        colors[*slot] = top
            .iter()
            .position(|t| *t == v.as_str())
            .map_or(OTHER, |i| CATEGORICAL[i]);
    }
    let mut entries: Vec<LegendEntry> = top
        .iter()
        .enumerate()
        .map(|(i, t)| LegendEntry {
            color: CATEGORICAL[i],
            label: (*t).to_owned(),
        })
        .collect();
    if ranked.len() > top.len() {
        entries.push(LegendEntry {
            color: OTHER,
            label: format!("other ({})", ranked.len() - top.len()),
        });
    }
    Legend { title, entries }
}

/// Colours for every slot of `mesh`, and the legend. Features the colour-by does not apply to keep their layer
/// colour.
///
/// # Errors
/// [`ColorError::UnknownAttribute`] when no feature of the visible layers has the attribute.
pub fn compute(
    scene: &Scene,
    mesh: &SceneMesh,
    by: &ColorBy,
    visible: &[bool],
    sim: Option<(&RunView, SimTime)>,
) -> Result<(Vec<[u8; 4]>, Option<Legend>), ColorError> {
    // Slot 0 is the ground; slot s >= 1 is mesh.slots[s - 1].
    let mut colors: Vec<[u8; 4]> = std::iter::once(GROUND_COLOR)
        .chain(
            mesh.slots
                .iter()
                .map(|s| layer_color(&scene.layers[s.layer])),
        )
        .collect();
    let shown = |slot: usize| {
        visible
            .get(mesh.slots[slot - 1].layer)
            .copied()
            .unwrap_or(true)
    };
    let feature = |slot: usize| {
        let s = mesh.slots[slot - 1];
        (
            &scene.layers[s.layer],
            &scene.layers[s.layer].features[s.feature],
        )
    };
    let legend = match by {
        ColorBy::Layer => {
            let entries = scene
                .layers
                .iter()
                .enumerate()
                .filter(|(i, _)| visible.get(*i).copied().unwrap_or(true))
                .map(|(_, l)| LegendEntry {
                    color: layer_color(l),
                    label: l.name.clone(),
                })
                .collect();
            Some(Legend {
                title: "layers".into(),
                entries,
            })
        }
        ColorBy::Height => {
            let v: Vec<(usize, f64)> = (1..mesh.slot_count())
                .filter(|&s| shown(s))
                .filter_map(|s| feature(s).1.building.as_ref().map(|b| (s, b.height)))
                .collect();
            (!v.is_empty()).then(|| numeric_scale(&v, &mut colors, "height (m)".into()))
        }
        ColorBy::Use => {
            let v: Vec<(usize, String)> = (1..mesh.slot_count())
                .filter(|&s| shown(s))
                .filter_map(|s| {
                    feature(s)
                        .1
                        .building
                        .as_ref()
                        .map(|b| (s, b.usage.as_deref().unwrap_or("unknown").to_owned()))
                })
                .collect();
            (!v.is_empty()).then(|| categorical_scale(&v, &mut colors, "use".into()))
        }
        ColorBy::Attribute(name) => {
            let mut nums = Vec::new();
            let mut texts = Vec::new();
            for s in (1..mesh.slot_count()).filter(|&s| shown(s)) {
                let (l, f) = feature(s);
                match l.attribute(f, name) {
                    Some(ValueRef::Int(i)) => nums.push((s, i as f64)),
                    Some(ValueRef::Float(x)) if x.is_finite() => nums.push((s, x)),
                    Some(ValueRef::Null) | None => {}
                    Some(v) => texts.push((s, v.to_string())),
                }
            }
            if nums.is_empty() && texts.is_empty() {
                return Err(ColorError::UnknownAttribute(name.clone()));
            }
            // Mostly numbers → sequential; text that parses as numbers (OSM tags) counts as numbers.
            let parsed: Vec<(usize, f64)> = texts
                .iter()
                .filter_map(|(s, t)| Value::Text(t.clone()).as_f64().map(|x| (*s, x)))
                .collect();
            if texts.is_empty() || parsed.len() == texts.len() {
                nums.extend(parsed);
                Some(numeric_scale(&nums, &mut colors, name.clone()))
            } else {
                Some(categorical_scale(&texts, &mut colors, name.clone()))
            }
        }
        ColorBy::Simulated(q) => {
            let (run, t) = sim.ok_or_else(|| ColorError::NoRun(q.name().into()))?;
            let s = run.quantity(*q)?;
            let values = s.values_at(s.step_at(t));
            let shown_slots: Vec<u32> = s
                .slots
                .iter()
                .copied()
                .filter(|&x| shown(x as usize))
                .collect();
            let shown_values: Vec<f32> = s
                .slots
                .iter()
                .zip(values)
                .filter(|(x, _)| shown(**x as usize))
                .map(|(_, v)| *v)
                .collect();
            fill_scalar(&shown_slots, &shown_values, s.domain, &mut colors);
            let span = s.domain.1 - s.domain.0;
            let decimals = if span >= 20.0 {
                0
            } else if span >= 2.0 {
                1
            } else {
                2
            };
            Some(scalar_legend(s.domain, s.title.clone(), decimals, true))
        }
    };
    Ok((colors, legend))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequential_ends() {
        assert_eq!(sequential(0.0), [68, 1, 84, 255]);
        assert_eq!(sequential(1.0), [253, 231, 37, 255]);
        assert_eq!(sequential(f64::NAN), sequential(0.0));
        assert_ne!(sequential(0.5), sequential(0.6));
    }

    #[test]
    fn categories_rank_by_count() {
        let mut colors = vec![[0u8; 4]; 4];
        let v = vec![
            (0, "b".to_string()),
            (1, "a".into()),
            (2, "a".into()),
            (3, "c".into()),
        ];
        let legend = categorical_scale(&v, &mut colors, "use".into());
        assert_eq!(legend.entries[0].label, "a");
        assert_eq!(colors[1], colors[2]);
        assert_ne!(colors[0], colors[1]);
    }
}

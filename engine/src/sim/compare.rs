//! Two runs side by side: KPI deltas, and per-link and per-building differences written as Parquet.
//!
//! Both runs must belong to the same scene (the same fingerprint). Links are compared by their daily volume,
//! buildings by the person-hours spent in them.

use super::output::{RunDir, RunDirError};
use crate::timeseries::parquet as pq;
use crate::timeseries::SeriesTable;
use arrow_array::{ArrayRef, Float64Array, UInt32Array, UInt64Array};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// One KPI in both runs.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct KpiDelta {
    /// KPI name.
    pub name: String,
    /// Value in the first run.
    pub base: f64,
    /// Value in the second run.
    pub other: f64,
    /// `other − base`.
    pub delta: f64,
    /// The change in percent of `base` (absent when `base` is 0).
    pub percent: Option<f64>,
}

/// The comparison.
#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    /// The first run's directory.
    pub base: String,
    /// The second run's directory.
    pub other: String,
    /// KPI deltas, in KPI order.
    pub kpis: Vec<KpiDelta>,
    /// Links whose daily volume changed by at least one vehicle.
    pub links_changed: usize,
    /// Buildings whose person-hours changed by at least 0.5 h.
    pub buildings_changed: usize,
    /// Files written.
    pub files: Vec<String>,
}

fn totals_per_entity(t: &SeriesTable, column: &str, weight_per_step: &[f64]) -> Vec<f64> {
    let n = t.ids.len();
    let mut out = vec![0.0; n];
    if let Some(c) = t.column(column) {
        for (s, w) in weight_per_step.iter().enumerate().take(t.times.len()) {
            for (e, v) in t.step_values(c, s).iter().enumerate() {
                if v.is_finite() {
                    out[e] += f64::from(*v) * w;
                }
            }
        }
    }
    out
}

/// Per-entity totals of two tables over the union of their ids.
fn paired(a: (&[u64], &[f64]), b: (&[u64], &[f64])) -> (Vec<u64>, Vec<f64>, Vec<f64>) {
    let mut m: BTreeMap<u64, (f64, f64)> = BTreeMap::new();
    for (id, v) in a.0.iter().zip(a.1) {
        m.entry(*id).or_default().0 = *v;
    }
    for (id, v) in b.0.iter().zip(b.1) {
        m.entry(*id).or_default().1 = *v;
    }
    let ids = m.keys().copied().collect();
    let (x, y) = m.values().copied().unzip();
    (ids, x, y)
}

/// Compares run `b` with run `a`, writing `link_diff.parquet` and `building_diff.parquet` into `out`.
///
/// # Errors
/// [`RunDirError`] when a run is unreadable or the runs belong to different scenes.
pub fn compare(a: &RunDir, b: &RunDir, out: &Path) -> Result<Comparison, RunDirError> {
    if a.meta.scene_fingerprint != b.meta.scene_fingerprint {
        return Err(RunDirError::Invalid {
            path: b.path.clone(),
            detail: format!(
                "the runs belong to different scenes ({} has {}, {} has {}); compare runs of the same scene",
                a.path.display(),
                a.meta.scene_fingerprint,
                b.path.display(),
                b.meta.scene_fingerprint
            ),
        });
    }
    let fp = a.meta.scene_fingerprint.as_str();
    let (ka, kb) = (a.kpis()?, b.kpis()?);
    let kpis = ka
        .iter()
        .map(|(name, base)| {
            let other = kb.iter().find(|k| &k.0 == name).map_or(0.0, |k| k.1);
            KpiDelta {
                name: name.clone(),
                base: *base,
                other,
                delta: other - base,
                percent: (*base != 0.0).then(|| (other - base) / base.abs() * 100.0),
            }
        })
        .collect();
    std::fs::create_dir_all(out).map_err(|source| RunDirError::Io {
        path: out.to_owned(),
        source,
    })?;
    let meta: BTreeMap<String, String> = [(pq::META_FINGERPRINT.to_owned(), fp.to_owned())].into();
    let mut files = Vec::new();
    let mut links_changed = 0;
    if let (Some(la), Some(lb)) = (a.series("links", Some(fp))?, b.series("links", Some(fp))?) {
        let ones = vec![1.0; la.times.len().max(lb.times.len())];
        let va = totals_per_entity(&la, "volume", &ones);
        let vb = totals_per_entity(&lb, "volume", &ones);
        let (ids, x, y) = paired((&la.ids, &va), (&lb.ids, &vb));
        let d: Vec<f64> = x.iter().zip(&y).map(|(p, q)| q - p).collect();
        links_changed = d.iter().filter(|v| v.abs() >= 1.0).count();
        let p = out.join("link_diff.parquet");
        pq::write_table(
            &p,
            vec![
                (
                    "link_id",
                    Arc::new(UInt32Array::from_iter_values(ids.iter().map(|&i| i as u32)))
                        as ArrayRef,
                ),
                ("volume_base", Arc::new(Float64Array::from(x))),
                ("volume_other", Arc::new(Float64Array::from(y))),
                ("volume_delta", Arc::new(Float64Array::from(d))),
            ],
            &meta,
        )?;
        files.push(p.display().to_string());
    }
    let mut buildings_changed = 0;
    if let (Some(ba), Some(bb)) = (
        a.series("buildings", Some(fp))?,
        b.series("buildings", Some(fp))?,
    ) {
        let hours = |t: &SeriesTable| -> Vec<f64> {
            (0..t.times.len())
                .map(|s| {
                    t.times
                        .get(s + 1)
                        .map_or(0.0, |n| f64::from(n.0 - t.times[s].0) / 3600.0)
                })
                .collect()
        };
        let ha = totals_per_entity(&ba, "occupancy", &hours(&ba));
        let hb = totals_per_entity(&bb, "occupancy", &hours(&bb));
        let (ids, x, y) = paired((&ba.ids, &ha), (&bb.ids, &hb));
        let d: Vec<f64> = x.iter().zip(&y).map(|(p, q)| q - p).collect();
        buildings_changed = d.iter().filter(|v| v.abs() >= 0.5).count();
        let p = out.join("building_diff.parquet");
        pq::write_table(
            &p,
            vec![
                ("feature_id", Arc::new(UInt64Array::from(ids)) as ArrayRef),
                ("person_hours_base", Arc::new(Float64Array::from(x))),
                ("person_hours_other", Arc::new(Float64Array::from(y))),
                ("person_hours_delta", Arc::new(Float64Array::from(d))),
            ],
            &meta,
        )?;
        files.push(p.display().to_string());
    }
    Ok(Comparison {
        base: a.path.display().to_string(),
        other: b.path.display().to_string(),
        kpis,
        links_changed,
        buildings_changed,
        files,
    })
}

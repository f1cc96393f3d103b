//! Time series: the one home of simulated and observed values, keyed by feature, directed link or grid cell and
//! by time.
//!
//! Entry type: [`SeriesTable`], a columnar table in the spirit of rerun's chunk store: one entity kind
//! ([`EntityKind`]), a sorted list of step times, a sorted list of entity ids, and one dense column per quantity
//! holding a value for every (step, entity), step-major, `NaN` for "no value". The simulation writes tables;
//! the viewer colours the scene by any column at any step; live observations (later) append steps to the same
//! shape. [`parquet`] writes and reads them as Parquet files tied to a scene by its fingerprint
//! ([`crate::store::fingerprint`]), so a run is never shown on the wrong scene.
//!
//! # Glossary
//! - **entity**: what a row describes: a feature (building), a directed link of a network layer, a grid cell.
//! - **step**: one time of the table; values describe the step's instant (occupancy) or the interval up to the
//!   next step (volumes), as each column's documentation says.
//! - **domain**: the value range a colour scale spans, fixed over the whole table so colours compare across time.

pub mod parquet;

use crate::time::SimTime;

/// What the rows of a table describe.
#[derive(Clone, Debug, PartialEq)]
pub enum EntityKind {
    /// Scene features, by [`crate::FeatureId`].
    Feature,
    /// Directed links ([`crate::LinkId`]) of the network of one layer.
    Link {
        /// The network layer's name.
        layer: String,
    },
    /// Square grid cells of the scene frame: id = `(col as u32) << 32 | (row as u32)` of the cell whose lower-left
    /// corner is `(col × size, row × size)` in local coordinates.
    Cell {
        /// Cell edge, metres.
        size_m: f64,
    },
}

impl EntityKind {
    /// The id column's name in files.
    pub fn id_column(&self) -> &'static str {
        match self {
            EntityKind::Feature => "feature_id",
            EntityKind::Link { .. } => "link_id",
            EntityKind::Cell { .. } => "cell_id",
        }
    }

    /// A compact text form for file metadata: `feature`, `link:<layer>`, `cell:<size>`.
    pub fn encode(&self) -> String {
        match self {
            EntityKind::Feature => "feature".into(),
            EntityKind::Link { layer } => format!("link:{layer}"),
            EntityKind::Cell { size_m } => format!("cell:{size_m}"),
        }
    }

    /// Parses [`Self::encode`]'s form.
    pub fn decode(s: &str) -> Option<Self> {
        match s.split_once(':') {
            None if s == "feature" => Some(EntityKind::Feature),
            Some(("link", l)) => Some(EntityKind::Link {
                layer: l.to_owned(),
            }),
            Some(("cell", v)) => v.parse().ok().map(|size_m| EntityKind::Cell { size_m }),
            _ => None,
        }
    }
}

/// Packs a cell's column and row into a cell id.
pub fn cell_id(col: i32, row: i32) -> u64 {
    (u64::from(col as u32) << 32) | u64::from(row as u32)
}

/// Unpacks a cell id into `(col, row)`.
pub fn cell_col_row(id: u64) -> (i32, i32) {
    ((id >> 32) as u32 as i32, id as u32 as i32)
}

/// One quantity over every (step, entity).
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    /// Name, e.g. `occupancy`, `volume`.
    pub name: String,
    /// Unit, e.g. `persons`, `veh/h`, `km/h`.
    pub unit: String,
    /// Values, step-major: `values[step * ids.len() + entity]`; `NaN` = no value.
    pub values: Vec<f32>,
}

/// A table of time series for one kind of entity.
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesTable {
    /// What the rows describe.
    pub entity: EntityKind,
    /// Step times, ascending.
    pub times: Vec<SimTime>,
    /// Entity ids, ascending.
    pub ids: Vec<u64>,
    /// Quantities.
    pub columns: Vec<Column>,
}

impl SeriesTable {
    /// An empty table for `entity` over `times` × `ids` (both sorted ascending by the caller).
    pub fn new(entity: EntityKind, times: Vec<SimTime>, ids: Vec<u64>) -> Self {
        debug_assert!(times.windows(2).all(|w| w[0] < w[1]));
        debug_assert!(ids.windows(2).all(|w| w[0] < w[1]));
        SeriesTable {
            entity,
            times,
            ids,
            columns: Vec::new(),
        }
    }

    /// Adds a column of `values` (step-major, `times × ids` long) and returns its index.
    ///
    /// # Panics
    /// When `values` has the wrong length: a bug in the caller.
    pub fn push_column(&mut self, name: &str, unit: &str, values: Vec<f32>) -> usize {
        assert_eq!(
            values.len(),
            self.times.len() * self.ids.len(),
            "column {name}: {} values for {} steps × {} entities",
            values.len(),
            self.times.len(),
            self.ids.len()
        );
        self.columns.push(Column {
            name: name.to_owned(),
            unit: unit.to_owned(),
            values,
        });
        self.columns.len() - 1
    }

    /// The column called `name`.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The values of `column` at `step`, one per entity in `ids` order.
    pub fn step_values<'a>(&self, column: &'a Column, step: usize) -> &'a [f32] {
        let n = self.ids.len();
        &column.values[step * n..(step + 1) * n]
    }

    /// The position of entity `id`.
    pub fn index_of(&self, id: u64) -> Option<usize> {
        self.ids.binary_search(&id).ok()
    }

    /// The step in effect at `t`: the last step whose time is at or before `t` (the first step before it).
    pub fn step_at(&self, t: SimTime) -> usize {
        self.times.partition_point(|s| *s <= t).saturating_sub(1)
    }

    /// The series of one entity in `column`.
    pub fn entity_series(&self, column: &Column, entity: usize) -> Vec<f32> {
        let n = self.ids.len();
        (0..self.times.len())
            .map(|s| column.values[s * n + entity])
            .collect()
    }
}

/// The range a colour scale of `values` should span: from the smallest finite value (or 0 for non-negative
/// data) to the 99th percentile of the finite values, so one outlier does not flatten the scale; `None` without
/// finite values. Computed once over a whole run, it keeps colours comparable across time.
pub fn robust_domain(values: &[f32]) -> Option<(f32, f32)> {
    let mut v: Vec<f32> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f32::total_cmp);
    let lo = v[0].min(0.0);
    let hi = v[((v.len() - 1) as f64 * 0.99).round() as usize];
    let hi = if hi > lo {
        hi
    } else {
        v[v.len() - 1].max(lo + 1.0)
    };
    Some((lo, hi))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_access() {
        let mut t = SeriesTable::new(
            EntityKind::Feature,
            vec![SimTime(0), SimTime(900), SimTime(1800)],
            vec![3, 7],
        );
        let c = t.push_column("occupancy", "persons", vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let col = &t.columns[c];
        assert_eq!(t.step_values(col, 1), &[3.0, 4.0]);
        assert_eq!(t.entity_series(col, 1), vec![2.0, 4.0, 6.0]);
        assert_eq!(t.index_of(7), Some(1));
        assert_eq!(t.index_of(5), None);
        assert_eq!(t.step_at(SimTime(899)), 0);
        assert_eq!(t.step_at(SimTime(900)), 1);
        assert_eq!(t.step_at(SimTime(99_999)), 2);
        assert_eq!(
            t.column("occupancy").map(|c| c.unit.as_str()),
            Some("persons")
        );
    }

    #[test]
    fn entity_kinds_round_trip() {
        for k in [
            EntityKind::Feature,
            EntityKind::Link {
                layer: "roads".into(),
            },
            EntityKind::Cell { size_m: 250.0 },
        ] {
            assert_eq!(EntityKind::decode(&k.encode()), Some(k));
        }
        assert_eq!(cell_col_row(cell_id(-3, 12)), (-3, 12));
    }

    #[test]
    fn domain_ignores_outliers_and_nan() {
        let mut v: Vec<f32> = (0..1000).map(|i| (i % 100) as f32).collect();
        v.push(1e9);
        v.push(f32::NAN);
        let (lo, hi) = robust_domain(&v).expect("finite values");
        assert_eq!(lo, 0.0);
        assert!(hi < 100.0 && hi > 90.0, "{hi}");
        assert_eq!(robust_domain(&[f32::NAN]), None);
        assert_eq!(robust_domain(&[2.0, 2.0]), Some((0.0, 2.0)));
    }
}

//! Terrain: a digital elevation model (DEM) resampled onto a regular grid in the scene's local frame.

use serde::{Deserialize, Serialize};

/// A height grid. Cell `(col, row)` has its centre at
/// `(origin[0] + (col + 0.5) * cell_size[0], origin[1] - (row + 0.5) * cell_size[1])`: rows run north to south,
/// as in GeoTIFF.
///
/// # Units
/// Local frame metres; heights in metres of the source's vertical datum. `NaN` marks no data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Terrain {
    /// Top-left corner of the grid, local frame.
    pub origin: [f64; 2],
    /// Cell width and height (both positive), metres.
    pub cell_size: [f64; 2],
    /// Number of columns.
    pub cols: usize,
    /// Number of rows.
    pub rows: usize,
    /// Heights, row-major, `NaN` for no data.
    pub heights: Vec<f32>,
}

impl Terrain {
    /// Height at cell `(col, row)`, `None` outside the grid or on no data.
    pub fn cell(&self, col: usize, row: usize) -> Option<f64> {
        if col >= self.cols || row >= self.rows {
            return None;
        }
        let h = self.heights[row * self.cols + col];
        h.is_finite().then_some(h as f64)
    }

    /// Bilinear height at local point `(x, y)`; `None` outside the grid or where all neighbours are no data.
    /// Near no-data cells it averages the valid neighbours.
    pub fn sample(&self, x: f64, y: f64) -> Option<f64> {
        let fx = (x - self.origin[0]) / self.cell_size[0] - 0.5;
        let fy = (self.origin[1] - y) / self.cell_size[1] - 0.5;
        if !(fx > -1.0 && fy > -1.0 && fx < self.cols as f64 && fy < self.rows as f64) {
            return None;
        }
        let c0 = fx.floor();
        let r0 = fy.floor();
        let (tx, ty) = (fx - c0, fy - r0);
        let mut sum = 0.0;
        let mut wsum = 0.0;
        for (dc, dr, w) in [
            (0, 0, (1.0 - tx) * (1.0 - ty)),
            (1, 0, tx * (1.0 - ty)),
            (0, 1, (1.0 - tx) * ty),
            (1, 1, tx * ty),
        ] {
            let c = c0 as i64 + dc;
            let r = r0 as i64 + dr;
            if c < 0 || r < 0 {
                continue;
            }
            if let Some(h) = self.cell(c as usize, r as usize) {
                sum += w * h;
                wsum += w;
            }
        }
        (wsum > 1e-12).then(|| sum / wsum)
    }

    /// The grid's extent in the local frame: `[min_x, min_y, max_x, max_y]`.
    pub fn extent(&self) -> [f64; 4] {
        [
            self.origin[0],
            self.origin[1] - self.rows as f64 * self.cell_size[1],
            self.origin[0] + self.cols as f64 * self.cell_size[0],
            self.origin[1],
        ]
    }

    /// Lowest and highest valid height, `None` if the grid has no data.
    pub fn height_range(&self) -> Option<(f64, f64)> {
        let mut it = self.heights.iter().filter(|h| h.is_finite());
        let first = *it.next()? as f64;
        Some(it.fold((first, first), |(lo, hi), &h| {
            (lo.min(h as f64), hi.max(h as f64))
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ramp() -> Terrain {
        // 3 × 2 grid, 10 m cells, height = column index * 10 + row.
        Terrain {
            origin: [0.0, 20.0],
            cell_size: [10.0, 10.0],
            cols: 3,
            rows: 2,
            heights: vec![0.0, 10.0, 20.0, 1.0, 11.0, 21.0],
        }
    }

    #[test]
    fn sample_at_cell_centres_and_between() {
        let t = ramp();
        assert_eq!(t.sample(5.0, 15.0), Some(0.0));
        assert_eq!(t.sample(25.0, 5.0), Some(21.0));
        let mid = t.sample(10.0, 15.0).expect("inside");
        assert!((mid - 5.0).abs() < 1e-9);
        assert_eq!(t.sample(-50.0, 0.0), None);
    }

    #[test]
    fn no_data_is_skipped() {
        let mut t = ramp();
        t.heights[1] = f32::NAN;
        let h = t.sample(10.0, 15.0).expect("one valid neighbour left");
        assert!((h - 0.0).abs() < 1e-9 || h > 0.0);
        assert_eq!(t.cell(1, 0), None);
        assert_eq!(t.height_range(), Some((0.0, 21.0)));
    }
}

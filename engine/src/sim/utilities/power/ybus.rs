//! The bus admittance matrix (MATPOWER's `makeYbus`, as pandapower uses it): `I = Ybus · V` in per unit, with
//! the branch admittances kept for the flows at each end.

use super::build::PuGrid;
use faer::c64;

/// `Ybus` in compressed rows (pattern symmetric, diagonal present for every solved bus), and each branch's
/// two-port admittances.
#[derive(Clone, Debug)]
pub(crate) struct Ybus {
    /// Row starts into `col` / `val`, one more than the buses.
    pub row_ptr: Vec<usize>,
    /// Column of each entry, sorted within a row.
    pub col: Vec<usize>,
    /// Value of each entry, pu.
    pub val: Vec<c64>,
    /// Per branch `[Yff, Yft, Ytf, Ytt]`: `I_from = Yff·V_from + Yft·V_to`, `I_to = Ytf·V_from + Ytt·V_to`
    /// (zero for branches not in service).
    pub branch: Vec<[c64; 4]>,
}

impl Ybus {
    /// Builds `Ybus` for the active branches and the shunts of solved buses.
    pub fn new(pu: &PuGrid) -> Self {
        let n = pu.buses.len();
        let mut entries: Vec<(usize, usize, c64)> = Vec::with_capacity(4 * pu.branches.len() + n);
        let mut branch = Vec::with_capacity(pu.branches.len());
        for br in &pu.branches {
            if !br.active {
                branch.push([c64::new(0.0, 0.0); 4]);
                continue;
            }
            let p = &br.p;
            let ys = c64::new(1.0, 0.0) / c64::new(p.r, p.x);
            let bcf = c64::new(p.g, p.b);
            let bct = c64::new(p.g + p.g_asym, p.b + p.b_asym);
            let t = c64::from_polar(p.tap, p.shift_deg.to_radians());
            let yff = (ys + bcf / 2.0) / (t * t.conj());
            let yft = -ys / t.conj();
            let ytf = -ys / t;
            let ytt = ys + bct / 2.0;
            entries.extend([
                (br.from, br.from, yff),
                (br.from, br.to, yft),
                (br.to, br.from, ytf),
                (br.to, br.to, ytt),
            ]);
            branch.push([yff, yft, ytf, ytt]);
        }
        for (i, b) in pu.buses.iter().enumerate() {
            if pu.solved(i) {
                entries.push((i, i, c64::new(b.gs, b.bs) / pu.base_mva));
            }
        }
        entries.sort_by_key(|&(r, c, _)| (r, c));
        let mut row_ptr = vec![0usize; n + 1];
        let mut col = Vec::with_capacity(entries.len());
        let mut val: Vec<c64> = Vec::with_capacity(entries.len());
        let mut last: Option<(usize, usize)> = None;
        for (r, c, v) in entries {
            if last == Some((r, c)) {
                if let Some(x) = val.last_mut() {
                    *x += v;
                }
                continue;
            }
            last = Some((r, c));
            row_ptr[r + 1] += 1;
            col.push(c);
            val.push(v);
        }
        for i in 0..n {
            row_ptr[i + 1] += row_ptr[i];
        }
        Ybus {
            row_ptr,
            col,
            val,
            branch,
        }
    }

    /// The entries of row `i`: `(column, value)`.
    pub fn row(&self, i: usize) -> impl Iterator<Item = (usize, c64)> + '_ {
        let r = self.row_ptr[i]..self.row_ptr[i + 1];
        self.col[r.clone()]
            .iter()
            .copied()
            .zip(self.val[r].iter().copied())
    }

    /// `Ybus · V`.
    pub fn mul(&self, v: &[c64]) -> Vec<c64> {
        (0..self.row_ptr.len() - 1)
            .map(|i| self.row(i).map(|(k, y)| y * v[k]).sum())
            .collect()
    }
}

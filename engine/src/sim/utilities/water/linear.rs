//! The linear system of each gradient-method trial, `A·H = F` over the junction heads, solved by `faer`'s sparse
//! Cholesky factorisation. `A` is symmetric positive definite with one row per junction and one off-diagonal
//! entry per pair of junctions a link joins (parallel links share it, as in EPANET). Its pattern never changes
//! during a run, so the fill-reducing ordering and symbolic factorisation are computed once and every trial
//! only refactorises numerically into preallocated memory.

use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::cholesky::llt::factor::{LltError, LltRegularization};
use faer::sparse::linalg::cholesky::{
    factorize_symbolic_cholesky, SymbolicCholesky, SymmetricOrdering,
};
use faer::sparse::{SparseColMatRef, SymbolicSparseColMat};
use faer::{Conj, MatMut, Par, Side};

/// The matrix, right-hand side and factorisation workspace.
pub(super) struct LinearSystem {
    n: usize,
    /// Diagonal coefficients, per junction.
    pub aii: Vec<f64>,
    /// Off-diagonal coefficients, per junction pair (slot).
    pub aij: Vec<f64>,
    /// Right-hand side; the solution after [`Self::solve`].
    pub f: Vec<f64>,
    structure: SymbolicSparseColMat<usize>,
    values: Vec<f64>,
    diag_pos: Vec<usize>,
    slot_pos: Vec<usize>,
    symbolic: SymbolicCholesky<usize>,
    l_values: Vec<f64>,
    mem: MemBuffer,
}

impl std::fmt::Debug for LinearSystem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinearSystem")
            .field("n", &self.n)
            .field("slots", &self.aij.len())
            .finish_non_exhaustive()
    }
}

impl LinearSystem {
    /// Builds the pattern for `n` junctions and the given junction pairs (each `(a, b)` with `a != b`, both
    /// `< n`). Returns the system and, per pair, its slot (pairs joining the same two junctions share one).
    pub(super) fn new(n: usize, pairs: &[(usize, usize)]) -> (LinearSystem, Vec<usize>) {
        // Unique slots, keyed by (column = lower index, row = higher index).
        let mut keyed: Vec<(usize, usize, usize)> = pairs
            .iter()
            .enumerate()
            .map(|(i, &(a, b))| (a.min(b), a.max(b), i))
            .collect();
        keyed.sort_unstable();
        let mut pair_slot = vec![0usize; pairs.len()];
        let mut slots: Vec<(usize, usize)> = Vec::new();
        for &(c, r, i) in &keyed {
            if slots.last() != Some(&(c, r)) {
                slots.push((c, r));
            }
            pair_slot[i] = slots.len() - 1;
        }
        // Lower triangle, column-major: each column's diagonal, then its rows below in increasing order.
        let mut col_ptr = Vec::with_capacity(n + 1);
        let mut row_idx = Vec::with_capacity(n + slots.len());
        let mut diag_pos = vec![0usize; n];
        let mut slot_pos = vec![0usize; slots.len()];
        let mut s = 0;
        for (j, dp) in diag_pos.iter_mut().enumerate() {
            col_ptr.push(row_idx.len());
            *dp = row_idx.len();
            row_idx.push(j);
            while s < slots.len() && slots[s].0 == j {
                slot_pos[s] = row_idx.len();
                row_idx.push(slots[s].1);
                s += 1;
            }
        }
        col_ptr.push(row_idx.len());
        let nnz = row_idx.len();
        let structure = SymbolicSparseColMat::new_checked(n, n, col_ptr, None, row_idx);
        let symbolic = factorize_symbolic_cholesky(
            structure.as_ref(),
            Side::Lower,
            SymmetricOrdering::Amd,
            Default::default(),
        )
        .expect("symbolic Cholesky of a valid pattern");
        let req = symbolic
            .factorize_numeric_llt_scratch::<f64>(Par::Seq, Default::default())
            .or(symbolic.solve_in_place_scratch::<f64>(1, Par::Seq));
        let l_values = vec![0.0; symbolic.len_val()];
        let nslots = slots.len();
        (
            LinearSystem {
                n,
                aii: vec![0.0; n],
                aij: vec![0.0; nslots],
                f: vec![0.0; n],
                structure,
                values: vec![0.0; nnz],
                diag_pos,
                slot_pos,
                symbolic,
                l_values,
                mem: MemBuffer::new(req),
            },
            pair_slot,
        )
    }

    /// Zeroes the matrix and right-hand side.
    pub(super) fn clear(&mut self) {
        self.aii.fill(0.0);
        self.aij.fill(0.0);
        self.f.fill(0.0);
    }

    /// Solves `A·H = F` in place (the heads are left in [`Self::f`]). On a non-positive pivot (an ill-posed
    /// system) returns the junction where the factorisation broke down.
    pub(super) fn solve(&mut self) -> Result<(), usize> {
        for (j, &p) in self.diag_pos.iter().enumerate() {
            self.values[p] = self.aii[j];
        }
        for (s, &p) in self.slot_pos.iter().enumerate() {
            self.values[p] = self.aij[s];
        }
        let a = SparseColMatRef::new(self.structure.as_ref(), &self.values);
        let stack = MemStack::new(&mut self.mem);
        let llt = match self.symbolic.factorize_numeric_llt(
            &mut self.l_values,
            a,
            Side::Lower,
            LltRegularization::default(),
            Par::Seq,
            stack,
            Default::default(),
        ) {
            Ok(l) => l,
            Err(LltError::NonPositivePivot { index }) => {
                // `index` is 1-based in the permuted order.
                let k = index.saturating_sub(1).min(self.n.saturating_sub(1));
                let node = match self.symbolic.perm() {
                    Some(p) => p.arrays().0[k],
                    None => k,
                };
                return Err(node);
            }
        };
        let rhs = MatMut::from_column_major_slice_mut(&mut self.f, self.n, 1);
        let stack = MemStack::new(&mut self.mem);
        llt.solve_in_place_with_conj(Conj::No, rhs, Par::Seq, stack);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solves_a_small_spd_system_and_shares_parallel_slots() {
        // Path 0 - 1 - 2 with a parallel second link 1 - 2.
        let (mut ls, slots) = LinearSystem::new(3, &[(0, 1), (1, 2), (2, 1)]);
        assert_eq!(slots[1], slots[2]);
        ls.clear();
        ls.aii.copy_from_slice(&[2.0, 3.0, 2.0]);
        ls.aij[slots[0]] = -1.0;
        ls.aij[slots[1]] = -1.0;
        // A = [[2,-1,0],[-1,3,-1],[0,-1,2]], x = [1,2,3] → b = [0, 2, 4].
        ls.f.copy_from_slice(&[0.0, 2.0, 4.0]);
        ls.solve().expect("positive definite");
        for (x, want) in ls.f.iter().zip([1.0, 2.0, 3.0]) {
            assert!((x - want).abs() < 1e-12, "{x} vs {want}");
        }
    }

    #[test]
    fn reports_the_junction_with_no_coupling() {
        let (mut ls, slots) = LinearSystem::new(3, &[(0, 1)]);
        ls.clear();
        ls.aii.copy_from_slice(&[1.0, 1.0, 0.0]);
        ls.aij[slots[0]] = -0.5;
        assert_eq!(ls.solve(), Err(2));
    }
}

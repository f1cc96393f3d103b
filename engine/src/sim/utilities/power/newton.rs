//! Newton–Raphson in polar form, as pandapower runs it (`pypower/newtonpf.py`, `pypower/dSbus_dV.py`,
//! `pf/run_dc_pf.py`), on a sparse Jacobian factorised by faer's sparse LU.
//!
//! Unknowns: the angles of PV and PQ buses, the magnitudes of PQ buses. Mismatch `F = [ΔP(pv, pq); ΔQ(pq)]` with
//! `ΔS = V · conj(Ybus · V) − S(|V|)`, where `S` is generation minus load (loads scaled by their
//! voltage-dependent shares). Full steps, no damping; converged when `‖F‖∞ < tolerance_mva`. As in pandapower,
//! the Jacobian leaves out the voltage dependence of loads (a quasi-Newton step when loads depend on voltage).
//!
//! The start: magnitudes from [`super::build`] (set points, else their mean), angles from a DC power flow
//! (`B θ = P`, with `1/x` branch susceptances divided by the tap ratio and phase shifts as injections) when
//! voltage angles are calculated.
//!
//! The Jacobian's pattern follows Ybus's and never changes, so its symbolic LU analysis (fill-reducing ordering,
//! elimination structure) is done once ([`SparseLu`]) and only the numeric factorisation is repeated.

use super::build::{BusKind, PuGrid};
use super::ybus::Ybus;
use super::{PfInit, PfOptions, PowerError};
use faer::c64;
use faer::col::ColMut;
use faer::linalg::solvers::Solve;
use faer::sparse::linalg::solvers::{Lu, SymbolicLu};
use faer::sparse::{SparseColMatRef, SymbolicSparseColMatRef};

/// A square sparse matrix pattern (compressed columns) with its symbolic LU analysis, for repeated numeric
/// factorisations with new values.
pub struct SparseLu {
    n: usize,
    col_ptr: Vec<usize>,
    row_idx: Vec<usize>,
    symbolic: SymbolicLu<usize>,
}

impl SparseLu {
    /// Analyses the pattern of `entries` (`(row, column)`, no duplicates) of an `n × n` matrix. Returns the
    /// analysis and, for each entry, its position in the compressed-column value array.
    ///
    /// # Errors
    /// [`PowerError::Singular`] when faer rejects the pattern (structurally singular).
    pub fn analyse(
        n: usize,
        entries: &[(usize, usize)],
        stage: &str,
    ) -> Result<(Self, Vec<usize>), PowerError> {
        let mut order: Vec<usize> = (0..entries.len()).collect();
        order.sort_by_key(|&e| (entries[e].1, entries[e].0));
        let mut col_ptr = vec![0usize; n + 1];
        let mut row_idx = Vec::with_capacity(entries.len());
        let mut slot = vec![0usize; entries.len()];
        for (pos, &e) in order.iter().enumerate() {
            col_ptr[entries[e].1 + 1] += 1;
            row_idx.push(entries[e].0);
            slot[e] = pos;
        }
        for j in 0..n {
            col_ptr[j + 1] += col_ptr[j];
        }
        let symbolic = {
            let s = SymbolicSparseColMatRef::new_checked(n, n, &col_ptr, None, &row_idx);
            SymbolicLu::try_new(s).map_err(|e| PowerError::Singular {
                stage: stage.to_owned(),
                detail: format!("{e:?}"),
            })?
        };
        Ok((
            SparseLu {
                n,
                col_ptr,
                row_idx,
                symbolic,
            },
            slot,
        ))
    }

    /// Factorises the matrix with `values` (in compressed-column order) and solves `A x = rhs` in place.
    ///
    /// # Errors
    /// [`PowerError::Singular`] when the factorisation fails or the solution is not finite.
    pub fn solve(&self, values: &[f64], rhs: &mut [f64], stage: &str) -> Result<(), PowerError> {
        let singular = |detail: String| PowerError::Singular {
            stage: stage.to_owned(),
            detail,
        };
        let s = SymbolicSparseColMatRef::new_checked(
            self.n,
            self.n,
            &self.col_ptr,
            None,
            &self.row_idx,
        );
        let a = SparseColMatRef::new(s, values);
        let lu = Lu::try_new_with_symbolic(self.symbolic.clone(), a)
            .map_err(|e| singular(format!("{e:?}")))?;
        lu.solve_in_place(ColMut::from_slice_mut(rhs));
        if let Some(i) = rhs.iter().position(|x| !x.is_finite()) {
            return Err(singular(format!("unknown {i} of {} is not finite", self.n)));
        }
        Ok(())
    }
}

/// The solved state.
#[derive(Clone, Debug)]
pub(crate) struct Solution {
    /// Complex voltage of each internal bus, pu (NaN for isolated buses).
    pub v: Vec<c64>,
    /// Newton–Raphson iterations done.
    pub iterations: usize,
    /// The final ‖F‖∞, per unit of `sn_mva`.
    pub mismatch: f64,
}

fn nan_c() -> c64 {
    c64::new(f64::NAN, f64::NAN)
}

/// Generation minus load at 1 pu (`|V|` given: loads scaled by their voltage-dependent shares), per unit.
fn sbus(pu: &PuGrid, vm: Option<&[f64]>) -> Vec<c64> {
    let mut s: Vec<c64> = pu
        .buses
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let [ip, zp, iq, zq] = b.zip;
            let (fp, fq) = match vm {
                Some(vm) => {
                    let v = vm[i];
                    (
                        1.0 - ip - zp + ip * v + zp * v * v,
                        1.0 - iq - zq + iq * v + zq * v * v,
                    )
                }
                None => (1.0, 1.0),
            };
            c64::new(-b.pd * fp, -b.qd * fq)
        })
        .collect();
    for g in &pu.gens {
        s[g.bus] += c64::new(g.pg, 0.0);
    }
    for x in &mut s {
        *x /= pu.base_mva;
    }
    s
}

/// The start voltages (pandapower's init): set points and their mean as magnitudes; angles from a DC power flow
/// when voltage angles are calculated and the init asks for it.
pub(crate) fn start_voltages(
    pu: &PuGrid,
    _y: &Ybus,
    opts: &PfOptions,
) -> Result<Vec<c64>, PowerError> {
    let mut va: Vec<f64> = pu.buses.iter().map(|b| b.va0.to_radians()).collect();
    let dc = match opts.init {
        PfInit::Auto => opts.calculate_voltage_angles,
        PfInit::Dc => true,
        PfInit::Flat => false,
    };
    if dc {
        dc_angles(pu, &mut va)?;
    }
    Ok(pu
        .buses
        .iter()
        .zip(&va)
        .enumerate()
        .map(|(i, (b, &a))| {
            if pu.solved(i) {
                c64::from_polar(b.vm0, a)
            } else {
                nan_c()
            }
        })
        .collect())
}

/// DC power flow for the angles of PV and PQ buses (reference angles kept), in place, radians.
fn dc_angles(pu: &PuGrid, va: &mut [f64]) -> Result<(), PowerError> {
    let n = pu.buses.len();
    let mut unknown = vec![usize::MAX; n];
    let mut m = 0;
    for (i, b) in pu.buses.iter().enumerate() {
        if matches!(b.kind, BusKind::Pv | BusKind::Pq) {
            unknown[i] = m;
            m += 1;
        }
    }
    if m == 0 {
        return Ok(());
    }
    let s = sbus(pu, None);
    let mut p: Vec<f64> = (0..n)
        .map(|i| s[i].re - pu.buses[i].gs / pu.base_mva)
        .collect();
    // B entries as (row, col, value), summed later; phase shifts as injections.
    let mut b_entries: Vec<(usize, usize, f64)> = Vec::new();
    for br in pu.branches.iter().filter(|b| b.active) {
        if br.p.x == 0.0 {
            continue;
        }
        let b = 1.0 / br.p.x / br.p.tap;
        let (f, t) = (br.from, br.to);
        b_entries.extend([(f, f, b), (f, t, -b), (t, f, -b), (t, t, b)]);
        let pf_inj = b * (-br.p.shift_deg.to_radians());
        p[f] -= pf_inj;
        p[t] += pf_inj;
    }
    // Known angles move to the right-hand side; the rest forms the reduced matrix.
    let mut rhs: Vec<f64> = vec![0.0; m];
    for (i, &u) in unknown.iter().enumerate() {
        if u != usize::MAX {
            rhs[u] = p[i];
        }
    }
    let mut reduced: Vec<(usize, usize, f64)> = Vec::new();
    for &(r, c, v) in &b_entries {
        let (ur, uc) = (unknown[r], unknown[c]);
        if ur == usize::MAX {
            continue;
        }
        if uc == usize::MAX {
            rhs[ur] -= v * va[c];
        } else {
            reduced.push((ur, uc, v));
        }
    }
    // Every unknown bus is connected, so its diagonal is present; keep it even if it sums to zero.
    for u in 0..m {
        reduced.push((u, u, 0.0));
    }
    reduced.sort_by_key(|&(r, c, _)| (c, r));
    let mut pattern: Vec<(usize, usize)> = Vec::new();
    let mut values: Vec<f64> = Vec::new();
    for (r, c, v) in reduced {
        if pattern.last() == Some(&(r, c)) {
            if let Some(x) = values.last_mut() {
                *x += v;
            }
        } else {
            pattern.push((r, c));
            values.push(v);
        }
    }
    let (lu, slot) = SparseLu::analyse(m, &pattern, "DC start")?;
    let mut csc = vec![0.0; values.len()];
    for (e, &v) in values.iter().enumerate() {
        csc[slot[e]] = v;
    }
    lu.solve(&csc, &mut rhs, "DC start")?;
    for (i, &u) in unknown.iter().enumerate() {
        if u != usize::MAX {
            va[i] = rhs[u];
        }
    }
    Ok(())
}

/// Which derivative a Jacobian entry holds.
#[derive(Clone, Copy)]
struct JEntry {
    /// Equation bus.
    i: usize,
    /// Variable bus.
    k: usize,
    /// Position of `Y_ik` in Ybus.
    y: usize,
    /// Reactive (Q) equation, else active (P).
    q: bool,
    /// Magnitude variable, else angle.
    vm: bool,
}

/// Runs Newton–Raphson from `v0`.
///
/// # Errors
/// [`PowerError::NotConverged`] after `max_iteration` iterations above the tolerance;
/// [`PowerError::Singular`] when the Jacobian cannot be factorised.
pub(crate) fn newton_raphson(
    pu: &PuGrid,
    y: &Ybus,
    v0: Vec<c64>,
    opts: &PfOptions,
) -> Result<Solution, PowerError> {
    let n = pu.buses.len();
    let pv: Vec<usize> = (0..n)
        .filter(|&i| pu.buses[i].kind == BusKind::Pv)
        .collect();
    let pq: Vec<usize> = (0..n)
        .filter(|&i| pu.buses[i].kind == BusKind::Pq)
        .collect();
    let (npv, npq) = (pv.len(), pq.len());
    // Unknown and equation numbering: angle / P of pv then pq; magnitude / Q of pq after them.
    let mut ang = vec![usize::MAX; n];
    let mut mag = vec![usize::MAX; n];
    for (j, &i) in pv.iter().chain(&pq).enumerate() {
        ang[i] = j;
    }
    for (j, &i) in pq.iter().enumerate() {
        mag[i] = npv + npq + j;
    }
    let dim = npv + 2 * npq;

    let mut v = v0;
    let mut vm: Vec<f64> = v.iter().map(|x| x.norm()).collect();
    let mut va: Vec<f64> = v.iter().map(|x| x.arg()).collect();
    let mismatch = |v: &[c64], s: &[c64]| -> (Vec<f64>, f64, usize) {
        let i_bus = y.mul(v);
        let mut f = vec![0.0; dim];
        let (mut worst, mut at) = (0.0f64, usize::MAX);
        for i in pv.iter().chain(&pq).copied() {
            let mis = v[i] * i_bus[i].conj() - s[i];
            f[ang[i]] = mis.re;
            if mag[i] != usize::MAX {
                f[mag[i]] = mis.im;
            }
        }
        for (j, x) in f.iter().enumerate() {
            // NaN counts as the worst, so a diverged state never passes for converged.
            if x.is_nan() || x.abs() > worst {
                worst = x.abs();
                at = j;
            }
        }
        (f, worst, at)
    };
    let bus_of_equation = |j: usize| -> i64 {
        let i = if j < npv + npq {
            pv.iter().chain(&pq).nth(j)
        } else {
            pq.get(j - npv - npq)
        };
        i.map_or(-1, |&i| pu.buses[i].pp_index)
    };

    // The Jacobian's pattern, from Ybus's, analysed once.
    let mut entries: Vec<JEntry> = Vec::new();
    for i in pv.iter().chain(&pq).copied() {
        for pos in y.row_ptr[i]..y.row_ptr[i + 1] {
            let k = y.col[pos];
            for q in [false, true] {
                if q && mag[i] == usize::MAX {
                    continue;
                }
                for vm_var in [false, true] {
                    let col = if vm_var { mag[k] } else { ang[k] };
                    if col != usize::MAX {
                        entries.push(JEntry {
                            i,
                            k,
                            y: pos,
                            q,
                            vm: vm_var,
                        });
                    }
                }
            }
        }
    }
    let pattern: Vec<(usize, usize)> = entries
        .iter()
        .map(|e| {
            let row = if e.q { mag[e.i] } else { ang[e.i] };
            let col = if e.vm { mag[e.k] } else { ang[e.k] };
            (row, col)
        })
        .collect();
    let lu = if dim > 0 {
        Some(SparseLu::analyse(dim, &pattern, "Newton–Raphson Jacobian")?)
    } else {
        None
    };

    let converged = |worst: f64| worst < opts.tolerance_mva;
    let mut s = sbus(pu, None);
    let (mut f, mut worst, mut at) = mismatch(&v, &s);
    let mut it = 0;
    let mut values = vec![0.0; entries.len()];
    while !converged(worst) && it < opts.max_iteration {
        it += 1;
        let Some((lu, slot)) = &lu else { break };
        let i_bus = y.mul(&v);
        let vn: Vec<c64> = v.iter().zip(&vm).map(|(x, m)| x / m).collect();
        for (e, entry) in entries.iter().enumerate() {
            let (i, k) = (entry.i, entry.k);
            let yik = y.val[entry.y];
            let d = if entry.vm {
                let mut d = v[i] * (yik * vn[k]).conj();
                if i == k {
                    d += i_bus[i].conj() * vn[i];
                }
                d
            } else {
                let inner = if i == k {
                    i_bus[i] - yik * v[i]
                } else {
                    -(yik * v[k])
                };
                c64::new(0.0, 1.0) * v[i] * inner.conj()
            };
            values[slot[e]] = if entry.q { d.im } else { d.re };
        }
        let mut dx: Vec<f64> = f.iter().map(|x| -x).collect();
        lu.solve(&values, &mut dx, &format!("Newton–Raphson iteration {it}"))?;
        for &i in pv.iter().chain(&pq) {
            va[i] += dx[ang[i]];
        }
        for &i in &pq {
            vm[i] += dx[mag[i]];
        }
        for i in pv.iter().chain(&pq).copied() {
            v[i] = c64::from_polar(vm[i], va[i]);
            vm[i] = v[i].norm();
            va[i] = v[i].arg();
        }
        s = sbus(pu, Some(&vm));
        (f, worst, at) = mismatch(&v, &s);
    }
    if !converged(worst) {
        return Err(PowerError::NotConverged {
            iterations: it,
            mismatch_mva: worst,
            bus: bus_of_equation(at),
            tolerance_mva: opts.tolerance_mva,
        });
    }
    Ok(Solution {
        v,
        iterations: it,
        mismatch: worst,
    })
}

//! Gemm and MatMul, f32: `y = act(alpha * A·B + beta * C)`, row-major.
//!
//! A is `[M, K]` (`[K, M]` when `trans_a`). B is `[N, K]` (`BLayout::NK`: how constant Gemm
//! weights are stored, each output one contiguous dot product) or `[K, N]` (`BLayout::KN`).
//! Each output row is computed `BLOCK` columns at a time: independent sums that share every
//! load of A. Every output is still summed in order of `k`, like the plain definition.
//! The parallel axis is the range of output columns `cols`.

use core::ops::Range;

use super::act::Act;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum BLayout {
    /// `b[j * k + p]`
    NK,
    /// `b[p * n + j]`
    KN,
}

/// Where C (the bias) holds element (i, j): `c[i * row_stride + j * col_stride]`, 0 = broadcast.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bias {
    pub row_stride: usize,
    pub col_stride: usize,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Gemm {
    pub m: usize,
    pub n: usize,
    pub k: usize,
    pub trans_a: bool,
    pub b_layout: BLayout,
    pub alpha: f32,
    pub beta: f32,
}

/// Batch dimensions a MatMul broadcasts over (more are rejected at build time).
pub const MAX_BATCH_DIMS: usize = 4;

/// Batched `[.., M, K] x [.., K, N]`; batch strides count whole matrices, 0 = broadcast.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MatMul {
    pub batch: [usize; MAX_BATCH_DIMS],
    pub a_strides: [usize; MAX_BATCH_DIMS],
    pub b_strides: [usize; MAX_BATCH_DIMS],
    pub m: usize,
    pub n: usize,
    pub k: usize,
}

/// Output columns computed together.
const BLOCK: usize = 4;

/// Computes columns `cols` of every row of `y` (`[M, N]`); `c` is the optional bias.
#[inline]
pub fn gemm(
    p: &Gemm,
    a: &[f32],
    b: &[f32],
    c: Option<(&[f32], Bias)>,
    y: &mut [f32],
    cols: Range<usize>,
    act: Act,
) {
    let (alpha, beta) = (p.alpha, p.beta);
    let finish = |i: usize, j: usize, sum: f32| {
        let bias = c.map_or(0.0, |(c, s)| c[i * s.row_stride + j * s.col_stride]);
        act.apply(alpha * sum + beta * bias)
    };
    if p.trans_a {
        gemm_strided_a(p, a, b, y, cols, finish);
    } else {
        gemm_rows(p.m, p.n, p.k, p.b_layout, a, b, y, cols, finish);
    }
}

/// Computes columns `cols` of every output matrix of the batch.
#[inline]
pub fn matmul(p: &MatMul, a: &[f32], b: &[f32], y: &mut [f32], cols: Range<usize>, act: Act) {
    let (a_len, b_len, y_len) = (p.m * p.k, p.k * p.n, p.m * p.n);
    let mut index = [0; MAX_BATCH_DIMS];
    for ym in y.chunks_exact_mut(y_len) {
        let offset = |strides: &[usize; MAX_BATCH_DIMS]| -> usize {
            index.iter().zip(strides).map(|(i, s)| i * s).sum()
        };
        let (ao, bo) = (offset(&p.a_strides), offset(&p.b_strides));
        let am = &a[ao * a_len..(ao + 1) * a_len];
        let bm = &b[bo * b_len..(bo + 1) * b_len];
        gemm_rows(
            p.m,
            p.n,
            p.k,
            BLayout::KN,
            am,
            bm,
            ym,
            cols.clone(),
            |_, _, s| act.apply(s),
        );
        for d in (0..MAX_BATCH_DIMS).rev() {
            index[d] += 1;
            if index[d] < p.batch[d] {
                break;
            }
            index[d] = 0;
        }
    }
}

/// A row-major `[M, K]`; `finish(i, j, sum)` gives the output value.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn gemm_rows(
    m: usize,
    n: usize,
    k: usize,
    layout: BLayout,
    a: &[f32],
    b: &[f32],
    y: &mut [f32],
    cols: Range<usize>,
    finish: impl Fn(usize, usize, f32) -> f32,
) {
    let b = &b[..n * k];
    let blocks = cols.len() / BLOCK;
    for (i, (a_row, y_row)) in a
        .chunks_exact(k)
        .zip(y.chunks_exact_mut(n))
        .take(m)
        .enumerate()
    {
        let dots = |j: usize| match layout {
            BLayout::NK => dots_nk::<BLOCK>(a_row, b, j, k),
            BLayout::KN => dots_kn::<BLOCK>(a_row, b, j, n),
        };
        for jb in 0..blocks {
            let j = cols.start + jb * BLOCK;
            for (c, s) in dots(j).into_iter().enumerate() {
                y_row[j + c] = finish(i, j + c, s);
            }
        }
        let rest = cols.start + blocks * BLOCK..cols.end;
        for (j, yv) in rest.clone().zip(&mut y_row[rest]) {
            let s = match layout {
                BLayout::NK => dots_nk::<1>(a_row, b, j, k)[0],
                BLayout::KN => dots_kn::<1>(a_row, b, j, n)[0],
            };
            *yv = finish(i, j, s);
        }
    }
}

/// Dot products of `a_row` with B rows `j..j + N` of a `[_, K]` B (N is 1 or 4).
#[inline(always)]
fn dots_nk<const N: usize>(a_row: &[f32], b: &[f32], j: usize, k: usize) -> [f32; N] {
    let a_row = &a_row[..k];
    let row = |c: usize| &b[(j + c) * k..][..k];
    let mut acc = [0.0; N];
    if N == 4 {
        let rows = a_row.iter().zip(row(0)).zip(row(1)).zip(row(2)).zip(row(3));
        for ((((&av, &w0), &w1), &w2), &w3) in rows {
            acc[0] += av * w0;
            acc[1] += av * w1;
            acc[2] += av * w2;
            acc[3] += av * w3;
        }
    } else {
        for (c, sum) in acc.iter_mut().enumerate() {
            *sum = a_row
                .iter()
                .zip(row(c))
                .fold(0.0, |s, (&av, &w)| s + av * w);
        }
    }
    acc
}

/// Dot products of `a_row` with B columns `j..j + N` of a `[K, N]` B.
#[inline(always)]
fn dots_kn<const N: usize>(a_row: &[f32], b: &[f32], j: usize, n: usize) -> [f32; N] {
    let mut acc = [0.0; N];
    for (&av, b_row) in a_row.iter().zip(b.chunks_exact(n)) {
        let bv = &b_row[j..j + N];
        for c in 0..N {
            acc[c] += av * bv[c];
        }
    }
    acc
}

/// Transposed A (`[K, M]`): the plain loops, reading A with stride M.
fn gemm_strided_a(
    p: &Gemm,
    a: &[f32],
    b: &[f32],
    y: &mut [f32],
    cols: Range<usize>,
    finish: impl Fn(usize, usize, f32) -> f32,
) {
    for (i, y_row) in y.chunks_exact_mut(p.n).take(p.m).enumerate() {
        for j in cols.clone() {
            let mut sum = 0.0;
            for q in 0..p.k {
                let bv = match p.b_layout {
                    BLayout::NK => b[j * p.k + q],
                    BLayout::KN => b[q * p.n + j],
                };
                sum += a[q * p.m + i] * bv;
            }
            y_row[j] = finish(i, j, sum);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic values in [-1, 1).
    fn values<const N: usize>(seed: u32) -> [f32; N] {
        let mut s = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
        core::array::from_fn(|_| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            (s % 2000) as f32 / 1000.0 - 1.0
        })
    }

    /// y = A·B, A `[m, k]`, B `[k, n]`, by definition.
    fn reference(m: usize, n: usize, k: usize, a: &[f32], b: &[f32], y: &mut [f32]) {
        for i in 0..m {
            for j in 0..n {
                y[i * n + j] = (0..k).map(|q| a[i * k + q] * b[q * n + j]).sum();
            }
        }
    }

    fn transpose(rows: usize, cols: usize, x: &[f32], y: &mut [f32]) {
        for r in 0..rows {
            for c in 0..cols {
                y[c * rows + r] = x[r * cols + c];
            }
        }
    }

    #[test]
    fn all_layouts_match_the_definition_on_odd_sizes() {
        const M: usize = 3;
        const N: usize = 7; // one block of 4 and a rest of 3
        const K: usize = 5;
        let a = values::<{ M * K }>(1);
        let b = values::<{ K * N }>(2);
        let mut want = [0.0; M * N];
        reference(M, N, K, &a, &b, &mut want);
        let (mut at, mut bt) = ([0.0; M * K], [0.0; K * N]);
        transpose(M, K, &a, &mut at);
        transpose(K, N, &b, &mut bt);
        for trans_a in [false, true] {
            for layout in [BLayout::KN, BLayout::NK] {
                let p = Gemm {
                    m: M,
                    n: N,
                    k: K,
                    trans_a,
                    b_layout: layout,
                    alpha: 1.0,
                    beta: 1.0,
                };
                let a_in = if trans_a { &at } else { &a };
                let b_in = if layout == BLayout::NK { &bt } else { &b };
                let mut y = [0.0; M * N];
                gemm(&p, a_in, b_in, None, &mut y, 0..N, Act::None);
                for (g, w) in y.iter().zip(&want) {
                    assert!((g - w).abs() < 1e-6, "{trans_a} {layout:?}: {g} vs {w}");
                }
            }
        }
    }

    #[test]
    fn bias_broadcast_alpha_beta_activation_and_column_range() {
        // A = I(2), B (KN) = [[1, -2, 3], [-4, 5, -6]]; C broadcast along rows: [10, 20, 30].
        let a = [1.0, 0.0, 0.0, 1.0];
        let b = [1.0, -2.0, 3.0, -4.0, 5.0, -6.0];
        let c = [10.0, 20.0, 30.0];
        let p = Gemm {
            m: 2,
            n: 3,
            k: 2,
            trans_a: false,
            b_layout: BLayout::KN,
            alpha: 2.0,
            beta: 0.5,
        };
        let bias = Bias {
            row_stride: 0,
            col_stride: 1,
        };
        let mut y = [f32::NAN; 6];
        gemm(&p, &a, &b, Some((&c, bias)), &mut y, 1..3, Act::Relu);
        // Column 0 is outside the range and stays untouched.
        assert!(y[0].is_nan() && y[3].is_nan());
        assert_eq!([y[1], y[2], y[4], y[5]], [6.0, 21.0, 20.0, 3.0]);
        // C per row ([2, 1]): row_stride 1, col_stride 0.
        let bias = Bias {
            row_stride: 1,
            col_stride: 0,
        };
        gemm(&p, &a, &b, Some((&c[..2], bias)), &mut y, 0..3, Act::None);
        assert_eq!(y, [7.0, 1.0, 11.0, 2.0, 20.0, -2.0]);
    }

    #[test]
    fn matmul_broadcasts_batch_dims() {
        // A [2, 1, 2, 3] x B [3, 3, 2] (B broadcast over the first dim, A over the second).
        const M: usize = 2;
        const K: usize = 3;
        const N: usize = 2;
        let a = values::<{ 2 * M * K }>(3);
        let b = values::<{ 3 * K * N }>(4);
        let p = MatMul {
            batch: [2, 3, 1, 1],
            a_strides: [1, 0, 0, 0],
            b_strides: [0, 1, 0, 0],
            m: M,
            n: N,
            k: K,
        };
        let mut y = [0.0; 6 * M * N];
        matmul(&p, &a, &b, &mut y, 0..N, Act::None);
        for (t, ym) in y.chunks_exact(M * N).enumerate() {
            let (ai, bi) = (t / 3, t % 3);
            let mut want = [0.0; M * N];
            reference(
                M,
                N,
                K,
                &a[ai * M * K..][..M * K],
                &b[bi * K * N..][..K * N],
                &mut want,
            );
            assert_eq!(ym, want);
        }
    }
}

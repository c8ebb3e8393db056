//! 8-bit matrix products for the model's linear layers, on CPUs with AVX-512 VNNI.
//!
//! Each weight row (an output) is quantized once, symmetrically, to `i8` with its own scale.
//! Each input row (a position) is quantized when it arrives, in blocks of [`BLOCK`] values with a
//! scale each (the inputs of a layer have a few large channels; one scale for the whole row
//! would leave the others a handful of steps), and shifted by 128 to `u8`, since `vpdpbusd`
//! multiplies unsigned by signed bytes. The product of row `m` and weight row `n` is then
//! `sw[n] · Σ_b sx[m][b] · (Σ_{k∈b} ux·w − 128 · Σ_{k∈b} w)`, each block's sum exact in `i32`.
//! One instruction takes 64 byte products where an f32 FMA takes 16, and the weights take a
//! quarter of the memory.
//!
//! The weights are stored in panels of 16 outputs: four consecutive inputs of each of the 16
//! rows side by side (64 bytes, one register), then the next four. A tile of up to 6 positions ×
//! 32 outputs keeps its 12 integer and 12 float accumulators in registers over the whole input
//! length, reading one broadcast per position and two weight registers per four inputs.
//!
//! Where the CPU lacks the instructions, [`Int8Matrix::new`] returns `None` and the caller keeps
//! its f32 product.

/// Outputs per panel (lanes of a 512-bit register of `i32`).
const LANES: usize = 16;
/// Inputs per scale of an input row.
const BLOCK: usize = 64;
/// Positions per register tile.
const TILE_ROWS: usize = 6;
/// Multiply-adds above which a product is split across rayon's threads.
const PARALLEL_WORK: usize = 1 << 22;

/// A weight matrix `(n, k)` (row `n` is output `n`'s weights over `k` inputs), quantized and
/// packed for [`Int8Matrix::matmul`].
pub(crate) struct Int8Matrix {
    n: usize,
    k: usize,
    /// `n / 16` panels of `16 · k` bytes.
    panels: Vec<i8>,
    /// Per output: its weights' scale.
    scale: Vec<f32>,
    /// Per block of inputs, per output (`k / BLOCK` rows of `n`): 128 × the sum of the block's
    /// quantized weights, what the `u8` shift adds to the block's sum.
    shift: Vec<i32>,
}

/// Whether this CPU runs the kernel.
pub(crate) fn supported() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        is_x86_feature_detected!("avx512f")
            && is_x86_feature_detected!("avx512bw")
            && is_x86_feature_detected!("avx512vnni")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Symmetric quantization of `row`: the scale and the rounded values in −127..=127.
fn quantize_row(row: &[f32], out: &mut [i8]) -> f32 {
    let scale = row_scale(row);
    let inv = 1.0 / scale;
    for (o, v) in out.iter_mut().zip(row) {
        *o = round_even(v * inv).clamp(-127.0, 127.0) as i8;
    }
    scale
}

/// `x` rounded to the nearest integer, halves to even, for `|x| < 2²²`: adding and taking away
/// 1.5 · 2²³ leaves no fraction bits. Plain arithmetic that vectorizes, where `f32::round` is a
/// library call per value on baseline x86-64 (quantizing the model's weights at load took a
/// third of a second with it); and the rounding `vcvtps2dq` does in the vector paths.
#[inline]
fn round_even(x: f32) -> f32 {
    const MAGIC: f32 = 12_582_912.0;
    (x + MAGIC) - MAGIC
}

impl Int8Matrix {
    /// Quantizes `w` (`n × k`, row-major). `None` when the CPU lacks AVX-512 VNNI or the shape
    /// does not fit the panels and blocks (`n` a multiple of 16, `k` of 64).
    pub(crate) fn new(w: &[f32], n: usize, k: usize) -> Option<Int8Matrix> {
        if !supported()
            || !n.is_multiple_of(LANES)
            || !k.is_multiple_of(BLOCK)
            || k == 0
            || w.len() != n * k
        {
            return None;
        }
        let mut panels = vec![0i8; n * k];
        let mut scale = Vec::with_capacity(n);
        let mut shift = vec![0i32; k / BLOCK * n];
        let mut q = vec![0i8; k];
        for (row, weights) in w.chunks_exact(k).enumerate() {
            scale.push(quantize_row(weights, &mut q));
            for (b, block) in q.chunks_exact(BLOCK).enumerate() {
                shift[b * n + row] = 128 * block.iter().map(|&v| i32::from(v)).sum::<i32>();
            }
            let panel = &mut panels[(row / LANES) * LANES * k..][..LANES * k];
            let lane = row % LANES;
            for (step, four) in q.chunks_exact(4).enumerate() {
                panel[step * 4 * LANES + lane * 4..][..4].copy_from_slice(four);
            }
        }
        Some(Int8Matrix {
            n,
            k,
            panels,
            scale,
            shift,
        })
    }

    /// Outputs (rows of the weight matrix).
    pub(crate) fn rows(&self) -> usize {
        self.n
    }

    /// `x · wᵀ` for the quantized rows `x` (`m × k`): `m × n` values, row-major.
    pub(crate) fn times(&self, x: &Rows) -> Vec<f32> {
        let mut out = vec![0f32; x.m * self.n];
        self.matmul(x, &mut out);
        out
    }

    /// `x · wᵀ` for the quantized rows `x` (`m × k`) into `out` (`m × n`, row-major).
    pub(crate) fn matmul(&self, x: &Rows, out: &mut [f32]) {
        let (m, n, k) = (x.m, self.n, self.k);
        assert_eq!(x.k, k, "rows of {} inputs for a matrix of {k}", x.k);
        assert_eq!(
            out.len(),
            m * n,
            "output of {} values for {m} × {n}",
            out.len()
        );
        if m == 0 {
            return;
        }
        let panels = n / LANES;
        let out_ptr = SendPtr(out.as_mut_ptr());
        let run = |from: usize, to: usize| {
            // SAFETY: `supported()` held when `self` was built; the panel range `from..to` is
            // this call's alone, so the output columns it writes are disjoint from every other
            // call's, and `out` outlives the calls (they finish before `matmul` returns).
            unsafe { self.panels_into(x, from, to, out_ptr) }
        };
        if m * n * k >= PARALLEL_WORK && rayon::current_num_threads() > 1 {
            let threads = rayon::current_num_threads().min(panels / 2).max(1);
            // Pairs of panels per thread, rounded up.
            let per = panels.div_ceil(threads).div_ceil(2) * 2;
            rayon::scope(|s| {
                for from in (0..panels).step_by(per) {
                    let to = (from + per).min(panels);
                    let run = &run;
                    s.spawn(move |_| run(from, to));
                }
            });
        } else {
            run(0, panels);
        }
    }

    /// Panels `from..to` of every row into `out`.
    ///
    /// # Safety
    /// The CPU has AVX-512 F, BW and VNNI; `out` points to `m × n` floats, of which no other
    /// thread writes the columns of these panels while this runs.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    unsafe fn panels_into(&self, x: &Rows, from: usize, to: usize, out: SendPtr) {
        let m = x.m;
        let mut p = from;
        while p < to {
            let two = p + 1 < to;
            let mut r = 0;
            while r < m {
                let rows = (m - r).min(TILE_ROWS);
                // SAFETY: as this function's; `r + rows <= m` and panel `p` (and `p + 1` when
                // `two`) are below `to`.
                unsafe {
                    match (rows, two) {
                        (6, true) => self.tile::<6, 2>(x, r, p, out),
                        (6, false) => self.tile::<6, 1>(x, r, p, out),
                        (5, true) => self.tile::<5, 2>(x, r, p, out),
                        (5, false) => self.tile::<5, 1>(x, r, p, out),
                        (4, true) => self.tile::<4, 2>(x, r, p, out),
                        (4, false) => self.tile::<4, 1>(x, r, p, out),
                        (3, true) => self.tile::<3, 2>(x, r, p, out),
                        (3, false) => self.tile::<3, 1>(x, r, p, out),
                        (2, true) => self.tile::<2, 2>(x, r, p, out),
                        (2, false) => self.tile::<2, 1>(x, r, p, out),
                        (_, true) => self.tile::<1, 2>(x, r, p, out),
                        (_, false) => self.tile::<1, 1>(x, r, p, out),
                    }
                }
                r += rows;
            }
            p += if two { 2 } else { 1 };
        }
    }

    #[cfg(not(target_arch = "x86_64"))]
    unsafe fn panels_into(&self, _: &Rows, _: usize, _: usize, _: SendPtr) {
        unreachable!("Int8Matrix::new returns None off x86_64")
    }

    /// Rows `r..r + R` × panels `p..p + P` (16 outputs each): each block of inputs summed in
    /// integer registers, then scaled into float ones, and the total scaled into `out`.
    ///
    /// # Safety
    /// As [`Int8Matrix::panels_into`], and `r + R <= m`, panel `p + P - 1` exists.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    #[inline]
    unsafe fn tile<const R: usize, const P: usize>(
        &self,
        x: &Rows,
        r: usize,
        p: usize,
        out: SendPtr,
    ) {
        use std::arch::x86_64::*;
        let (n, k) = (self.n, self.k);
        let blocks = k / BLOCK;
        let mut total = [[_mm512_setzero_ps(); P]; R];
        let ux = x.bytes.as_ptr().add(r * k);
        let sx = x.scale.as_ptr().add(r * blocks);
        let w = self.panels.as_ptr().add(p * LANES * k);
        for b in 0..blocks {
            let mut acc = [[_mm512_setzero_si512(); P]; R];
            for step in b * BLOCK / 4..(b + 1) * BLOCK / 4 {
                let mut ws = [_mm512_setzero_si512(); P];
                for (j, wj) in ws.iter_mut().enumerate() {
                    *wj = _mm512_loadu_si512(w.add(j * LANES * k + step * 4 * LANES).cast());
                }
                for (i, row) in acc.iter_mut().enumerate() {
                    let four = ux.add(i * k + step * 4).cast::<i32>().read_unaligned();
                    let v = _mm512_set1_epi32(four);
                    for (a, wj) in row.iter_mut().zip(&ws) {
                        *a = _mm512_dpbusd_epi32(*a, v, *wj);
                    }
                }
            }
            let mut shifts = [_mm512_setzero_si512(); P];
            for (j, s) in shifts.iter_mut().enumerate() {
                *s = _mm512_loadu_si512(self.shift.as_ptr().add(b * n + (p + j) * LANES).cast());
            }
            for (i, (row, t)) in acc.iter().zip(total.iter_mut()).enumerate() {
                let s = _mm512_set1_ps(*sx.add(i * blocks + b));
                for ((a, t), shift) in row.iter().zip(t.iter_mut()).zip(&shifts) {
                    let v = _mm512_cvtepi32_ps(_mm512_sub_epi32(*a, *shift));
                    *t = _mm512_fmadd_ps(v, s, *t);
                }
            }
        }
        for (i, row) in total.iter().enumerate() {
            for (j, t) in row.iter().enumerate() {
                let col = (p + j) * LANES;
                let scale = _mm512_loadu_ps(self.scale.as_ptr().add(col));
                _mm512_storeu_ps(out.0.add((r + i) * n + col), _mm512_mul_ps(*t, scale));
            }
        }
    }
}

/// Input rows `(m, k)` quantized for [`Int8Matrix::matmul`]: each block of [`BLOCK`] values of a
/// row as `u8 = round(v / scale) + 128` with the block's own scale. One input feeds every matrix
/// that reads it (the query, key and value projections share theirs).
pub(crate) struct Rows {
    m: usize,
    k: usize,
    bytes: Vec<u8>,
    /// `m` rows of `k / BLOCK` scales.
    scale: Vec<f32>,
}

impl Rows {
    /// Quantizes `x` (`m × k`, row-major; `k` a multiple of [`BLOCK`]).
    pub(crate) fn new(x: &[f32], k: usize) -> Rows {
        assert!(
            k > 0 && k.is_multiple_of(BLOCK) && x.len().is_multiple_of(k),
            "{} values in rows of {k}",
            x.len()
        );
        let m = x.len() / k;
        let mut bytes = vec![0u8; m * k];
        let mut scale = Vec::with_capacity(m * k / BLOCK);
        for (block, dst) in x.chunks_exact(BLOCK).zip(bytes.chunks_exact_mut(BLOCK)) {
            #[cfg(target_arch = "x86_64")]
            if supported() {
                // SAFETY: the CPU has AVX-512 F and BW; `dst` and `block` have BLOCK elements.
                scale.push(unsafe { quantize_shifted_avx512(block, dst) });
                continue;
            }
            scale.push(quantize_shifted(block, dst));
        }
        Rows { m, k, bytes, scale }
    }
}

/// The scale of `block` and its values as `round(v / scale) + 128`.
fn quantize_shifted(block: &[f32], out: &mut [u8]) -> f32 {
    let scale = row_scale(block);
    let inv = 1.0 / scale;
    for (o, v) in out.iter_mut().zip(block) {
        *o = (round_even(v * inv).clamp(-127.0, 127.0) as i16 + 128) as u8;
    }
    scale
}

/// [`quantize_shifted`] 16 values at a time.
///
/// # Safety
/// The CPU has AVX-512 F and BW; `block` and `out` hold [`BLOCK`] values.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw")]
unsafe fn quantize_shifted_avx512(block: &[f32], out: &mut [u8]) -> f32 {
    use std::arch::x86_64::*;
    let mut max = _mm512_setzero_ps();
    for at in (0..BLOCK).step_by(LANES) {
        max = _mm512_max_ps(max, _mm512_abs_ps(_mm512_loadu_ps(block.as_ptr().add(at))));
    }
    let scale = scale_for(_mm512_reduce_max_ps(max));
    let inv = _mm512_set1_ps(1.0 / scale);
    let (lo, hi, shift) = (
        _mm512_set1_epi32(-127),
        _mm512_set1_epi32(127),
        _mm512_set1_epi32(128),
    );
    for at in (0..BLOCK).step_by(LANES) {
        let v = _mm512_mul_ps(_mm512_loadu_ps(block.as_ptr().add(at)), inv);
        let q = _mm512_min_epi32(_mm512_max_epi32(_mm512_cvtps_epi32(v), lo), hi);
        let b = _mm512_cvtepi32_epi8(_mm512_add_epi32(q, shift));
        _mm_storeu_si128(out.as_mut_ptr().add(at).cast(), b);
    }
    scale
}

/// The symmetric scale of `row`: its largest magnitude over 127 (1 for zeros, or if not finite).
fn row_scale(row: &[f32]) -> f32 {
    scale_for(row.iter().fold(0f32, |m, v| m.max(v.abs())))
}

/// The symmetric scale of values whose largest magnitude is `max`: `max` over 127 (1 for zeros,
/// or if not finite).
fn scale_for(max: f32) -> f32 {
    if max > 0.0 && max.is_finite() {
        max / 127.0
    } else {
        1.0
    }
}

/// `ln Σ exp(v)` over `row` (the log-softmax's normaliser), 16 exponentials at a time where
/// the CPU has AVX-512.
pub(crate) fn ln_sum_exp(row: &[f32]) -> f32 {
    let max = row.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
    if !max.is_finite() {
        return max;
    }
    #[cfg(target_arch = "x86_64")]
    if supported() {
        // SAFETY: the CPU has AVX-512 F.
        return max + unsafe { sum_exp_avx512(row, max) }.ln();
    }
    max + row.iter().map(|&v| (v - max).exp()).sum::<f32>().ln()
}

/// `silu(g) · u` elementwise into `g` (the gated unit of the model's MLP).
pub(crate) fn silu_times(g: &mut [f32], u: &[f32]) {
    assert_eq!(g.len(), u.len());
    #[cfg(target_arch = "x86_64")]
    if supported() {
        // SAFETY: the CPU has AVX-512 F; the slices have equal lengths.
        unsafe { silu_times_avx512(g, u) };
        return;
    }
    for (g, &u) in g.iter_mut().zip(u) {
        *g = *g / (1.0 + (-*g).exp()) * u;
    }
}

/// `exp(x)` for 16 values: `2^n · p(r)` with `x = n·ln 2 + r`, `|r| ≤ ln 2 / 2`, `p` the degree-6
/// Taylor polynomial (relative error below 2·10⁻⁷); 0 below −88, ∞ above 88.
///
/// # Safety
/// The CPU has AVX-512 F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
#[inline]
unsafe fn exp16(x: std::arch::x86_64::__m512) -> std::arch::x86_64::__m512 {
    use std::arch::x86_64::*;
    let x = _mm512_max_ps(
        _mm512_min_ps(x, _mm512_set1_ps(88.0)),
        _mm512_set1_ps(-88.0),
    );
    let n = _mm512_roundscale_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(
        _mm512_mul_ps(x, _mm512_set1_ps(std::f32::consts::LOG2_E)),
    );
    let r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693_145_75), x);
    let r = _mm512_fnmadd_ps(n, _mm512_set1_ps(1.428_606_8e-6), r);
    let mut p = _mm512_set1_ps(1.0 / 720.0);
    for c in [1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0, 1.0] {
        p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(c));
    }
    _mm512_scalef_ps(p, n)
}

/// `Σ exp(v − max)` over `row`.
///
/// # Safety
/// The CPU has AVX-512 F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn sum_exp_avx512(row: &[f32], max: f32) -> f32 {
    use std::arch::x86_64::*;
    let m = _mm512_set1_ps(max);
    let mut sum = _mm512_setzero_ps();
    let mut chunks = row.chunks_exact(LANES);
    for c in &mut chunks {
        sum = _mm512_add_ps(sum, exp16(_mm512_sub_ps(_mm512_loadu_ps(c.as_ptr()), m)));
    }
    _mm512_reduce_add_ps(sum)
        + chunks
            .remainder()
            .iter()
            .map(|&v| (v - max).exp())
            .sum::<f32>()
}

/// [`silu_times`] 16 values at a time.
///
/// # Safety
/// The CPU has AVX-512 F, and `g` and `u` have equal lengths.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn silu_times_avx512(g: &mut [f32], u: &[f32]) {
    use std::arch::x86_64::*;
    let whole = g.len() / LANES * LANES;
    let one = _mm512_set1_ps(1.0);
    for at in (0..whole).step_by(LANES) {
        let x = _mm512_loadu_ps(g.as_ptr().add(at));
        let e = exp16(_mm512_sub_ps(_mm512_setzero_ps(), x));
        let v = _mm512_mul_ps(
            _mm512_div_ps(x, _mm512_add_ps(one, e)),
            _mm512_loadu_ps(u.as_ptr().add(at)),
        );
        _mm512_storeu_ps(g.as_mut_ptr().add(at), v);
    }
    for (g, &u) in g[whole..].iter_mut().zip(&u[whole..]) {
        *g = *g / (1.0 + (-*g).exp()) * u;
    }
}

/// The output pointer, shared by threads that write disjoint columns.
#[derive(Clone, Copy)]
struct SendPtr(*mut f32);
// SAFETY: only `Int8Matrix::matmul` makes one, and its threads write disjoint elements.
unsafe impl Send for SendPtr {}
// SAFETY: as above.
unsafe impl Sync for SendPtr {}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic pseudo-random matrix in −1..1.
    fn matrix(rows: usize, cols: usize, seed: u64) -> Vec<f32> {
        let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..rows * cols)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (s >> 40) as f32 / (1u64 << 23) as f32 - 1.0
            })
            .collect()
    }

    fn reference(x: &[f32], w: &[f32], m: usize, n: usize, k: usize) -> Vec<f32> {
        let mut out = vec![0f32; m * n];
        for i in 0..m {
            for j in 0..n {
                out[i * n + j] = (0..k).map(|t| x[i * k + t] * w[j * k + t]).sum();
            }
        }
        out
    }

    #[test]
    fn products_match_f32_to_quantization_error_for_every_tile_shape() {
        if !supported() {
            eprintln!("skipped: this CPU has no AVX-512 VNNI");
            return;
        }
        // Rows 1..=17 cover every tile height and remainders; 48 and 80 outputs end on a single
        // panel; 576 and 1536 inputs are the model's.
        for (m, n, k) in [
            (1, 16, 64),
            (3, 48, 128),
            (6, 32, 64),
            (17, 48, 576),
            (13, 80, 1536),
        ] {
            let x = matrix(m, k, (m * 7 + n) as u64);
            let w = matrix(n, k, (n * 3 + k) as u64);
            let q = Int8Matrix::new(&w, n, k).expect("shape fits the panels");
            let mut out = vec![f32::NAN; m * n];
            q.matmul(&Rows::new(&x, k), &mut out);
            let want = reference(&x, &w, m, n, k);
            // Each product's error is at most half a step of each operand, summed over `k`.
            let bound = k as f32 * (1.0 / 127.0) * 1.01;
            for (i, (got, want)) in out.iter().zip(&want).enumerate() {
                assert!(
                    (got - want).abs() <= bound,
                    "{m}×{n}×{k} at {i}: {got} against {want} (bound {bound})"
                );
            }
            // Far tighter on the whole than the bound: the rounding errors cancel.
            let rms = (out
                .iter()
                .zip(&want)
                .map(|(a, b)| (a - b).powi(2))
                .sum::<f32>()
                / want.len() as f32)
                .sqrt();
            assert!(
                rms < 0.02 * (k as f32).sqrt() / 4.0,
                "{m}×{n}×{k}: rms {rms}"
            );
        }
    }

    #[test]
    fn integer_products_are_exact() {
        if !supported() {
            return;
        }
        // Values that quantize without rounding: every scale is 1 (each block of inputs and each
        // weight row reaches 127), so the product is the exact integer one, shifts included.
        let (m, n, k) = (7, 48, 128);
        let x: Vec<f32> = (0..m * k)
            .map(|i| ((i * 37) % 255) as f32 - 127.0)
            .collect();
        let mut w: Vec<f32> = (0..n * k)
            .map(|i| ((i * 91) % 255) as f32 - 127.0)
            .collect();
        for row in w.chunks_exact_mut(k) {
            row[0] = 127.0;
        }
        let mut x = x;
        for block in x.chunks_exact_mut(BLOCK) {
            block[0] = -127.0;
        }
        let q = Int8Matrix::new(&w, n, k).unwrap();
        let mut out = vec![0f32; m * n];
        q.matmul(&Rows::new(&x, k), &mut out);
        assert_eq!(out, reference(&x, &w, m, n, k));
    }

    #[test]
    fn vector_exponentials_match_the_scalar_ones() {
        let row: Vec<f32> = (0..1000)
            .map(|i| (i as f32 * 0.37).sin() * 40.0 - 5.0)
            .collect();
        let want = {
            let max = row.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v)) as f64;
            max + row
                .iter()
                .map(|&v| (v as f64 - max).exp())
                .sum::<f64>()
                .ln()
        };
        let got = ln_sum_exp(&row) as f64;
        assert!(
            (got - want).abs() < 1e-5 * want.abs(),
            "{got} against {want}"
        );
        assert_eq!(ln_sum_exp(&[f32::NEG_INFINITY; 3]), f32::NEG_INFINITY);
        assert_eq!(ln_sum_exp(&[]), f32::NEG_INFINITY);
        // Every lane and the tail: 37 values from −100 (flushed to 0) to +100 (saturated).
        let g: Vec<f32> = (0..37).map(|i| i as f32 * 200.0 / 36.0 - 100.0).collect();
        let u: Vec<f32> = (0..37).map(|i| 1.0 + i as f32 / 10.0).collect();
        let mut got = g.clone();
        silu_times(&mut got, &u);
        for ((x, y), got) in g.iter().zip(&u).zip(&got) {
            let want = (*x as f64) / (1.0 + (-*x as f64).exp()) * *y as f64;
            assert!(
                (*got as f64 - want).abs() <= 1e-6 * want.abs().max(1.0),
                "silu({x}) · {y}: {got} against {want}"
            );
        }
    }

    #[test]
    fn shapes_the_panels_cannot_hold_are_refused() {
        assert!(Int8Matrix::new(&[0.0; 15 * 64], 15, 64).is_none());
        assert!(Int8Matrix::new(&[0.0; 16 * 96], 16, 96).is_none());
        assert!(Int8Matrix::new(&[0.0; 16 * 64], 16, 128).is_none());
    }
}

//! LayerNormalization (rows of `len` normalized together) and InstanceNormalization (one plane
//! per batch item and channel). Mean, then variance of the centred values (two passes).

use core::ops::Range;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LayerNorm {
    /// Elements normalized together (the dimensions from `axis` on).
    pub len: usize,
    pub epsilon: f32,
}

/// Mean and 1 / sqrt(variance + epsilon) of `x`.
#[inline(always)]
fn moments(x: &[f32], epsilon: f32) -> (f32, f32) {
    let n = x.len() as f32;
    let mean = x.iter().sum::<f32>() / n;
    let var = x.iter().map(|&v| (v - mean) * (v - mean)).sum::<f32>() / n;
    (mean, 1.0 / libm::sqrtf(var + epsilon))
}

/// Rows `rows`. `scale` and `bias` cover the last `scale.len()` / `bias.len()` elements of a
/// row and repeat (broadcast) over the rest; `mean` and `inv_std` get one value per row.
#[allow(clippy::too_many_arguments)]
#[inline]
pub fn layer_norm(
    p: &LayerNorm,
    x: &[f32],
    scale: &[f32],
    bias: Option<&[f32]>,
    y: &mut [f32],
    mut mean: Option<&mut [f32]>,
    mut inv_std: Option<&mut [f32]>,
    rows: Range<usize>,
) {
    for r in rows {
        let xr = &x[r * p.len..(r + 1) * p.len];
        let yr = &mut y[r * p.len..(r + 1) * p.len];
        let (mu, inv) = moments(xr, p.epsilon);
        for (yv, (&xv, &s)) in yr.iter_mut().zip(xr.iter().zip(scale.iter().cycle())) {
            *yv = (xv - mu) * inv * s;
        }
        if let Some(b) = bias {
            for (yv, &bv) in yr.iter_mut().zip(b.iter().cycle()) {
                *yv += bv;
            }
        }
        if let Some(m) = mean.as_deref_mut() {
            m[r] = mu;
        }
        if let Some(s) = inv_std.as_deref_mut() {
            s[r] = inv;
        }
    }
}

/// Planes `planes` of `plane_len` elements; plane `k` is channel `k % channels`.
#[allow(clippy::too_many_arguments)]
#[inline]
pub fn instance_norm(
    plane_len: usize,
    channels: usize,
    epsilon: f32,
    x: &[f32],
    scale: &[f32],
    bias: &[f32],
    y: &mut [f32],
    planes: Range<usize>,
) {
    for k in planes {
        let xp = &x[k * plane_len..(k + 1) * plane_len];
        let yp = &mut y[k * plane_len..(k + 1) * plane_len];
        let (mu, inv) = moments(xp, epsilon);
        let (s, b) = (scale[k % channels] * inv, bias[k % channels]);
        for (yv, &xv) in yp.iter_mut().zip(xp) {
            *yv = (xv - mu) * s + b;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layer_norm_broadcasts_scale_and_writes_statistics() {
        // Rows of 4 = [2, 2] normalized; scale [2] and bias [1] repeat.
        let x = [1.0, 2.0, 3.0, 4.0, 0.0, 0.0, 0.0, 8.0];
        let p = LayerNorm {
            len: 4,
            epsilon: 0.0,
        };
        let (mut y, mut mean, mut inv) = ([0.0; 8], [0.0; 2], [0.0; 2]);
        let scale = [1.0, 2.0];
        layer_norm(
            &p,
            &x,
            &scale,
            Some(&[0.5]),
            &mut y,
            Some(&mut mean),
            Some(&mut inv),
            0..2,
        );
        assert_eq!(mean, [2.5, 2.0]);
        // Row 0: variance 1.25; row 1: variance (3 * 4 + 36) / 4 = 12.
        let (i0, i1) = (1.0 / 1.25f32.sqrt(), 1.0 / 12f32.sqrt());
        assert_eq!(inv, [i0, i1]);
        let want = [-1.5 * i0 + 0.5, -i0 + 0.5, 0.5 * i0 + 0.5, 3.0 * i0 + 0.5];
        assert!(
            y[..4].iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-6),
            "{y:?}"
        );
        assert!((y[7] - (12.0 * i1 + 0.5)).abs() < 1e-6);
    }

    #[test]
    fn instance_norm_uses_each_planes_channel() {
        let x = [1.0, 3.0, 5.0, 7.0, 0.0, 2.0];
        let mut y = [f32::NAN; 6];
        instance_norm(2, 2, 0.0, &x, &[2.0, 3.0], &[1.0, -1.0], &mut y, 1..3);
        assert!(y[0].is_nan() && y[1].is_nan());
        // Both planes have variance 1: plane 1 is channel 1, plane 2 channel 0.
        assert_eq!(&y[2..], [-4.0, 2.0, -1.0, 3.0]);
    }
}

//! Elementwise unary f32 functions, applied by `map` / `map_inplace`.

#[inline(always)]
pub fn map(x: &[f32], y: &mut [f32], f: impl Fn(f32) -> f32) {
    for (y, &x) in y.iter_mut().zip(x) {
        *y = f(x);
    }
}

#[inline(always)]
pub fn map_inplace(y: &mut [f32], f: impl Fn(f32) -> f32) {
    for v in y.iter_mut() {
        *v = f(*v);
    }
}

#[inline(always)]
pub fn relu(x: f32) -> f32 {
    if x > 0.0 {
        x
    } else {
        0.0
    }
}

#[inline(always)]
pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + libm::expf(-x))
}

#[inline(always)]
pub fn tanh(x: f32) -> f32 {
    libm::tanhf(x)
}

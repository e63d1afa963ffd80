//! Activations fused into the producing op's output loop.

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Act {
    None,
    Relu,
    Clip { low: f32, high: f32 },
    Sigmoid,
}

impl Act {
    #[inline(always)]
    pub fn apply(self, x: f32) -> f32 {
        match self {
            Act::None => x,
            Act::Relu => {
                if x > 0.0 {
                    x
                } else {
                    0.0
                }
            }
            Act::Clip { low, high } => x.max(low).min(high),
            Act::Sigmoid => 1.0 / (1.0 + libm::expf(-x)),
        }
    }
}

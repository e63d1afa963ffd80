//! Activations fused into the producing op's output loop.

use super::unary;

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
            Act::Relu => unary::relu(x),
            Act::Clip { low, high } => x.max(low).min(high),
            Act::Sigmoid => unary::sigmoid(x),
        }
    }
}

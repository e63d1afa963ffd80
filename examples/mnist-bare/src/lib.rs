//! MNIST digit classifier. The model declared in `ariel.toml` is compiled into a heap-free module
//! by ariel-build when the crate builds; this library works without `std`.
#![no_std]
#![forbid(unsafe_code)]

include!(concat!(env!("OUT_DIR"), "/ariel_models.rs"));

/// Working memory of one inference (`mnist::ARENA_BYTES` bytes); keep it in a static or on the stack.
pub use mnist::Arena;

/// Pixels of one image: 28 × 28, row by row.
pub const PIXELS: usize = mnist::INPUT3_LEN;
/// Number of classes (the digits 0–9).
pub const CLASSES: usize = mnist::PLUS214_OUTPUT_0_LEN;

/// The model's score for each digit, for a grey image (0 = background, 255 = ink).
pub fn scores(arena: &mut Arena, image: &[u8; PIXELS]) -> [f32; CLASSES] {
    let mut input = [0.0f32; PIXELS];
    for (x, &pixel) in input.iter_mut().zip(image) {
        *x = f32::from(pixel) / 255.0;
    }
    let mut scores = [0.0f32; CLASSES];
    mnist::run(arena, &input, &mut scores);
    scores
}

/// The digit the image shows.
pub fn predict(arena: &mut Arena, image: &[u8; PIXELS]) -> u8 {
    digit_of(&scores(arena, image))
}

/// The class with the highest score (the first one on ties).
pub fn digit_of(scores: &[f32; CLASSES]) -> u8 {
    let mut best = 0;
    for (digit, &score) in scores.iter().enumerate() {
        if score > scores[best] {
            best = digit;
        }
    }
    best as u8
}

//! Kernels called by the Rust modules that `ariel-build` generates.
//!
//! Every kernel is a plain function over slices: inputs `&[T]`, outputs `&mut [T]`, shapes and
//! attributes in a small `Params` struct. No heap, no `unsafe`, no panics for the shapes the
//! generator emits (it checks them at build time).
#![no_std]
#![forbid(unsafe_code)]

pub mod arena;
pub mod ops;

pub use arena::{cast, cast_mut, views, Aligned, Arena};
pub use ops::act::Act;

//! Kernels called by the Rust modules that `ariel-build` generates.
//!
//! Every kernel is a plain function over slices: inputs `&[T]`, outputs `&mut [T]`, shapes and
//! attributes in a small `Params` struct. No heap, no panics for the shapes the generator emits
//! (it checks them at build time), and no `unsafe` outside `sync`, the audited multicore module.
#![no_std]
#![deny(unsafe_code)]

// Only for `sync` on a host, where threads stand in for cores.
#[cfg(feature = "std")]
extern crate std;

pub mod arena;
pub mod ops;
#[allow(unsafe_code)]
pub mod sync;
pub mod yield_now;

pub use arena::{cast, cast_mut, views, Aligned, Arena};
pub use ops::act::Act;
pub use yield_now::yield_now;

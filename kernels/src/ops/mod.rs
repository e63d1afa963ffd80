//! One module per operator family; each has a reference path and, where it pays, fast paths.
pub mod act;
pub mod binary;
pub mod concat;
pub mod conv;
pub mod gather;
pub mod gemm;
pub mod int8;
pub mod layernorm;
pub mod lstm;
pub mod pad;
pub mod pool;
pub mod reduce;
pub mod resize;
pub mod softmax;
pub mod transpose;
pub mod unary;
pub mod window;

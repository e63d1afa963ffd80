//! One module per operator family; each has a reference path and, where it pays, fast paths.
pub mod act;
pub mod conv;
pub mod pad;
pub mod pool;
pub mod unary;
pub mod window;

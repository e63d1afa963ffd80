//! One module per operator family; each has a reference path and, where it pays, fast paths.
pub mod act;
pub mod unary;

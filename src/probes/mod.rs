//! Pure f64 measurements (no burn types): the probes and statistics of
//! docs/methods.md.

pub mod detector;
pub mod level;
pub mod rank;
pub mod spectrum;
pub mod stats;
pub mod theorem6;

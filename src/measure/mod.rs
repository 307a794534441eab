//! Pure f64 measurements (no burn types): SPEC §3 probes and §4 statistics.

pub mod detector;
pub mod level;
pub mod rank;
pub mod spectrum;
pub mod stats;
pub mod theorem6;
